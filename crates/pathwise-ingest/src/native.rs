//! Native remote submission: a Pathwise SDK in another process sends its records as the same
//! versioned record frames its spill files hold (`pathwise_model::codec`), paths as names.
//! The reply comes after the records are committed, so a sender that sees `200` may forget
//! them; a sender that retries after a lost reply does no harm, as stores keep one copy of a
//! span per `(trace id, span id)`.
//!
//! A body holding a frame of a newer format than this server reads is written whole to the
//! set-aside directory for a newer build, reported in the reply, and never dropped.

use std::path::PathBuf;
use std::sync::atomic::Ordering;

use pathwise_model::{Record, codec};

use crate::{Ingest, IngestError};

/// The `Content-Type` of a frames body.
pub const FRAMES_CONTENT_TYPE: &str = "application/x-pathwise-frames";

/// What a frames request achieved.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct FramesReply {
    /// Records committed (or, past the acknowledgement timeout, safely in the pipeline).
    pub accepted: u64,
    /// Frames that could not be read (damaged), skipped.
    pub corrupt: u64,
    /// Whether the body was set aside for a newer build instead.
    pub set_aside: bool,
}

impl Ingest {
    /// Handles one native frames body (`Content-Encoding` none or `gzip`).
    ///
    /// ```
    /// use pathwise_ingest::{Ingest, IngestConfig, MemorySink};
    /// use pathwise_model::{Name, Record, SpanKind, SpanRecord, TraceId, codec};
    /// let sink = MemorySink::default();
    /// let ingest = Ingest::with_sink(IngestConfig::default(), Box::new(sink.clone()));
    /// let mut body = Vec::new();
    /// let span = SpanRecord::new(TraceId(5), 2, 1, "load".into(), SpanKind::Span);
    /// codec::write_record(&mut body, &Record::Span(span), &["main".into(), "load".into()]).unwrap();
    /// assert_eq!(ingest.submit_frames(&body, None).unwrap().accepted, 1);
    /// assert_eq!(pathwise_pipeline::paths::segments(sink.spans()[0].path), vec![Name::from("main"), "load".into()]);
    /// ```
    pub fn submit_frames(
        &self,
        body: &[u8],
        content_encoding: Option<&str>,
    ) -> Result<FramesReply, IngestError> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let result = crate::wire::decompress(body, content_encoding, &self.config.limits)
            .and_then(|body| self.frames(&body));
        if result.is_err() {
            self.refused.fetch_add(1, Ordering::Relaxed);
        }
        result
    }

    fn frames(&self, body: &[u8]) -> Result<FramesReply, IngestError> {
        let limits = &self.config.limits;
        if body.len() > limits.max_decoded_bytes {
            return Err(IngestError::TooLarge(format!(
                "request body is {} bytes; the limit is {}",
                body.len(),
                limits.max_decoded_bytes
            )));
        }
        let mut records = Vec::new();
        let mut reply = FramesReply::default();
        for frame in codec::read_frames(body) {
            if records.len() >= limits.max_spans {
                return Err(IngestError::TooLarge(format!(
                    "request holds more than {} records; the limit is {} per request",
                    limits.max_spans, limits.max_spans
                )));
            }
            match codec::read_record(frame) {
                Ok((mut record, path)) => {
                    if let Record::Span(span) = &mut record {
                        span.path = pathwise_pipeline::paths::intern_segments(&path);
                    }
                    records.push(record);
                }
                Err(codec::FrameError::Newer(version)) => {
                    self.set_aside(body, version)?;
                    return Ok(FramesReply {
                        set_aside: true,
                        ..FramesReply::default()
                    });
                }
                Err(codec::FrameError::Corrupt(_)) => reply.corrupt += 1,
            }
        }
        if records.is_empty() && reply.corrupt > 0 {
            return Err(IngestError::Malformed(format!(
                "none of the {} frames is a Pathwise record",
                reply.corrupt
            )));
        }
        reply.accepted = records.len() as u64;
        self.send(records)?;
        self.sink.wait_committed(self.config.ack_timeout);
        self.accepted.fetch_add(reply.accepted, Ordering::Relaxed);
        Ok(reply)
    }

    fn set_aside(&self, body: &[u8], version: u8) -> Result<PathBuf, IngestError> {
        let Some(dir) = &self.config.set_aside_dir else {
            return Err(IngestError::Unavailable(format!(
                "records of format version {version} are newer than this server reads, and it has no directory to keep them for a newer build"
            )));
        };
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let path = dir.join(format!("remote-{nanos}.frames.v{version}.newer"));
        std::fs::create_dir_all(dir)
            .and_then(|()| std::fs::write(&path, body))
            .map_err(|e| {
                IngestError::Unavailable(format!(
                    "cannot keep newer records in {}: {e}",
                    path.display()
                ))
            })?;
        eprintln!(
            "pathwise: a remote sender's records are of format version {version}, newer than this server reads; kept in {} for a newer build",
            path.display()
        );
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{IngestConfig, MemorySink};
    use pathwise_model::{Name, SpanKind, SpanRecord, TraceId};

    #[test]
    fn newer_bodies_are_kept_whole_and_damage_is_counted() {
        let dir = tempfile::tempdir().unwrap();
        let sink = MemorySink::default();
        let config = IngestConfig {
            set_aside_dir: Some(dir.path().to_path_buf()),
            ..IngestConfig::default()
        };
        let ingest = Ingest::with_sink(config, Box::new(sink.clone()));
        let mut body = Vec::new();
        let span = Record::Span(SpanRecord::new(
            TraceId(5),
            2,
            0,
            "main".into(),
            SpanKind::Span,
        ));
        codec::write_record(&mut body, &span, &[Name::from("main")]).unwrap();
        codec::write_frame(&mut body, &[codec::FRAME_MAGIC, codec::FRAME_VERSION + 1]).unwrap();
        let reply = ingest.submit_frames(&body, None).unwrap();
        assert!(reply.set_aside);
        assert!(
            sink.spans().is_empty(),
            "a set-aside body is kept whole, not split"
        );
        let kept: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(kept.len(), 1);
        assert_eq!(std::fs::read(&kept[0]).unwrap(), body);

        let mut damaged = Vec::new();
        codec::write_record(&mut damaged, &span, &[Name::from("main")]).unwrap();
        codec::write_frame(&mut damaged, &[0xff, 0xff, 0xff]).unwrap();
        let reply = ingest.submit_frames(&damaged, None).unwrap();
        assert_eq!((reply.accepted, reply.corrupt), (1, 1));
        let mut junk = Vec::new();
        codec::write_frame(&mut junk, &[0xff, 0xff]).unwrap();
        assert_eq!(ingest.submit_frames(&junk, None).unwrap_err().status(), 400);
    }
}
