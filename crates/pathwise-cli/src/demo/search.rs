//! A multi-source dataset search service: `SearchService.search` fans out to GEO, PubMed and
//! ArrayExpress in parallel tasks; each source answers from its cache, the dataset database
//! or, rarely, a slow auto-discovery crawl. Cache and database work is timed as database
//! queries (`dataset_db`).

use std::time::Duration;

use pathwise::FutureExt;
use serde::Serialize;
use tokio::task::JoinError;
use tokio::time::sleep;

use super::dataset_db;
use super::errors::{RateLimitError, SearchError, TimeoutError, ValidationError};
use super::plan::{SearchPlan, SourcePlan, TIME_SCALE, Tier};

/// Longest query searched; longer ones are cut (with a warning), not rejected.
const MAX_QUERY_CHARS: usize = 1024;

/// A dataset found by a source.
#[derive(Clone, Debug, Serialize)]
pub struct Dataset {
    pub accession: String,
    pub source: &'static str,
    pub title: String,
    pub score: f64,
}

/// What a client sends: the API key must be masked wherever the request is recorded.
#[derive(Clone, Debug, Serialize)]
pub struct SearchRequest {
    pub query: String,
    pub limit: usize,
    pub api_key: String,
    pub client: &'static str,
}

/// The merged, ranked answer; sources that failed are listed as warnings.
#[derive(Clone, Debug, Serialize)]
pub struct SearchResponse {
    pub datasets: Vec<Dataset>,
    pub total: usize,
    pub warnings: Vec<String>,
}

/// The search service.
#[derive(Clone, Copy, Debug, Default)]
pub struct SearchService;

impl SearchService {
    /// Searches every source in parallel and ranks what they found. A failing source only
    /// adds a warning; an invalid query or a crashed source task fails the search.
    #[pathwise::monitor(name = "SearchService.search", group = "search", skip(plan))]
    pub async fn search(
        &self,
        request: SearchRequest,
        plan: SearchPlan,
    ) -> Result<SearchResponse, SearchError> {
        let (query, mut warnings) = validate_query(&request.query)?;
        // Spawned tasks carry the search span, so each source nests under it.
        let geo = tokio::spawn(
            GeoClient
                .search(query.clone(), plan.geo)
                .with_current_context(),
        );
        let pubmed = tokio::spawn(
            PubMedClient
                .search(query.clone(), plan.pubmed)
                .with_current_context(),
        );
        let arrayexpress = tokio::spawn(
            ArrayExpressClient
                .search(query, plan.arrayexpress)
                .with_current_context(),
        );
        let (geo, pubmed, arrayexpress) = tokio::join!(geo, pubmed, arrayexpress);
        let mut datasets = geo.map_err(|e| crashed("GEO", e))?;
        match pubmed.map_err(|e| crashed("PubMed", e))? {
            Ok(found) => datasets.extend(found),
            Err(error) => warnings.push(error.to_string()),
        }
        match arrayexpress.map_err(|e| crashed("ArrayExpress", e))? {
            Ok(found) => datasets.extend(found),
            Err(error) => warnings.push(error.to_string()),
        }
        let total = datasets.len();
        let datasets = rank_datasets(datasets, request.limit);
        Ok(SearchResponse {
            datasets,
            total,
            warnings,
        })
    }

    /// Rebuilds every source index. Never called by the demo: it shows up as "never executed".
    #[allow(dead_code, reason = "registered but never called, on purpose")]
    #[pathwise::monitor(name = "SearchService.reindex_all", group = "search")]
    pub async fn reindex_all(&self) -> usize {
        sleep(Duration::from_millis(1)).await;
        0
    }
}

/// A source task that panicked (or was cancelled), as a search error.
fn crashed(source_name: &'static str, error: JoinError) -> SearchError {
    let message = if error.is_panic() {
        let payload = error.into_panic();
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".into())
    } else {
        "task cancelled".into()
    };
    SearchError::SourceCrashed {
        source_name,
        message,
    }
}

/// Rejects blank queries and cuts very long ones.
#[pathwise::monitor(name = "QueryValidator.validate", group = "search")]
fn validate_query(query: &str) -> Result<(String, Vec<String>), ValidationError> {
    let trimmed = query.trim();
    if trimmed.is_empty() {
        return Err(ValidationError::Empty);
    }
    let chars = trimmed.chars().count();
    if chars > MAX_QUERY_CHARS {
        let cut: String = trimmed.chars().take(MAX_QUERY_CHARS).collect();
        let warning = format!("query cut from {chars} to {MAX_QUERY_CHARS} characters");
        return Ok((cut, vec![warning]));
    }
    Ok((trimmed.to_string(), Vec::new()))
}

