//! Building one trace: spans laid out in time, children before parents, errors wrapped on
//! their way up as `anyhow::Context` would.

use std::borrow::Cow;

use pathwise_model::{AttrValue, ErrorInfo, Record, SpanDetails, SpanRecord, Status, TraceId};

use super::{PATHS, Rng, p};

/// What a span's body produced: when it ended, the error it ended with, its details.
#[derive(Default)]
pub(super) struct Body {
    pub end: i64,
    pub error: Option<ErrorInfo>,
    pub details: SpanDetails,
}

/// A finished span as its parent sees it.
pub(super) struct Done {
    pub end: i64,
    pub error: Option<ErrorInfo>,
}

pub(super) fn error(error_type: &'static str, message: &str) -> ErrorInfo {
    ErrorInfo {
        error_type: Cow::Borrowed(error_type),
        message: message.to_string(),
        chain: Vec::new(),
    }
}

/// A caller's error wrapping its callee's, as `anyhow::Context` would.
pub(super) fn wrap(inner: &ErrorInfo, context: &str) -> ErrorInfo {
    let mut chain = vec![inner.message.clone()];
    chain.extend(inner.chain.iter().cloned());
    chain.truncate(16);
    ErrorInfo {
        error_type: Cow::Borrowed("anyhow::Error"),
        message: format!("{context}: {}", inner.message),
        chain,
    }
}

pub(super) fn attrs(pairs: Vec<(&'static str, AttrValue)>) -> SpanDetails {
    SpanDetails {
        attrs: pairs
            .into_iter()
            .map(|(k, v)| (Cow::Borrowed(k), v))
            .collect(),
        ..SpanDetails::default()
    }
}

/// Builds the records of one trace.
pub struct TraceBuilder<'r> {
    pub rng: &'r mut Rng,
    pub id: TraceId,
    next_span: u64,
    pub out: &'r mut Vec<Record>,
    pub spans: u64,
}

pub(super) const REGIONS: [&str; 3] = ["eu", "us", "apac"];
const HOSTS: [(&str, f64); 3] = [
    ("www.ncbi.nlm.nih.gov", 0.10),
    ("www.ebi.ac.uk", 0.02),
    ("data.example.org", 0.02),
];

impl<'r> TraceBuilder<'r> {
    pub fn new(rng: &'r mut Rng, start_ms: u64, out: &'r mut Vec<Record>) -> Self {
        let unique = ((rng.next_u64() as u128) << 64) | rng.next_u64() as u128;
        let id = TraceId::from_parts(start_ms, unique);
        // Span ids: a random base per trace plus a counter, like the SDK's per-thread ids.
        let next_span = (rng.next_u64() >> 16) | 1;
        TraceBuilder {
            rng,
            id,
            next_span,
            out,
            spans: 0,
        }
    }

    pub(super) fn span(
        &mut self,
        parent: u64,
        path: u32,
        start: i64,
        body: impl FnOnce(&mut Self, u64, i64) -> Body,
    ) -> Done {
        let id = self.next_span;
        self.next_span += 1;
        let body = body(self, id, start);
        let d = &PATHS[path as usize];
        let mut span = SpanRecord::new(self.id, id, parent, Cow::Borrowed(d.name), d.kind);
        span.start_ns = start;
        span.duration_ns = (body.end - start).max(1) as u64;
        span.group = d.group.map(Cow::Borrowed);
        span.path = path;
        let mut details = body.details;
        if let Some(e) = &body.error {
            span.status = Status::Error;
            details.error = Some(e.clone());
        }
        if details != SpanDetails::default() {
            span.details = Some(Box::new(details));
        }
        self.out.push(Record::Span(span));
        self.spans += 1;
        Done {
            end: body.end,
            error: body.error,
        }
    }

    pub(super) fn leaf(
        &mut self,
        parent: u64,
        path: u32,
        start: i64,
        duration: i64,
        error: Option<ErrorInfo>,
        details: SpanDetails,
    ) -> Done {
        self.span(parent, path, start, |_, _, s| Body {
            end: s + duration,
            error,
            details,
        })
    }

