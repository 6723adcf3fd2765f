//! Length-prefixed binary encoding used by spill segments and the error lane.
//!
//! Each frame is a little-endian `u32` length followed by a `postcard` body. A torn final frame
//! (the process died mid-write) is detected and ignored instead of failing the whole file.
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

#[cfg(test)]
mod tests {
    use super::*;

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
