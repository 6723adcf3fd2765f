//! Every random choice of the demo, drawn up front from seeded generators.
//!
//! Each request gets its own generator, seeded from the run's master generator in request
//! order, and draws its whole plan (query, cache tier of every source, injected failures)
//! before any work starts. Concurrency then only changes timing, never which paths are taken:
//! the same `--seed` gives the same traces, spans and errors.

use std::time::Duration;

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

/// The generator used everywhere: seeded, reproducible for a given `rand` version.
pub type DemoRng = rand::rngs::StdRng;

/// Every simulated latency is multiplied by this, so that the default run (2000 requests,
/// 16 at a time) takes 10–20 s of wall time.
pub const TIME_SCALE: f64 = 7.0;

/// A value that masking must hide: it must never appear in the database.
pub const DEMO_API_KEY: &str = "sk-demo-4f9c2b7e1a8d6035";

/// Share of requests that run the decision pipeline instead of a plain search.
const DECISION_SHARE: f64 = 0.10;
/// Share of searches whose GEO task panics (caught by the task join).
const PANIC_SHARE: f64 = 0.001;
/// PubMed answers HTTP 429 this often.
const RATE_LIMIT_SHARE: f64 = 0.03;
/// ArrayExpress times out this often.
const TIMEOUT_SHARE: f64 = 0.02;

/// A generator for request number `index` of a run seeded with `seed` (splitmix64 of both, so
/// neighbouring seeds and indices give unrelated streams).
pub fn request_rng(seed: u64, index: u64) -> DemoRng {
    let mut z = seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    DemoRng::seed_from_u64(z ^ (z >> 31))
}

/// A latency drawn uniformly from `lo_ms..hi_ms`, scaled by [`TIME_SCALE`].
pub fn latency(rng: &mut DemoRng, lo_ms: f64, hi_ms: f64) -> Duration {
    Duration::from_secs_f64(rng.random_range(lo_ms..hi_ms) * TIME_SCALE / 1000.0)
}

/// What one request does.
pub enum RequestPlan {
    /// A dataset search.
    Search(SearchPlan),
    /// A competitor-selection decision trace; it draws its own choices from this generator.
    Decision(DemoRng),
}

/// Draws request `index` of a run seeded with `seed`.
pub fn request(seed: u64, index: u64) -> RequestPlan {
    let mut rng = request_rng(seed, index);
    if rng.random_bool(DECISION_SHARE) {
        RequestPlan::Decision(rng)
    } else {
        RequestPlan::Search(search(&mut rng))
    }
}

/// Where a source finds its answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tier {
    /// In its cache (~90 %).
    Cache,
    /// In the dataset database after a cache miss (~8 %).
    Database,
    /// Nowhere: slow auto-discovery crawls the source (~2 %).
    Discovery,
}

/// Everything one source does for one search.
#[derive(Clone, Copy, Debug)]
pub struct SourcePlan {
    pub tier: Tier,
    pub cache_latency: Duration,
    pub db_latency: Duration,
    /// Latency of each crawled page.
    pub page_latency: Duration,
    /// Pages fetched by auto-discovery.
    pub pages: u32,
    /// A page whose fetch fails (retried, recorded as a failed operation).
    pub failed_page: Option<u32>,
    /// Datasets found.
    pub results: u32,
    /// Injected failure: rate limit (PubMed) or timeout (ArrayExpress).
    pub fail: bool,
    /// Latency before the failure shows.
    pub fail_latency: Duration,
    /// Injected panic (GEO only).
    pub panic: bool,
}

fn source(rng: &mut DemoRng, fail_share: f64, panic_share: f64) -> SourcePlan {
    let roll: f64 = rng.random();
    let tier = if roll < 0.90 {
        Tier::Cache
    } else if roll < 0.98 {
        Tier::Database
    } else {
        Tier::Discovery
    };
    let pages = rng.random_range(1..=3);
    SourcePlan {
        tier,
        cache_latency: latency(rng, 0.2, 1.0),
        db_latency: latency(rng, 5.0, 15.0),
        page_latency: latency(rng, 50.0 / 3.0, 50.0),
        pages,
        failed_page: rng.random_bool(0.2).then(|| rng.random_range(0..pages)),
        results: rng.random_range(0..=12),
        fail: rng.random_bool(fail_share),
        fail_latency: latency(rng, 1.0, 3.0),
        panic: rng.random_bool(panic_share),
    }
}

/// Everything one search does.
#[derive(Clone, Debug)]
pub struct SearchPlan {
    pub query: String,
    pub limit: usize,
    pub geo: SourcePlan,
    pub pubmed: SourcePlan,
    pub arrayexpress: SourcePlan,
}

/// Draws a search: the query (including edge cases) and each source's path.
pub fn search(rng: &mut DemoRng) -> SearchPlan {
    SearchPlan {
        query: query(rng),
        limit: *[10, 20, 50].choose(rng).unwrap_or(&10),
        geo: source(rng, 0.0, PANIC_SHARE),
        pubmed: source(rng, RATE_LIMIT_SHARE, 0.0),
        arrayexpress: source(rng, TIMEOUT_SHARE, 0.0),
    }
}

const QUERIES: &[&str] = &[
    "BRCA1 breast cancer RNA-seq",
    "single-cell atlas human lung",
    "Arabidopsis drought stress transcriptome",
    "CRISPR knockout screen K562",
    "infant gut microbiome 16S",
    "Alzheimer hippocampus proteomics",
    "zebrafish heart regeneration",
    "tumor microenvironment scRNA-seq melanoma",
    "COVID-19 PBMC interferon response",
    "mouse liver circadian ChIP-seq",
    "yeast heat shock time course",
    "methylation array colorectal adenoma",
];

const UNICODE_QUERIES: &[&str] = &[
    "Mäuse Leber Transkriptom",
    "肝臓 遺伝子発現 マウス",
    "атлас тканей человека",
    "🧬 genome assembly 🧪",
    "café-au-lait macules NF1",
];

/// A query: mostly ordinary, sometimes an edge case (unicode, markup, huge, empty).
fn query(rng: &mut DemoRng) -> String {
    let roll: f64 = rng.random();
    if roll < 0.01 {
        // Empty or blank: rejected by validation.
        ["", "   "].choose(rng).unwrap_or(&"").to_string()
    } else if roll < 0.03 {
        // Very long: exercises truncation of captured arguments.
        let base = QUERIES.choose(rng).unwrap_or(&QUERIES[0]);
        let mut long = String::with_capacity(5_100);
        while long.len() < 5_000 {
            long.push_str(base);
            long.push(' ');
        }
        long.truncate(5_000);
        long
    } else if roll < 0.05 {
        "<script>alert(1)</script>".to_string()
    } else if roll < 0.10 {
        UNICODE_QUERIES
            .choose(rng)
            .unwrap_or(&UNICODE_QUERIES[0])
            .to_string()
    } else {
        QUERIES.choose(rng).unwrap_or(&QUERIES[0]).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_depend_only_on_seed_and_index() {
        let describe = |plan: RequestPlan| match plan {
            RequestPlan::Search(s) => format!("{} {:?} {:?}", s.query, s.geo.tier, s.pubmed.fail),
            RequestPlan::Decision(mut rng) => format!("decision {}", rng.random::<u64>()),
        };
        for index in 0..50 {
            assert_eq!(describe(request(7, index)), describe(request(7, index)));
        }
        let a: Vec<String> = (0..50).map(|i| describe(request(7, i))).collect();
        let b: Vec<String> = (0..50).map(|i| describe(request(8, i))).collect();
        assert_ne!(a, b);
    }
}