    /// An outgoing HTTP call; fails with probability `fail` (slowly, when it times out).
    pub(super) fn http_get(
        &mut self,
        parent: u64,
        path: u32,
        start: i64,
        host: &'static str,
        fail: f64,
    ) -> Done {
        let failed = self.rng.chance(fail);
        let (duration, status, err) = match (failed, host) {
            (false, "api.llm.example") => (self.rng.ms(900.0, 0.5), 200, None),
            (false, "s3.eu-west-1.amazonaws.com") => (self.rng.ms(40.0, 0.7), 200, None),
            (false, _) => (self.rng.ms(120.0, 0.9), 200, None),
            (true, "www.ncbi.nlm.nih.gov" | "api.llm.example") => (
                self.rng.ms(30.0, 0.5),
                429,
                Some(error("app::http::RateLimitError", "429 Too Many Requests")),
            ),
            (true, _) => (
                5_000_000_000 + self.rng.ms(2.0, 1.0),
                504,
                Some(error("reqwest::Error", "operation timed out")),
            ),
        };
        let details = attrs(vec![
            ("host", AttrValue::Str(Cow::Borrowed(host))),
            ("status", AttrValue::I64(status)),
        ]);
        self.leaf(parent, path, start, duration, err, details)
    }

    /// `GEOClient.search` under `geo` (cache, database on a miss, sometimes a crawl).
    pub(super) fn geo_search(&mut self, parent: u64, geo: u32, start: i64, crawl: bool) -> Done {
        let (cache, query, sql) = if geo == p::GEO {
            (p::GEO_CACHE, p::GEO_DB, p::GEO_DB_SQL)
        } else {
            (p::FETCH_GEO_CACHE, p::FETCH_GEO_DB, p::FETCH_GEO_DB_SQL)
        };
        self.span(parent, geo, start, |t, id, s| {
            let region = REGIONS[t.rng.below(3) as usize];
            let query_len = 3 + t.rng.ms(0.02, 0.8) / 1000;
            let details = attrs(vec![
                ("region", AttrValue::Str(Cow::Borrowed(region))),
                ("query_len", AttrValue::I64(query_len)),
            ]);
            let mut c = s + t.rng.ms(0.4, 0.5);
            // A cache outage is handled: treated as a miss.
            let cache_down = t.rng.chance(0.01);
            let hit = !cache_down && t.rng.chance(0.6);
            let cache_error = cache_down.then(|| error("redis::RedisError", "connection refused"));
            let d = t.leaf(
                id,
                cache,
                c,
                t.rng.ms(0.8, 0.6),
                cache_error,
                SpanDetails::default(),
            );
            c = d.end + t.rng.gap();
            if !hit {
                let db = t.span(id, query, c, |t, db, s| {
                    let sql_error = t
                        .rng
                        .chance(0.003)
                        .then(|| error("rusqlite::Error", "database is locked"));
                    let sql = t.leaf(
                        db,
                        sql,
                        s + 200_000,
                        t.rng.ms(12.0, 0.8),
                        sql_error,
                        SpanDetails::default(),
                    );
                    Body {
                        end: sql.end + t.rng.ms(1.0, 0.4),
                        error: sql.error.map(|e| wrap(&e, "dataset query failed")),
                        details: SpanDetails::default(),
                    }
                });
                c = db.end + t.rng.gap();
                if let Some(e) = db.error {
                    return Body {
                        end: c,
                        error: Some(wrap(&e, "GEO search failed")),
                        details,
                    };
                }
            }
            if crawl && t.rng.chance(0.15) {
                let crawled = t.span(id, p::CRAWL, c, |t, cr, s| {
                    let mut c = s + t.rng.ms(0.2, 0.4);
                    c = t
                        .leaf(
                            cr,
                            p::CRAWL_ROBOTS,
                            c,
                            t.rng.ms(0.3, 0.5),
                            None,
                            SpanDetails::default(),
                        )
                        .end;
                    for _ in 0..1 + t.rng.below(4) {
                        let (host, fail) = match t.rng.unit() {
                            u if u < 0.4 => HOSTS[0],
                            u if u < 0.7 => HOSTS[1],
                            _ => HOSTS[2],
                        };
                        let got = t.http_get(cr, p::CRAWL_HTTP, c + t.rng.gap(), host, fail);
                        c = got.end;
                        if let Some(e) = got.error {
                            return Body {
                                end: c + t.rng.gap(),
                                error: Some(wrap(&e, &format!("crawling {host}"))),
                                ..Body::default()
                            };
                        }
                    }
                    Body {
                        end: c + t.rng.ms(0.1, 0.3),
                        ..Body::default()
                    }
                });
                c = crawled.end + t.rng.gap();
                if let Some(e) = crawled.error {
                    return Body {
                        end: c,
                        error: Some(wrap(&e, "auto-discovery failed")),
                        details,
                    };
                }
            }
            Body {
                end: c + t.rng.ms(0.1, 0.3),
                error: None,
                details,
            }
        })
    }
}
