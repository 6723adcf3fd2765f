//! Per-path and per-node metrics for a window, merged from rollups.

use rustc_hash::FxHashMap;
use serde::Serialize;

use pathwise_store::rollup::Bucket;
use pathwise_store::{Reader, Window};

use crate::AnalysisError;

/// Figures of one path or one node over a window. Times are in milliseconds.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Metrics {
    /// The full path (`A → B → C`) or, for a node, its name.
    pub key: String,
    /// The node (span name) at the end of the path.
    pub node: String,
    /// 0 for roots; `None` for node metrics.
    pub depth: Option<i64>,
    pub calls: i64,
    pub errors: i64,
    pub error_rate: f64,
    /// Most frequent first.
    pub errors_by_type: Vec<(String, i64)>,
    pub total_ms: f64,
    pub self_ms: f64,
    pub avg_ms: f64,
    pub min_ms: f64,
    pub max_ms: f64,
    /// From a DDSketch: within 1 % (relative) of the exact value.
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    /// Calls per request (root span) in the window; 1.0 = once per request on average.
    pub share_of_requests: f64,
    /// Share of all request (root) time spent in this path or node, including children.
    pub share_of_time: f64,
    /// Share of all self time (time not spent in children).
    pub share_of_self_time: f64,
    /// Time on its traces' critical paths: the request latency this path or node was
    /// responsible for (a parallel branch that others outlasted contributes nothing).
    pub critical_ms: f64,
    /// `critical_ms` as a share of all request latency in the window (the roots' durations).
    pub share_of_latency: f64,
    pub first_seen_ns: i64,
    pub last_seen_ns: i64,
}

const NS_PER_MS: f64 = 1e6;

fn quantile_ms(bucket: &Bucket, q: f64) -> f64 {
    bucket.sketch.quantile(q).ok().flatten().unwrap_or(0.0) / NS_PER_MS
}

/// Totals the shares are relative to.
struct Totals {
    requests: i64,
    request_ns: i64,
    self_ns: i64,
    critical_ns: i64,
}

fn metrics(
    key: String,
    node: String,
    depth: Option<i64>,
    b: &Bucket,
    errors: Vec<(String, i64)>,
    t: &Totals,
) -> Metrics {
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
    Metrics {
        key,
        node,
        depth,
        calls: b.calls,
        errors: b.errors,
        error_rate: ratio(b.errors as f64, b.calls as f64),
        errors_by_type: errors,
        total_ms: b.total_ns as f64 / NS_PER_MS,
        self_ms: b.self_ns as f64 / NS_PER_MS,
        avg_ms: ratio(b.total_ns as f64, b.calls as f64) / NS_PER_MS,
        min_ms: if b.calls > 0 {
            b.min_ns as f64 / NS_PER_MS
        } else {
            0.0
        },
        max_ms: b.max_ns as f64 / NS_PER_MS,
        p50_ms: quantile_ms(b, 0.50),
        p95_ms: quantile_ms(b, 0.95),
        p99_ms: quantile_ms(b, 0.99),
        share_of_requests: ratio(b.calls as f64, t.requests as f64),
        share_of_time: ratio(b.total_ns as f64, t.request_ns as f64),
        share_of_self_time: ratio(b.self_ns as f64, t.self_ns as f64),
        critical_ms: b.critical_ns as f64 / NS_PER_MS,
        share_of_latency: ratio(b.critical_ns as f64, t.critical_ns as f64),
        first_seen_ns: b.first_ns,
        last_seen_ns: b.last_ns,
    }
}

fn merge_errors(into: &mut Vec<(String, i64)>, more: &[(String, i64)]) {
    for (name, count) in more {
        match into.iter_mut().find(|(n, _)| n == name) {
            Some((_, c)) => *c += count,
            None => into.push((name.clone(), *count)),
        }
    }
    into.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
}

/// Everything the analytics need about one window, loaded once.
#[derive(Clone, Debug, Serialize)]
pub struct Analysis {
    pub window_since_ns: i64,
    pub window_until_ns: i64,
    pub paths: Vec<Metrics>,
    pub nodes: Vec<Metrics>,
    /// `(parent path text, child path text)` for every path with a parent, for the graph.
    #[serde(skip)]
    pub(crate) parents: Vec<(String, String)>,
    /// Registered (`#[monitor]`) functions.
    pub registered: Vec<String>,
    pub requests: i64,
}

impl Analysis {
    /// Loads the window's rollups and the function registry.
    pub fn load(store: &dyn Reader, window: Window) -> Result<Self, AnalysisError> {
        let rollups = store.path_rollups(window)?;
        let errors: FxHashMap<String, Vec<(String, i64)>> = store
            .path_errors(window)?
            .into_iter()
            .map(|e| (e.path, e.by_type))
            .collect();
        let mut totals = Totals {
            requests: 0,
            request_ns: 0,
            self_ns: 0,
            critical_ns: 0,
        };
        for r in &rollups {
            totals.self_ns += r.bucket.self_ns;
            totals.critical_ns += r.bucket.critical_ns;
            if r.path.depth == 0 {
                totals.requests += r.bucket.calls;
                totals.request_ns += r.bucket.total_ns;
            }
        }
        let mut paths = Vec::with_capacity(rollups.len());
        let mut nodes: FxHashMap<String, (Bucket, Vec<(String, i64)>)> = FxHashMap::default();
        let mut parents = Vec::new();
        for r in &rollups {
            let (info, bucket) = (&r.path, &r.bucket);
            let path_errors = errors.get(&info.text).cloned().unwrap_or_default();
            match nodes.get_mut(&info.node) {
                Some((b, e)) => {
                    b.merge(bucket);
                    merge_errors(e, &path_errors);
                }
                None => {
                    nodes.insert(info.node.clone(), (bucket.clone(), path_errors.clone()));
                }
            }
            if let Some(parent) = &info.parent {
                parents.push((parent.clone(), info.text.clone()));
            }
            paths.push(metrics(
                info.text.clone(),
                info.node.clone(),
                Some(info.depth),
                bucket,
                path_errors,
                &totals,
            ));
        }
        let mut nodes: Vec<Metrics> = nodes
            .into_iter()
            .map(|(name, (b, e))| metrics(name.clone(), name, None, &b, e, &totals))
            .collect();
        paths.sort_by(|a, b| a.key.cmp(&b.key));
        nodes.sort_by(|a, b| a.key.cmp(&b.key));
        let registered = store.functions()?.into_iter().map(|f| f.name).collect();
        Ok(Analysis {
            window_since_ns: window.since_ns,
            window_until_ns: window.until_ns,
            paths,
            nodes,
            parents,
            registered,
            requests: totals.requests,
        })
    }

    /// Metrics of the path with this exact text.
    pub fn path(&self, text: &str) -> Option<&Metrics> {
        self.paths.iter().find(|p| p.key == text)
    }

    /// Metrics of the node with this name.
    pub fn node(&self, name: &str) -> Option<&Metrics> {
        self.nodes.iter().find(|n| n.key == name)
    }
}
