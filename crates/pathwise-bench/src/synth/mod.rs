//! The synthetic application behind `generate`: a fixed tree of 34 paths (a dataset search
//! service, a decision-traced competitor analysis, an ingest worker, health checks and one
//! batch job), and traces drawn from it with a deterministic generator.
//!
//! Spans are emitted children first, as the real pipeline delivers them (a span is recorded
//! when it ends), so the store's rollups see each child before its parent.

mod builder;
mod shapes;

use std::borrow::Cow;
use std::cell::Cell;

use pathwise_model::{Name, SpanKind};
use pathwise_store::{FunctionInfo, PathDictionary};

pub use builder::TraceBuilder;
pub use shapes::expected;

/// splitmix64: small, fast and the same on every platform. A `Cell`, so that a draw can be an
/// argument of a call that borrows the trace builder mutably.
pub struct Rng(Cell<u64>);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(Cell::new(seed ^ 0x5DEE_CE66_D1CE_4E5B))
    }

    pub fn next_u64(&self) -> u64 {
        let mut z = self.0.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        self.0.set(z);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn chance(&self, p: f64) -> bool {
        self.unit() < p
    }

    /// Uniform in [0, n).
    pub fn below(&self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// A count with mean `mean`: uniform over [0, 2 × mean], rounded.
    pub fn count_around(&self, mean: f64) -> u64 {
        (self.unit() * 2.0 * mean.max(0.0)).round() as u64
    }

    fn normal(&self) -> f64 {
        let u1 = self.unit().max(1e-300);
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// A log-normal duration in nanoseconds: `median_ms` × e^(σ·N(0,1)), at least 1 µs.
    pub fn ms(&self, median_ms: f64, sigma: f64) -> i64 {
        (median_ms * 1e6 * (sigma * self.normal()).exp()).max(1_000.0) as i64
    }

    /// The pause between two sibling calls: 5–50 µs.
    pub(crate) fn gap(&self) -> i64 {
        5_000 + self.below(45_000) as i64
    }
}

/// One node of the path tree: its parent path id (0 for roots), span name, kind and group.
pub struct PathDef {
    pub parent: u32,
    pub name: &'static str,
    pub kind: SpanKind,
    pub group: Option<&'static str>,
}

const fn def(
    parent: u32,
    name: &'static str,
    kind: SpanKind,
    group: Option<&'static str>,
) -> PathDef {
    PathDef {
        parent,
        name,
        kind,
        group,
    }
}

use SpanKind::{Function as F, Span as S, Step as ST, Trace as T};

/// Path ids (the index into [`PATHS`]).
mod p {
    pub const SEARCH: u32 = 1;
    pub const PARSE_QUERY: u32 = 2;
    pub const GEO: u32 = 3;
    pub const GEO_CACHE: u32 = 4;
    pub const GEO_DB: u32 = 5;
    pub const GEO_DB_SQL: u32 = 6;
    pub const CRAWL: u32 = 7;
    pub const CRAWL_ROBOTS: u32 = 8;
    pub const CRAWL_HTTP: u32 = 9;
    pub const RANK: u32 = 10;
    pub const SCORE: u32 = 11;
    pub const CACHE_PUT: u32 = 12;
    pub const COMPETITOR: u32 = 13;
    pub const FETCH: u32 = 14;
    pub const FETCH_GEO: u32 = 15;
    pub const FETCH_GEO_CACHE: u32 = 16;
    pub const FETCH_GEO_DB: u32 = 17;
    pub const FETCH_GEO_DB_SQL: u32 = 18;
    pub const FILTER: u32 = 19;
    pub const LLM_RANK: u32 = 20;
    pub const LLM: u32 = 21;
    pub const LLM_HTTP: u32 = 22;
    pub const SELECT_TOP: u32 = 23;
    pub const INGEST: u32 = 24;
    pub const S3: u32 = 25;
    pub const S3_HTTP: u32 = 26;
    pub const PARSE_RECORD: u32 = 27;
    pub const DB_INSERT: u32 = 28;
    pub const DB_INSERT_SQL: u32 = 29;
    pub const HEALTH: u32 = 30;
    pub const REINDEX: u32 = 31;
    pub const CHUNK: u32 = 32;
    pub const CHUNK_S3: u32 = 33;
    pub const UPSERT: u32 = 34;
}

/// The application's paths; index 0 is the empty path and never used.
pub static PATHS: [PathDef; 35] = [
    def(0, "", S, None),
    def(0, "SearchService.search", F, Some("search")),
    def(p::SEARCH, "QueryParser.parse", F, Some("search")),
    def(p::SEARCH, "GEOClient.search", F, Some("geo")),
    def(p::GEO, "GEOCache.get", F, Some("geo")),
    def(p::GEO, "DatasetDB.query", F, Some("db")),
    def(p::GEO_DB, "sql.execute", S, Some("db")),
    def(p::GEO, "AutoDiscovery.crawl", F, Some("geo")),
    def(p::CRAWL, "RobotsCache.check", F, Some("geo")),
    def(p::CRAWL, "http_get", S, Some("http")),
    def(p::SEARCH, "Ranker.rank", F, Some("ranking")),
    def(p::RANK, "Ranker.score", F, Some("ranking")),
    def(p::SEARCH, "ResultCache.put", F, Some("search")),
    def(0, "competitor_analysis", T, None),
    def(p::COMPETITOR, "fetch_candidates", ST, None),
    def(p::FETCH, "GEOClient.search", F, Some("geo")),
    def(p::FETCH_GEO, "GEOCache.get", F, Some("geo")),
    def(p::FETCH_GEO, "DatasetDB.query", F, Some("db")),
    def(p::FETCH_GEO_DB, "sql.execute", S, Some("db")),
    def(p::COMPETITOR, "filter_by_region", ST, None),
    def(p::COMPETITOR, "llm_rank", ST, None),
    def(p::LLM_RANK, "LLMClient.complete", F, Some("llm")),
    def(p::LLM, "http_get", S, Some("http")),
    def(p::COMPETITOR, "select_top", ST, None),
    def(0, "IngestWorker.process", F, Some("ingest")),
    def(p::INGEST, "S3.get_object", F, Some("ingest")),
    def(p::S3, "http_get", S, Some("http")),
    def(p::INGEST, "Parser.parse_record", F, Some("ingest")),
    def(p::INGEST, "DatasetDB.insert", F, Some("db")),
    def(p::DB_INSERT, "sql.execute", S, Some("db")),
    def(0, "HealthCheck.ping", F, None),
    def(0, "BatchReindex.run", F, Some("batch")),
    def(p::REINDEX, "Reindex.chunk", F, Some("batch")),
    def(p::CHUNK, "S3.get_object", F, Some("ingest")),
    def(p::CHUNK, "DatasetDB.upsert", F, Some("db")),
];

/// The pipeline-side dictionary for [`PATHS`].
pub struct Paths;

impl PathDictionary for Paths {
    fn lookup(&self, path: u32) -> Option<(u32, Name)> {
        let d = PATHS.get(path as usize).filter(|_| path != 0)?;
        Some((d.parent, Cow::Borrowed(d.name)))
    }
}

/// The `#[monitor]`ed functions of the application, including three that never run.
pub fn functions() -> Vec<FunctionInfo> {
    let mut names: Vec<(&'static str, Option<&'static str>)> = PATHS
        .iter()
        .filter(|d| d.kind == F)
        .map(|d| (d.name, d.group))
        .collect();
    names.extend([
        ("LegacyExporter.export", Some("batch")),
        ("GEOClient.search_v1", Some("geo")),
        ("Ranker.rerank_with_ml", Some("ranking")),
    ]);
    names.sort();
    names.dedup_by_key(|(n, _)| *n);
    names
        .into_iter()
        .enumerate()
        .map(|(i, (name, group))| {
            let module = name.split('.').next().unwrap_or(name).to_lowercase();
            FunctionInfo {
                name: Cow::Borrowed(name),
                group: group.map(Cow::Borrowed),
                module_path: format!("app::{module}").into(),
                file: format!("src/{module}.rs").into(),
                line: 10 + 17 * i as u32,
                is_async: true,
            }
        })
        .collect()
}
