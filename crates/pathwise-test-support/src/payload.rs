//! The payload-heavy workload's values: the planning documents' search request (ten fields),
//! its 100-character query and the struct each source returns, built the same way for the
//! capture micro-benchmark and `pathwise-bench payload`.
//!
//! ```
//! let (request, query) = pathwise_test_support::payload::request(3);
//! assert_eq!(query.len(), 100);
//! let found = pathwise_test_support::payload::source_results("GEO", &request, &query);
//! assert!(!found.datasets.is_empty());
//! ```

use std::time::Instant;

use serde::Serialize;

/// The search request of the planning documents' service: ten fields.
#[derive(Clone, Debug, Serialize)]
pub struct SearchRequest {
    pub user_id: u64,
    pub session: String,
    pub filters: Vec<String>,
    pub organism: Option<String>,
    pub limit: u32,
    pub offset: u32,
    pub sort: String,
    pub locale: String,
    pub include_archived: bool,
    pub client_version: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Dataset {
    pub accession: String,
    pub source: &'static str,
    pub title: String,
    pub score: f64,
}

/// What each source and the service return.
#[derive(Clone, Debug, Serialize)]
pub struct SearchResponse {
    pub datasets: Vec<Dataset>,
    pub total: u32,
    pub took_us: u64,
    pub next_token: Option<String>,
}

/// Scores a title: real work the optimiser cannot skip (a few hundred nanoseconds).
fn score(title: &str, query: &str) -> f64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for (a, b) in title.bytes().zip(query.bytes().cycle()) {
        h = (h ^ u64::from(a ^ b)).wrapping_mul(0x100_0000_01b3);
    }
    (h % 1000) as f64 / 1000.0
}

pub fn source_results(
    source: &'static str,
    request: &SearchRequest,
    query: &str,
) -> SearchResponse {
    let started = Instant::now();
    let n = 3 + (request.user_id % 4) as usize;
    let datasets = (0..n)
        .map(|i| {
            let title = format!("{source} study {i} for {}", &query[..40]);
            Dataset {
                accession: format!(
                    "{source}-{}",
                    10_000 + (request.user_id * 7 + i as u64) % 90_000
                ),
                score: score(&title, query),
                title,
                source,
            }
        })
        .collect();
    SearchResponse {
        datasets,
        total: n as u32 * 10,
        took_us: started.elapsed().as_micros() as u64,
        next_token: (n > 4).then(|| format!("{source}:{}", request.offset + request.limit)),
    }
}

/// The `i`-th request and its 100-character query.
pub fn request(i: u64) -> (SearchRequest, String) {
    let topics = [
        "single-cell atlas human lung",
        "BRCA1 breast cancer RNA-seq",
        "CRISPR knockout screen K562",
    ];
    let topic = topics[(i % 3) as usize];
    let query = format!("{topic} {:0>width$}", i, width = 100 - topic.len() - 1);
    let request = SearchRequest {
        user_id: i % 977,
        session: format!("sess-{:08x}", i * 2_654_435_761 % (1 << 32)),
        filters: vec!["organism:human".into(), format!("year>={}", 2015 + i % 8)],
        organism: (i % 2 == 0).then(|| "Homo sapiens".into()),
        limit: 10,
        offset: (i % 5) as u32 * 10,
        sort: "relevance".into(),
        locale: "en-GB".into(),
        include_archived: i % 7 == 0,
        client_version: "pathwise-demo/1.4.2".into(),
    };
    (request, query)
}
