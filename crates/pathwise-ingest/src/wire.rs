//! OTLP/HTTP framing: content types, gzip, protobuf or JSON bodies, and the reply in the
//! encoding the client used (the OTLP/HTTP specification requires the response to match the
//! request's `Content-Type`).

use std::io::Read;

use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message;

use crate::{IngestError, Limits};

/// How an OTLP body is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// `application/x-protobuf` (also `application/protobuf`).
    Protobuf,
    /// `application/json`, the OTLP/JSON mapping (hex ids, lowerCamelCase fields).
    Json,
}

impl Encoding {
    /// The encoding a `Content-Type` header names; parameters such as `charset` are ignored.
    ///
    /// ```
    /// use pathwise_ingest::Encoding;
    /// assert_eq!(Encoding::from_content_type(Some("application/json; charset=utf-8")).unwrap(), Encoding::Json);
    /// assert!(Encoding::from_content_type(Some("text/plain")).is_err());
    /// ```
    pub fn from_content_type(content_type: Option<&str>) -> Result<Self, IngestError> {
        let media = content_type
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match media.as_str() {
            "application/x-protobuf" | "application/protobuf" => Ok(Encoding::Protobuf),
            "application/json" => Ok(Encoding::Json),
            "" => Err(IngestError::UnsupportedMediaType(
                "Content-Type is missing; send application/x-protobuf or application/json".into(),
            )),
            other => Err(IngestError::UnsupportedMediaType(format!(
                "Content-Type {other:?} is not OTLP; send application/x-protobuf or application/json"
            ))),
        }
    }

    /// The `Content-Type` of a reply in this encoding.
    pub fn content_type(self) -> &'static str {
        match self {
            Encoding::Protobuf => "application/x-protobuf",
            Encoding::Json => "application/json",
        }
    }
}

/// Undoes `Content-Encoding` (none, `identity` or `gzip`), refusing to inflate beyond the limit
/// so that a small compressed bomb cannot exhaust memory.
pub(crate) fn decompress<'a>(
    body: &'a [u8],
    content_encoding: Option<&str>,
    limits: &Limits,
) -> Result<std::borrow::Cow<'a, [u8]>, IngestError> {
    let encoding = content_encoding.unwrap_or("").trim().to_ascii_lowercase();
    match encoding.as_str() {
        "" | "identity" => Ok(std::borrow::Cow::Borrowed(body)),
        "gzip" => {
            let cap = limits.max_decoded_bytes;
            let mut out = Vec::with_capacity(body.len().saturating_mul(4).min(cap));
            flate2::read::GzDecoder::new(body)
                .take(cap as u64 + 1)
                .read_to_end(&mut out)
                .map_err(|e| {
                    IngestError::Malformed(format!("gzip body cannot be inflated: {e}"))
                })?;
            if out.len() > cap {
                return Err(IngestError::TooLarge(format!(
                    "gzip body inflates beyond {cap} bytes"
                )));
            }
            Ok(std::borrow::Cow::Owned(out))
        }
        other => Err(IngestError::UnsupportedMediaType(format!(
            "Content-Encoding {other:?} is not supported; send gzip or no encoding"
        ))),
    }
}

/// Parses an export request.
pub(crate) fn decode_request(
    bytes: &[u8],
    encoding: Encoding,
) -> Result<ExportTraceServiceRequest, IngestError> {
    match encoding {
        Encoding::Protobuf => ExportTraceServiceRequest::decode(bytes).map_err(|e| {
            IngestError::Malformed(format!(
                "protobuf body is not an OTLP trace export request: {e}"
            ))
        }),
        Encoding::Json => {
            // serde also reads a struct from a JSON array (fields by position): `[]` would be
            // an empty request. The OTLP/JSON mapping of a request is an object.
            if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
                return Err(IngestError::Malformed(
                    "JSON body is not an OTLP trace export request: not an object".into(),
                ));
            }
            serde_json::from_slice(bytes).map_err(|e| {
                IngestError::Malformed(format!(
                    "JSON body is not an OTLP trace export request: {e}"
                ))
            })
        }
    }
}

/// The export response: an empty message when everything was accepted, a partial success with
/// the rejected count and the first reason otherwise.
pub(crate) fn encode_response(encoding: Encoding, rejected: u64, reason: Option<&str>) -> Vec<u8> {
    let response = ExportTraceServiceResponse {
        partial_success: (rejected > 0).then(|| ExportTracePartialSuccess {
            rejected_spans: i64::try_from(rejected).unwrap_or(i64::MAX),
            error_message: reason.unwrap_or_default().to_string(),
        }),
    };
    match encoding {
        Encoding::Protobuf => response.encode_to_vec(),
        Encoding::Json => serde_json::to_vec(&response).unwrap_or_else(|_| b"{}".to_vec()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn gzip_bombs_stop_at_the_limit() {
        let limits = Limits {
            max_decoded_bytes: 1000,
            ..Limits::default()
        };
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&vec![0u8; 1_000_000]).unwrap();
        let bomb = gz.finish().unwrap();
        assert!(bomb.len() < 5000);
        let err = decompress(&bomb, Some("gzip"), &limits).unwrap_err();
        assert!(matches!(err, IngestError::TooLarge(_)), "{err}");
        let err = decompress(b"not gzip", Some("GZIP"), &limits).unwrap_err();
        assert!(matches!(err, IngestError::Malformed(_)), "{err}");
        assert!(decompress(b"x", Some("br"), &limits).is_err());
    }

    #[test]
    fn a_json_request_is_an_object() {
        assert!(decode_request(b" {}", Encoding::Json).is_ok());
        for body in [&b"[]"[..], b"[[]]", b"null", b"1"] {
            assert!(decode_request(body, Encoding::Json).is_err(), "{body:?}");
        }
    }

    #[test]
    fn replies_match_the_request_encoding() {
        let json = encode_response(Encoding::Json, 2, Some("span 3: bad id"));
        let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(value["partialSuccess"]["errorMessage"], "span 3: bad id");
        let proto = encode_response(Encoding::Protobuf, 0, None);
        let back = ExportTraceServiceResponse::decode(&proto[..]).unwrap();
        assert!(back.partial_success.is_none());
    }
}