/// Orders by score and keeps the best `limit`; a manual span with the candidate count.
fn rank_datasets(mut datasets: Vec<Dataset>, limit: usize) -> Vec<Dataset> {
    let _span = pathwise::span("SearchService._rank_datasets")
        .group("search")
        .attr("count", datasets.len());
    datasets.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.accession.cmp(&b.accession))
    });
    datasets.truncate(limit);
    datasets
}

/// The three sources, for the shared lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    Geo,
    PubMed,
    ArrayExpress,
}

impl Source {
    fn name(self) -> &'static str {
        match self {
            Source::Geo => "GEO",
            Source::PubMed => "PubMed",
            Source::ArrayExpress => "ArrayExpress",
        }
    }

    fn cache_component(self) -> &'static str {
        match self {
            Source::Geo => "geo.cache",
            Source::PubMed => "pubmed.cache",
            Source::ArrayExpress => "arrayexpress.cache",
        }
    }

    fn client_component(self) -> &'static str {
        match self {
            Source::Geo => "geo.client",
            Source::PubMed => "pubmed.client",
            Source::ArrayExpress => "arrayexpress.client",
        }
    }

    fn accession_prefix(self) -> &'static str {
        match self {
            Source::Geo => "GSE",
            Source::PubMed => "PMID",
            Source::ArrayExpress => "E-MTAB-",
        }
    }
}

/// The client of NCBI GEO.
#[derive(Clone, Copy, Debug)]
pub struct GeoClient;

impl GeoClient {
    /// Searches GEO. Its SOFT parser panics on rare malformed records (injected).
    #[pathwise::monitor(name = "GEOClient.search", group = "sources", skip(plan))]
    pub async fn search(self, query: String, plan: SourcePlan) -> Vec<Dataset> {
        if plan.panic {
            panic!(
                "GEO SOFT parser: unexpected end of record {}",
                super::INJECTED_PANIC
            );
        }
        lookup(Source::Geo, &query, &plan).await
    }
}

/// The client of PubMed; answers HTTP 429 now and then.
#[derive(Clone, Copy, Debug)]
pub struct PubMedClient;

impl PubMedClient {
    /// Searches PubMed.
    #[pathwise::monitor(name = "PubMedClient.search", group = "sources", skip(plan))]
    pub async fn search(
        self,
        query: String,
        plan: SourcePlan,
    ) -> Result<Vec<Dataset>, RateLimitError> {
        if plan.fail {
            sleep(plan.fail_latency).await;
            return Err(RateLimitError {
                limit: 10,
                retry_after_ms: 1000,
            });
        }
        Ok(lookup(Source::PubMed, &query, &plan).await)
    }
}

/// The client of ArrayExpress; times out now and then.
#[derive(Clone, Copy, Debug)]
pub struct ArrayExpressClient;

impl ArrayExpressClient {
    /// The client's time budget before scaling, in milliseconds.
    const TIMEOUT_MS: f64 = 40.0;

    /// Searches ArrayExpress.
    #[pathwise::monitor(name = "ArrayExpressClient.search", group = "sources", skip(plan))]
    pub async fn search(
        self,
        query: String,
        plan: SourcePlan,
    ) -> Result<Vec<Dataset>, TimeoutError> {
        if plan.fail {
            let budget = Duration::from_secs_f64(Self::TIMEOUT_MS * TIME_SCALE / 1000.0);
            sleep(budget).await;
            return Err(TimeoutError {
                timeout_ms: budget.as_millis() as u64,
            });
        }
        Ok(lookup(Source::ArrayExpress, &query, &plan).await)
    }
}

/// Cache, then database, then auto-discovery.
async fn lookup(source: Source, query: &str, plan: &SourcePlan) -> Vec<Dataset> {
    let key = format!("{}:{}", source.name().to_lowercase(), query.to_lowercase());
    let cached = match source {
        Source::Geo => GeoCache.get(key.clone(), *plan).await,
        Source::PubMed => PubMedCache.get(key.clone(), *plan).await,
        Source::ArrayExpress => ArrayExpressCache.get(key.clone(), *plan).await,
    };
    if let Some(found) = cached {
        pathwise::cache_hit(source.cache_component());
        return found;
    }
    pathwise::cache_miss(source.cache_component());
    let rows = DatasetDb
        .query(source.name(), query.to_string(), *plan)
        .await;
    if !rows.is_empty() {
        dataset_db::cache_store(source.name(), &key, &rows, plan).await;
    }
    if !rows.is_empty() || plan.tier == Tier::Database {
        return rows;
    }
    AutoDiscovery.crawl(source, query.to_string(), *plan).await
}

