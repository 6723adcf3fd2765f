//! A request decoded once and split by project: a server with several projects reads a body
//! a single time, hands each project's [`crate::Ingest`] the resources that belong to it
//! (OTLP `service.namespace`, else the request's project), and answers with one reply.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::ResourceSpans;

use crate::{Encoding, IngestError, Limits, Reply, wire};

/// An OTLP export request, read and checked against the limits, not yet mapped.
pub struct Decoded {
    pub(crate) encoding: Encoding,
    pub(crate) request: ExportTraceServiceRequest,
}

/// What exporting (part of) a request achieved.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    pub accepted: u64,
    pub rejected: u64,
    /// Why the first rejected span was rejected.
    pub reason: Option<String>,
}

impl Outcome {
    /// Counts `n` rejected spans, keeping the first reason.
    pub fn reject(&mut self, n: u64, why: String) {
        self.rejected += n;
        self.reason.get_or_insert(why);
    }

    /// Adds another part's outcome.
    pub fn merge(&mut self, other: Outcome) {
        self.accepted += other.accepted;
        if let Some(why) = other.reason {
            self.reject(other.rejected, why);
        }
    }

    /// The OTLP response in `encoding`: empty when all was accepted, a partial success
    /// otherwise.
    pub fn reply(self, encoding: Encoding) -> Reply {
        Reply {
            body: wire::encode_response(encoding, self.rejected, self.reason.as_deref()),
            content_type: encoding.content_type(),
            accepted: self.accepted,
            rejected: self.rejected,
        }
    }
}

impl Decoded {
    /// Reads a `POST /v1/traces` body: content type, gzip, size and span-count limits.
    ///
    /// ```
    /// use pathwise_ingest::{Decoded, Limits};
    /// let body = br#"{"resourceSpans":[]}"#;
    /// let decoded = Decoded::read(body, Some("application/json"), None, &Limits::default()).unwrap();
    /// assert_eq!(decoded.spans(), 0);
    /// assert!(Decoded::read(b"[]", Some("application/json"), None, &Limits::default()).is_err());
    /// ```
    pub fn read(
        body: &[u8],
        content_type: Option<&str>,
        content_encoding: Option<&str>,
        limits: &Limits,
    ) -> Result<Decoded, IngestError> {
        let encoding = Encoding::from_content_type(content_type)?;
        if body.len() > limits.max_body_bytes {
            return Err(IngestError::TooLarge(format!(
                "request body is {} bytes; the limit is {}",
                body.len(),
                limits.max_body_bytes
            )));
        }
        let bytes = wire::decompress(body, content_encoding, limits)?;
        if bytes.len() > limits.max_decoded_bytes {
            return Err(IngestError::TooLarge(format!(
                "request body is {} bytes; the limit is {}",
                bytes.len(),
                limits.max_decoded_bytes
            )));
        }
        let request = wire::decode_request(&bytes, encoding)?;
        let decoded = Decoded { encoding, request };
        let total = decoded.spans();
        if total > limits.max_spans {
            return Err(IngestError::TooLarge(format!(
                "request holds {total} spans; the limit is {} per request",
                limits.max_spans
            )));
        }
        Ok(decoded)
    }

    /// The request's encoding (the reply is given in it).
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// Spans in the request.
    pub fn spans(&self) -> usize {
        self.request.resource_spans.iter().map(spans_of).sum()
    }

    /// Splits the request by project: `project_of` is given each resource's
    /// `service.namespace` (if any) and names the resource's project, or refuses it with a
    /// reason (its spans are then counted as rejected). Parts come in first-seen order.
    ///
    /// ```
    /// use pathwise_ingest::{Decoded, Limits};
    /// let body = br#"{"resourceSpans":[
    ///   {"resource":{"attributes":[{"key":"service.namespace","value":{"stringValue":"shop"}}]},
    ///    "scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"a"}]}]},
    ///   {"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60d","spanId":"eee19b7ec3c1b175","name":"b"}]}]}]}"#;
    /// let decoded = Decoded::read(body, Some("application/json"), None, &Limits::default()).unwrap();
    /// let (parts, refused) = decoded.split(|ns| Ok(ns.unwrap_or("default").to_string()));
    /// let names: Vec<_> = parts.iter().map(|(p, d)| (p.as_str(), d.spans())).collect();
    /// assert_eq!(names, [("shop", 1), ("default", 1)]);
    /// assert_eq!(refused.rejected, 0);
    /// ```
    pub fn split(
        self,
        project_of: impl Fn(Option<&str>) -> Result<String, String>,
    ) -> (Vec<(String, Decoded)>, Outcome) {
        let encoding = self.encoding;
        let mut parts: Vec<(String, Decoded)> = Vec::new();
        let mut refused = Outcome::default();
        for resource_spans in self.request.resource_spans {
            let project = match project_of(namespace(&resource_spans)) {
                Ok(project) => project,
                Err(why) => {
                    refused.reject(spans_of(&resource_spans) as u64, why);
                    continue;
                }
            };
            let part = match parts.iter_mut().find(|(p, _)| *p == project) {
                Some((_, part)) => part,
                None => {
                    parts.push((
                        project,
                        Decoded {
                            encoding,
                            request: ExportTraceServiceRequest::default(),
                        },
                    ));
                    &mut parts.last_mut().expect("just pushed").1
                }
            };
            part.request.resource_spans.push(resource_spans);
        }
        (parts, refused)
    }
}

fn spans_of(resource_spans: &ResourceSpans) -> usize {
    resource_spans
        .scope_spans
        .iter()
        .map(|s| s.spans.len())
        .sum()
}

/// The resource's `service.namespace`, when it is a non-empty string.
fn namespace(resource_spans: &ResourceSpans) -> Option<&str> {
    resource_spans
        .resource
        .as_ref()?
        .attributes
        .iter()
        .find(|kv| kv.key == "service.namespace")
        .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
            Value::StringValue(s) if !s.is_empty() => Some(s.as_str()),
            _ => None,
        })
}
