//! The shapes of the application's traces.

use std::borrow::Cow;

use pathwise_model::{Record, SpanDetails, TraceEvent};

use super::builder::{Body, REGIONS, error, wrap};
use super::{PATHS, TraceBuilder, p};

impl TraceBuilder<'_> {
    /// `SearchService.search` with `scores` calls of `Ranker.score`.
    pub fn search(&mut self, start: i64, scores: u64) {
        self.span(0, p::SEARCH, start, |t, root, s| {
            let mut c = s + t.rng.ms(0.15, 0.5);
            c = t
                .leaf(
                    root,
                    p::PARSE_QUERY,
                    c,
                    t.rng.ms(0.2, 0.5),
                    None,
                    SpanDetails::default(),
                )
                .end;
            let geo = t.geo_search(root, p::GEO, c + t.rng.gap(), true);
            c = geo.end + t.rng.gap();
            if let Some(e) = geo.error {
                return Body {
                    end: c,
                    error: Some(wrap(&e, "search failed")),
                    ..Body::default()
                };
            }
            let ranked = t.span(root, p::RANK, c, |t, rank, s| {
                let mut c = s + t.rng.ms(0.3, 0.4);
                for _ in 0..scores {
                    c = t
                        .leaf(
                            rank,
                            p::SCORE,
                            c + t.rng.gap(),
                            t.rng.ms(1.5, 0.5),
                            None,
                            SpanDetails::default(),
                        )
                        .end;
                }
                Body {
                    end: c + t.rng.ms(0.2, 0.4),
                    ..Body::default()
                }
            });
            c = ranked.end + t.rng.gap();
            c = t
                .leaf(
                    root,
                    p::CACHE_PUT,
                    c,
                    t.rng.ms(0.6, 0.4),
                    None,
                    SpanDetails::default(),
                )
                .end;
            Body {
                end: c + t.rng.ms(0.1, 0.4),
                ..Body::default()
            }
        });
    }

    /// `IngestWorker.process` with `records` calls of `Parser.parse_record`.
    pub fn ingest(&mut self, start: i64, records: u64) {
        self.span(0, p::INGEST, start, |t, root, s| {
            let mut c = s + t.rng.ms(0.1, 0.4);
            let s3 = t.span(root, p::S3, c, |t, s3, s| {
                let got = t.http_get(
                    s3,
                    p::S3_HTTP,
                    s + t.rng.gap(),
                    "s3.eu-west-1.amazonaws.com",
                    0.005,
                );
                Body {
                    end: got.end + t.rng.ms(0.2, 0.4),
                    error: got.error.map(|e| wrap(&e, "S3 download failed")),
                    ..Body::default()
                }
            });
            c = s3.end + t.rng.gap();
            if let Some(e) = s3.error {
                return Body {
                    end: c,
                    error: Some(wrap(&e, "ingest failed")),
                    ..Body::default()
                };
            }
            for _ in 0..records {
                let bad = t
                    .rng
                    .chance(0.0025)
                    .then(|| error("serde_json::Error", "expected value at line 1 column 1"));
                let parsed = t.leaf(
                    root,
                    p::PARSE_RECORD,
                    c,
                    t.rng.ms(0.3, 0.6),
                    bad,
                    SpanDetails::default(),
                );
                c = parsed.end + t.rng.gap();
                if let Some(e) = parsed.error {
                    return Body {
                        end: c,
                        error: Some(wrap(&e, "ingest failed")),
                        ..Body::default()
                    };
                }
            }
            let insert = t.span(root, p::DB_INSERT, c, |t, ins, s| {
                let sql = t.leaf(
                    ins,
                    p::DB_INSERT_SQL,
                    s + 100_000,
                    t.rng.ms(8.0, 0.6),
                    None,
                    SpanDetails::default(),
                );
                Body {
                    end: sql.end + t.rng.ms(0.3, 0.4),
                    ..Body::default()
                }
            });
            Body {
                end: insert.end + t.rng.ms(0.1, 0.4),
                ..Body::default()
            }
        });
    }

    /// `HealthCheck.ping`: a trace of one span.
    pub fn health(&mut self, start: i64) {
        let duration = self.rng.ms(0.05, 0.3);
        self.leaf(0, p::HEALTH, start, duration, None, SpanDetails::default());
    }

    /// The `competitor_analysis` decision trace: four steps with input, output, reasoning
    /// and metadata.
    pub fn competitor(&mut self, start: i64) {
        let customer = format!("acme-{}", self.rng.below(500));
        let region = REGIONS[self.rng.below(3) as usize];
        let metadata = format!(r#"{{"customer":"{customer}","region":"{region}"}}"#);
        self.out.push(Record::Trace(TraceEvent::Started {
            trace_id: self.id,
            name: Cow::Borrowed(PATHS[p::COMPETITOR as usize].name),
            start_ns: start,
            metadata: Some(metadata.clone()),
        }));
        let step =
            |input: String, output: String, reasoning: Option<String>, meta: String| SpanDetails {
                input: Some(input),
                output: Some(output),
                reasoning,
                metadata: Some(meta),
                ..SpanDetails::default()
            };
        self.span(0, p::COMPETITOR, start, |t, root, s| {
            let found = 20 + t.rng.below(60);
            let kept = 1 + t.rng.below(found / 2);
            let fetch = t.span(root, p::FETCH, s + t.rng.ms(0.2, 0.3), |t, f, s| {
                let geo = t.geo_search(f, p::FETCH_GEO, s + t.rng.gap(), false);
                Body {
                    end: geo.end + t.rng.ms(0.3, 0.3),
                    error: geo.error.map(|e| wrap(&e, "fetching candidates")),
                    details: step(
                        format!(r#"{{"query":"competitors of {customer}","region":"{region}"}}"#),
                        format!(r#"{{"candidates":{found}}}"#),
                        None,
                        format!(r#"{{"candidates":{found}}}"#),
                    ),
                }
            });
            let mut c = fetch.end + t.rng.gap();
            if let Some(e) = fetch.error {
                return Body {
                    end: c,
                    error: Some(e),
                    details: SpanDetails {
                        metadata: Some(metadata),
                        ..SpanDetails::default()
                    },
                };
            }
            let dropped = found - kept;
            let details = step(
                format!(r#"{{"candidates":{found},"region":"{region}"}}"#),
                format!(r#"{{"kept":{kept}}}"#),
                Some(format!("Dropped {dropped} candidates outside {region}.")),
                format!(r#"{{"kept":{kept},"dropped":{dropped}}}"#),
            );
            c = t
                .leaf(root, p::FILTER, c, t.rng.ms(2.0, 0.5), None, details)
                .end
                + t.rng.gap();
            let ranked = t.span(root, p::LLM_RANK, c, |t, r, s| {
                let llm = t.span(r, p::LLM, s + t.rng.gap(), |t, l, s| {
                    let got = t.http_get(
                        l,
                        p::LLM_HTTP,
                        s + t.rng.ms(0.5, 0.3),
                        "api.llm.example",
                        0.03,
                    );
                    Body {
                        end: got.end + t.rng.ms(0.5, 0.3),
                        error: got.error.map(|e| wrap(&e, "completion failed")),
                        ..Body::default()
                    }
                });
                Body {
                    end: llm.end + t.rng.ms(0.4, 0.3),
                    error: llm.error.map(|e| wrap(&e, "LLM ranking failed")),
                    details: step(
                        format!(r#"{{"candidates":{kept}}}"#),
                        format!(r#"{{"ranked":{kept}}}"#),
                        Some("Ranked by product overlap and market presence.".into()),
                        format!(r#"{{"model":"large","prompt_tokens":{}}}"#, 400 + 60 * kept),
                    ),
                }
            });
            c = ranked.end + t.rng.gap();
            if let Some(e) = ranked.error {
                return Body {
                    end: c,
                    error: Some(e),
                    details: SpanDetails {
                        metadata: Some(metadata),
                        ..SpanDetails::default()
                    },
                };
            }
            let top = kept.min(5);
            let details = step(
                format!(r#"{{"ranked":{kept}}}"#),
                format!(r#"{{"top":{top}}}"#),
                Some(format!("Kept the {top} best-ranked competitors.")),
                format!(r#"{{"top_k":{top}}}"#),
            );
            c = t
                .leaf(root, p::SELECT_TOP, c, t.rng.ms(0.2, 0.3), None, details)
                .end;
            Body {
                end: c + t.rng.ms(0.2, 0.3),
                error: None,
                details: SpanDetails {
                    metadata: Some(metadata),
                    ..SpanDetails::default()
                },
            }
        });
    }

    /// `BatchReindex.run`: exactly `spans` spans (≥ 1), about √spans chunks of
    /// `S3.get_object` + `DatasetDB.upsert` calls.
    pub fn big(&mut self, start: i64, spans: u64) {
        let below_root = spans.saturating_sub(1);
        let chunks =
            ((below_root as f64).sqrt().round() as u64).clamp(below_root.min(1), below_root);
        self.span(0, p::REINDEX, start, |t, root, s| {
            let mut c = s + t.rng.ms(1.0, 0.3);
            let per_chunk = below_root.saturating_sub(chunks) / chunks.max(1);
            let extra = below_root.saturating_sub(chunks) % chunks.max(1);
            for i in 0..chunks {
                let calls = per_chunk + u64::from(i < extra);
                let chunk = t.span(root, p::CHUNK, c, |t, ch, s| {
                    let mut c = s + t.rng.ms(0.2, 0.3);
                    for j in 0..calls {
                        let (path, dur) = if j == 0 {
                            (p::CHUNK_S3, t.rng.ms(40.0, 0.7))
                        } else {
                            (p::UPSERT, t.rng.ms(2.0, 0.5))
                        };
                        c = t
                            .leaf(ch, path, c + t.rng.gap(), dur, None, SpanDetails::default())
                            .end;
                    }
                    Body {
                        end: c + t.rng.ms(0.1, 0.3),
                        ..Body::default()
                    }
                });
                c = chunk.end + t.rng.gap();
            }
            Body {
                end: c + t.rng.ms(0.5, 0.3),
                ..Body::default()
            }
        });
    }
}

/// Expected spans of the fixed part of each shape, for steering toward the span budget.
pub mod expected {
    /// Root, parse, GEO search, cache, 40 % DB query + SQL, 15 % × (crawl + robots + 2.5 GETs),
    /// rank, cache put.
    pub const SEARCH_FIXED: f64 = 6.0 + 0.4 * 2.0 + 0.15 * 4.5;
    /// Root, S3 + GET, insert + SQL.
    pub const INGEST_FIXED: f64 = 5.0;
    /// Root, 4 steps, GEO search + cache (+ 40 % DB + SQL), LLM + GET.
    pub const COMPETITOR: f64 = 9.0 + 0.4 * 2.0;
}