/// `results` datasets for `query` from `source`, deterministic for a given plan.
fn datasets(source: Source, query: &str, plan: &SourcePlan) -> Vec<Dataset> {
    let seed = query
        .bytes()
        .fold(17u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    (0..plan.results)
        .map(|i| {
            let n = (seed.wrapping_add(u64::from(i) * 7919)) % 90_000 + 10_000;
            Dataset {
                accession: format!("{}{n}", source.accession_prefix()),
                source: source.name(),
                title: format!(
                    "{} study {} for {}",
                    source.name(),
                    i + 1,
                    query.chars().take(40).collect::<String>()
                ),
                score: ((n % 1000) as f64) / 1000.0,
            }
        })
        .collect()
}

/// Shared body of the three caches: a lookup in the cache's database.
async fn cache_get(source: Source, key: &str, plan: &SourcePlan) -> Option<Vec<Dataset>> {
    let query = key.split_once(':').map_or(key, |(_, q)| q);
    dataset_db::cache_lookup(source.name(), key, plan.cache_latency, || {
        (plan.tier == Tier::Cache).then(|| datasets(source, query, plan))
    })
    .await
}

/// GEO's result cache.
#[derive(Clone, Copy, Debug)]
pub struct GeoCache;

impl GeoCache {
    /// Cached results for `key`.
    #[pathwise::monitor(name = "GEOCache.get", group = "cache", skip(plan))]
    pub async fn get(self, key: String, plan: SourcePlan) -> Option<Vec<Dataset>> {
        cache_get(Source::Geo, &key, &plan).await
    }
}

/// PubMed's result cache.
#[derive(Clone, Copy, Debug)]
pub struct PubMedCache;

impl PubMedCache {
    /// Cached results for `key`.
    #[pathwise::monitor(name = "PubMedCache.get", group = "cache", skip(plan))]
    pub async fn get(self, key: String, plan: SourcePlan) -> Option<Vec<Dataset>> {
        cache_get(Source::PubMed, &key, &plan).await
    }
}

/// ArrayExpress's result cache.
#[derive(Clone, Copy, Debug)]
pub struct ArrayExpressCache;

impl ArrayExpressCache {
    /// Cached results for `key`.
    #[pathwise::monitor(name = "ArrayExpressCache.get", group = "cache", skip(plan))]
    pub async fn get(self, key: String, plan: SourcePlan) -> Option<Vec<Dataset>> {
        cache_get(Source::ArrayExpress, &key, &plan).await
    }
}

/// The dataset database behind the caches.
#[derive(Clone, Copy, Debug)]
pub struct DatasetDb;

impl DatasetDb {
    /// Datasets of `source` matching `query`; empty when only a crawl can find them.
    #[pathwise::monitor(name = "DatasetDB.query", group = "database", skip(plan))]
    pub async fn query(
        self,
        source: &'static str,
        query: String,
        plan: SourcePlan,
    ) -> Vec<Dataset> {
        let source_of = match source {
            "GEO" => Source::Geo,
            "PubMed" => Source::PubMed,
            _ => Source::ArrayExpress,
        };
        let rows = dataset_db::dataset_search(source, &query, &plan, || {
            if plan.tier == Tier::Database {
                datasets(source_of, &query, &plan)
            } else {
                Vec::new()
            }
        })
        .await;
        if !rows.is_empty() {
            dataset_db::count_hits(&rows, &plan).await;
        }
        rows
    }
}

/// Crawls a source for datasets nobody has indexed yet: slow.
#[derive(Clone, Copy, Debug)]
pub struct AutoDiscovery;

impl AutoDiscovery {
    /// Fetches `plan.pages` pages (one may fail and be retried), each an `http_get` operation.
    #[pathwise::monitor(name = "AutoDiscovery.crawl", group = "discovery", skip(plan))]
    async fn crawl(self, source: Source, query: String, plan: SourcePlan) -> Vec<Dataset> {
        for page in 0..plan.pages {
            let started = tokio::time::Instant::now();
            sleep(plan.page_latency).await;
            let ok = plan.failed_page != Some(page);
            pathwise::record_operation(
                source.client_component(),
                "http_get",
                started.elapsed(),
                ok,
            );
            if !ok {
                // Retry the failed page once.
                let retry = tokio::time::Instant::now();
                sleep(plan.page_latency / 2).await;
                pathwise::record_operation(
                    source.client_component(),
                    "http_get",
                    retry.elapsed(),
                    true,
                );
            }
        }
        datasets(source, &query, &plan)
    }
}
