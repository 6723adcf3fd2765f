//! Rankings and findings over a loaded [`Analysis`].

use std::cmp::Ordering;
use std::collections::HashSet;

use crate::metrics::{Analysis, Metrics};

fn desc(a: f64, b: f64) -> Ordering {
    b.partial_cmp(&a).unwrap_or(Ordering::Equal)
}

fn top<'a>(
    items: impl Iterator<Item = &'a Metrics>,
    limit: usize,
    order: impl Fn(&Metrics, &Metrics) -> Ordering,
) -> Vec<&'a Metrics> {
    let mut items: Vec<&Metrics> = items.collect();
    items.sort_by(|a, b| order(a, b).then_with(|| a.key.cmp(&b.key)));
    items.truncate(limit);
    items
}

impl Analysis {
    /// Paths by number of calls.
    pub fn hot_paths(&self, limit: usize) -> Vec<&Metrics> {
        top(self.paths.iter(), limit, |a, b| b.calls.cmp(&a.calls))
    }

    /// Paths by p95 latency (then average), among paths called at least `min_calls` times.
    pub fn slow_paths(&self, limit: usize, min_calls: i64) -> Vec<&Metrics> {
        let candidates = self.paths.iter().filter(|p| p.calls >= min_calls);
        top(candidates, limit, |a, b| {
            desc(a.p95_ms, b.p95_ms).then(desc(a.avg_ms, b.avg_ms))
        })
    }

    /// Paths with errors, by error rate (then error count).
    pub fn error_paths(&self, limit: usize) -> Vec<&Metrics> {
        let failing = self.paths.iter().filter(|p| p.errors > 0);
        top(failing, limit, |a, b| {
            desc(a.error_rate, b.error_rate).then(b.errors.cmp(&a.errors))
        })
    }

    /// Nodes by the request latency they were responsible for (time on critical paths), then
    /// by self time: shortening a node high on this list shortens requests.
    pub fn time_consumers(&self, limit: usize) -> Vec<&Metrics> {
        top(self.nodes.iter(), limit, |a, b| {
            desc(a.critical_ms, b.critical_ms).then(desc(a.self_ms, b.self_ms))
        })
    }

    /// Registered functions with no call in the window (exact: from the link-time registry).
    pub fn never_executed(&self) -> Vec<&str> {
        let called: HashSet<&str> = self
            .nodes
            .iter()
            .filter(|n| n.calls > 0)
            .map(|n| n.key.as_str())
            .collect();
        self.registered
            .iter()
            .map(String::as_str)
            .filter(|f| !called.contains(f))
            .collect()
    }

    /// Findings in words, most important first.
    pub fn opportunities(&self) -> Vec<String> {
        let mut found: Vec<(f64, String)> = Vec::new();
        for node in &self.nodes {
            // Its own time on critical paths: what shortening this node itself would save.
            let own_latency = node.share_of_latency;
            if own_latency >= 0.10 {
                let advice = if node.calls as f64 >= self.requests as f64 * 0.5 {
                    "called on most requests — consider caching its results"
                } else {
                    "consider caching, batching or moving it off the request path"
                };
                found.push((
                    own_latency,
                    format!(
                        "{}: responsible for {:.0} % of request latency (critical path), p95 {} over {} calls — {advice}",
                        node.key,
                        own_latency * 100.0,
                        fmt_ms(node.p95_ms),
                        node.calls
                    ),
                ));
            } else if node.share_of_self_time >= 0.10 && own_latency < node.share_of_self_time / 4.0
            {
                found.push((
                    node.share_of_self_time / 10.0,
                    format!(
                        "{}: {:.0} % of all self time but {:.0} % of request latency — it runs in parallel with slower work, so shortening it would not make requests faster",
                        node.key,
                        node.share_of_self_time * 100.0,
                        own_latency * 100.0
                    ),
                ));
            }
            if node.calls >= 20 && node.error_rate >= 0.05 {
                let cause = node.errors_by_type.first().map_or(String::new(), |(t, n)| {
                    format!(", mostly {} ({n})", short_type(t))
                });
                found.push((
                    node.error_rate,
                    format!(
                        "{}: fails {:.1} % of {} calls{cause} — add retries with backoff or a fallback",
                        node.key,
                        node.error_rate * 100.0,
                        node.calls
                    ),
                ));
            }
            if node.calls >= 50 && node.p50_ms > 0.0 && node.p99_ms > 10.0 * node.p50_ms {
                found.push((
                    0.05,
                    format!(
                        "{}: long tail — p99 {} is {:.0}× its p50 {}; look at the slow cases",
                        node.key,
                        fmt_ms(node.p99_ms),
                        node.p99_ms / node.p50_ms,
                        fmt_ms(node.p50_ms)
                    ),
                ));
            }
        }
        let unused = self.never_executed();
        if !unused.is_empty() {
            found.push((0.01, format!("{} monitored functions never ran in this window — candidates for removal or missing tests", unused.len())));
        }
        found.sort_by(|a, b| desc(a.0, b.0));
        found.into_iter().map(|(_, text)| text).collect()
    }
}

/// Milliseconds with precision that suits the size: `87.4 ms`, `0.042 ms`.
pub fn fmt_ms(ms: f64) -> String {
    if ms >= 10.0 {
        format!("{ms:.0} ms")
    } else if ms >= 1.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.3} ms")
    }
}

/// An error type without its module path: from the first capitalised segment on
/// (`crate::errors::RateLimitError` → `RateLimitError`, `OpenAlexError::RateLimit` stays),
/// keeping the module of a bare `Error` (`io::Error`).
pub fn short_type(name: &str) -> &str {
    let mut offset = 0;
    let mut previous = None;
    for segment in name.split("::") {
        if segment.starts_with(|c: char| c.is_uppercase()) {
            return match previous {
                Some(module) if segment == "Error" && offset == name.len() - segment.len() => {
                    &name[module..]
                }
                _ => &name[offset..],
            };
        }
        previous = Some(offset);
        offset += segment.len() + 2;
    }
    name.rsplit("::").next().unwrap_or(name)
}
