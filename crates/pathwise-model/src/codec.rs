//! Length-prefixed binary encoding used by spill segments, the error lane and native remote
//! submission.
//!
//! Each frame is a little-endian `u32` length followed by a body. A torn final frame (the
//! process died mid-write) is detected and ignored instead of failing the whole file.
//!
//! A record frame ([`write_record`], [`read_record`]) carries one [`crate::Record`] with its
//! path as names (path ids are process-local), behind a two-byte header: [`FRAME_MAGIC`] and
//! the format version. Frames written before versioning have no header; they begin with the
//! record's variant index (0–2), which can never be the magic byte, so they stay readable. A
//! frame of a newer version than this build knows is reported as [`FrameError::Newer`], so the
//! file holding it can be set aside for a newer build instead of being lost.
//!
//! ```
//! use pathwise_model::codec;
//! let mut file = Vec::new();
//! codec::write_frame(&mut file, &[1u8, 2, 3]).unwrap();
//! let frames: Vec<Vec<u8>> = codec::read_frames(&file).map(|f| f.to_vec()).collect();
//! assert_eq!(frames, vec![vec![1, 2, 3]]);
//! ```

use serde::{Serialize, de::DeserializeOwned};

/// Encoding or decoding failed.
#[derive(Debug, thiserror::Error)]
#[error("record codec: {0}")]
pub struct CodecError(#[from] postcard::Error);

/// Encodes a value to bytes.
pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, CodecError> {
    Ok(postcard::to_stdvec(value)?)
}

/// Decodes a value from bytes.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    Ok(postcard::from_bytes(bytes)?)
}

/// Appends one length-prefixed frame to `out`.
pub fn write_frame(out: &mut Vec<u8>, body: &[u8]) -> Result<(), CodecError> {
    let len = u32::try_from(body.len()).map_err(|_| postcard::Error::SerializeBufferFull)?;
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(body);
    Ok(())
}

/// Iterates the complete frames of a buffer; stops at the first torn frame.
pub fn read_frames(mut data: &[u8]) -> impl Iterator<Item = &[u8]> {
    std::iter::from_fn(move || {
        let len_bytes: [u8; 4] = data.get(..4)?.try_into().ok()?;
        let len = u32::from_le_bytes(len_bytes) as usize;
        let body = data.get(4..4 + len)?;
        data = &data[4 + len..];
        Some(body)
    })
}

/// First byte of a versioned record frame.
pub const FRAME_MAGIC: u8 = 0xF7;
/// The record frame format this build writes. Version 1: `postcard((Record, Vec<Name>))`.
pub const FRAME_VERSION: u8 = 1;

/// A record frame that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// Damaged or not a record frame.
    #[error(transparent)]
    Corrupt(#[from] CodecError),
    /// Written by a newer build: keep it for one that can read it.
    #[error("record frame version {0} is newer than this build reads ({FRAME_VERSION})")]
    Newer(u8),
}

/// Appends one versioned record frame: the record and the names of its path, root first.
///
/// ```
/// use pathwise_model::{Name, Record, SpanKind, SpanRecord, TraceId, codec};
/// let span = Record::Span(SpanRecord::new(TraceId(1), 2, 1, "load".into(), SpanKind::Span));
/// let path: Vec<Name> = vec!["main".into(), "load".into()];
/// let mut file = Vec::new();
/// codec::write_record(&mut file, &span, &path).unwrap();
/// let frame = codec::read_frames(&file).next().unwrap();
/// assert_eq!(codec::read_record(frame).unwrap(), (span, path));
/// ```
pub fn write_record(
    out: &mut Vec<u8>,
    record: &crate::Record,
    path: &[crate::Name],
) -> Result<(), CodecError> {
    let body = postcard::to_stdvec(&(record, path))?;
    let len = u32::try_from(body.len() + 2).map_err(|_| postcard::Error::SerializeBufferFull)?;
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&[FRAME_MAGIC, FRAME_VERSION]);
    out.extend_from_slice(&body);
    Ok(())
}

/// Reads one record frame body (as yielded by [`read_frames`]), of any version up to
/// [`FRAME_VERSION`], including the unversioned frames of earlier builds.
pub fn read_record(body: &[u8]) -> Result<(crate::Record, Vec<crate::Name>), FrameError> {
    match body {
        [FRAME_MAGIC, version, rest @ ..] => match *version {
            1 => Ok(decode(rest)?),
            newer if newer > FRAME_VERSION => Err(FrameError::Newer(newer)),
            _ => Err(FrameError::Corrupt(CodecError(
                postcard::Error::DeserializeBadEncoding,
            ))),
        },
        _ => Ok(decode(body)?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unversioned_frames_still_read_and_newer_ones_are_flagged() {
        use crate::{Name, Record, SpanKind, SpanRecord, TraceId};
        let span = Record::Span(SpanRecord::new(
            TraceId(9),
            3,
            0,
            "main".into(),
            SpanKind::Function,
        ));
        let path: Vec<Name> = vec!["main".into()];
        // What builds before versioning wrote: the bare postcard body.
        let mut old = Vec::new();
        write_frame(&mut old, &encode(&(&span, &path)).unwrap()).unwrap();
        let frame = read_frames(&old).next().unwrap();
        assert_eq!(read_record(frame).unwrap(), (span.clone(), path.clone()));
        // A frame from a future build.
        let mut future = Vec::new();
        write_frame(&mut future, &[FRAME_MAGIC, FRAME_VERSION + 1, 1, 2, 3]).unwrap();
        let frame = read_frames(&future).next().unwrap();
        assert!(matches!(read_record(frame), Err(FrameError::Newer(v)) if v == FRAME_VERSION + 1));
        assert!(matches!(
            read_record(&[FRAME_MAGIC, 0]),
            Err(FrameError::Corrupt(_))
        ));
        assert!(matches!(
            read_record(&[0xff, 0xff]),
            Err(FrameError::Corrupt(_))
        ));
    }

    #[test]
    fn torn_frame_is_ignored() {
        let mut buf = Vec::new();
        write_frame(&mut buf, b"hello").unwrap();
        write_frame(&mut buf, b"world").unwrap();
        buf.truncate(buf.len() - 2);
        let frames: Vec<&[u8]> = read_frames(&buf).collect();
        assert_eq!(frames, vec![&b"hello"[..]]);
    }

    #[test]
    fn resource_samples_round_trip_and_span_encoding_is_unchanged() {
        use crate::{HostResources, ProcessResources, Record, ResourceSample, SpanKind};
        let sample = Record::Resource(ResourceSample {
            ts_ns: 1_700_000_000_000_000_000,
            process: ProcessResources {
                cpu_pct: 12.5,
                rss_bytes: 1 << 30,
                threads: 7,
                open_fds: 12,
                ..ProcessResources::default()
            },
            host: HostResources {
                net_rx_bytes: u64::MAX,
                ..HostResources::default()
            },
        });
        let back: Record = decode(&encode(&sample).unwrap()).unwrap();
        assert_eq!(back, sample);
        assert_eq!(sample.trace_id(), None);
        // Spill files written before resource samples existed must still decode: the new
        // variant was appended, so a span's variant index is still 0.
        let span = Record::Span(crate::SpanRecord::new(
            crate::TraceId(1),
            1,
            0,
            "s".into(),
            SpanKind::Span,
        ));
        assert_eq!(encode(&span).unwrap()[0], 0);
    }
}
