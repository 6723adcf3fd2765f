//! The demo's error types: real `std::error::Error`s, so Pathwise records their type, message
//! and source chain.

/// PubMed refused the request: too many requests (HTTP 429).
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "PubMed rate limit exceeded (HTTP 429): {limit} requests/s allowed, retry after {retry_after_ms} ms"
)]
pub struct RateLimitError {
    pub limit: u32,
    pub retry_after_ms: u64,
}

/// ArrayExpress did not answer in time.
#[derive(Debug, Clone, thiserror::Error)]
#[error("ArrayExpress did not answer within {timeout_ms} ms")]
pub struct TimeoutError {
    pub timeout_ms: u64,
}

/// A query that cannot be searched.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ValidationError {
    #[error("query is empty")]
    Empty,
}

/// Why a search failed as a whole (a single source failing only degrades the answer).
#[derive(Debug, Clone, thiserror::Error)]
pub enum SearchError {
    #[error("invalid query: {0}")]
    Invalid(#[from] ValidationError),
    #[error("source {source_name} crashed: {message}")]
    SourceCrashed {
        source_name: &'static str,
        message: String,
    },
}

/// The product catalog could not be searched.
#[derive(Debug, thiserror::Error)]
#[error("product catalog shard {shard} unavailable")]
pub struct CatalogError {
    pub shard: u32,
    #[source]
    pub cause: std::io::Error,
}

/// A step of the competitor-selection pipeline failed.
#[derive(Debug, thiserror::Error)]
pub enum DecisionError {
    #[error("model returned malformed output: {0}")]
    MalformedLlmOutput(String),
    #[error("candidate search failed")]
    Catalog(#[from] CatalogError),
    #[error("invalid filter configuration: {0}")]
    FilterConfig(String),
    #[error("ranking failed: {0}")]
    Ranking(String),
}
