//! Spill segments: where batches go when the in-memory queue is full, so memory stays bounded
//! and nothing is dropped. Files are `spill-<seq>.seg` of length-prefixed frames, each a record
//! plus its path's segment names (path ids are process-local, so a later process re-interns).

use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use pathwise_model::{Name, Record, codec};

use crate::paths;

/// Rotate to a new segment beyond this size: replayed files are deleted early, and replaying
/// one segment (read whole, written in one transaction) keeps the writer's memory small.
const SEGMENT_BYTES: u64 = 8 << 20;

/// Encodes records as versioned record frames with their path names; shared with the error
/// lane.
pub(crate) fn encode_frames(records: &[Record], out: &mut Vec<u8>) -> io::Result<()> {
    // A batch repeats few paths: resolve each once, not once per record.
    let mut resolved: rustc_hash::FxHashMap<u32, Vec<Name>> = rustc_hash::FxHashMap::default();
    let none = Vec::new();
    for record in records {
        let segments = match record {
            Record::Span(span) => &*resolved
                .entry(span.path)
                .or_insert_with(|| paths::segments(span.path)),
            Record::Trace(_) | Record::Resource(_) => &none,
        };
        codec::write_record(out, record, segments).map_err(io::Error::other)?;
    }
    Ok(())
}

/// What a spill segment or lane file held.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Decoded {
    pub records: Vec<Record>,
    /// Frames that could not be read (damage); skipped, never fatal.
    pub corrupt: usize,
    /// Set when the file holds a frame of a newer format: nothing of it is taken, and the
    /// caller sets the file aside (see [`set_aside`]) instead of deleting it.
    pub newer: Option<u8>,
}

/// Decodes a file written by [`encode_frames`] (or by an earlier build), re-interning paths.
pub(crate) fn decode_file(path: &Path) -> io::Result<Decoded> {
    let data = fs::read(path)?;
    let mut decoded = Decoded::default();
    for frame in codec::read_frames(&data) {
        match codec::read_record(frame) {
            Ok((mut record, segments)) => {
                if let Record::Span(span) = &mut record {
                    span.path = paths::intern_segments(&segments);
                }
                decoded.records.push(record);
            }
            Err(codec::FrameError::Newer(version)) => {
                return Ok(Decoded {
                    newer: Some(version),
                    ..Decoded::default()
                });
            }
            Err(codec::FrameError::Corrupt(_)) => decoded.corrupt += 1,
        }
    }
    Ok(decoded)
}

/// Renames a file a newer build wrote to `<name>.v<version>.newer`, where no replay looks and
/// nothing deletes it, for that build to replay. Returns the new name.
pub(crate) fn set_aside(path: &Path, version: u8) -> PathBuf {
    move_aside(path, &format!("v{version}.newer"))
}

/// Renames `path` to `<name>.<suffix>`, out of the way of replay and of anything that deletes;
/// returns the new name (the old one if the rename failed, with the file left in place).
pub(crate) fn move_aside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{suffix}"));
    let target = PathBuf::from(name);
    match fs::rename(path, &target) {
        Ok(()) => target,
        Err(_) => path.to_path_buf(),
    }
}

/// Files in `dir` named `<prefix>-<number>.<ext>`, in numeric order.
pub(crate) fn numbered_files(dir: &Path, prefix: &str, ext: &str) -> Vec<(u64, PathBuf)> {
    let mut found: Vec<(u64, PathBuf)> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let number = name
                .strip_prefix(prefix)?
                .strip_prefix('-')?
                .strip_suffix(ext)?;
            Some((number.strip_suffix('.')?.parse().ok()?, entry.path()))
        })
        .collect();
    found.sort();
    found
}

/// The spill segments of one data directory.
pub(crate) struct Spill {
    dir: PathBuf,
    next_seq: u64,
    current: Option<(PathBuf, File, u64)>,
    closed: VecDeque<PathBuf>,
}

impl Spill {
    /// Opens the spill of `dir`, adopting segments a previous process left behind.
    pub(crate) fn recover(dir: &Path) -> Self {
        let closed: VecDeque<PathBuf> = numbered_files(dir, "spill", "seg")
            .into_iter()
            .map(|(_, p)| p)
            .collect();
        let next_seq = numbered_files(dir, "spill", "seg")
            .last()
            .map_or(0, |(n, _)| n + 1);
        Spill {
            dir: dir.to_path_buf(),
            next_seq,
            current: None,
            closed,
        }
    }

    /// True while any spilled record waits to be replayed; producers then keep spilling so the
    /// order of records is preserved.
    pub(crate) fn active(&self) -> bool {
        self.current.is_some() || !self.closed.is_empty()
    }

    /// Appends a batch with one `write`.
    pub(crate) fn append(&mut self, batch: &[Record]) -> io::Result<()> {
        if batch.is_empty() {
            // An empty segment would only keep producers spilling, to keep an order of nothing.
            return Ok(());
        }
        let mut buf = Vec::with_capacity(batch.len() * 96);
        encode_frames(batch, &mut buf)?;
        if self.current.is_none() {
            let path = self.dir.join(format!("spill-{:012}.seg", self.next_seq));
            self.next_seq += 1;
            let file = OpenOptions::new().create(true).append(true).open(&path)?;
            self.current = Some((path, file, 0));
        }
        let Some((path, file, size)) = self.current.as_mut() else {
            unreachable!()
        };
        if let Err(e) = file.write_all(&buf) {
            // A write cut short (a full disk) leaves a torn frame that later appends would
            // follow; cut the file back so that what failed is simply not there, and remove
            // a segment that holds nothing (it would keep producers spilling, to keep an
            // order that nothing needs).
            if *size == 0 {
                let _ = fs::remove_file(&*path);
                self.current = None;
            } else {
                let _ = file.set_len(*size);
            }
            return Err(e);
        }
        *size += buf.len() as u64;
        if *size >= SEGMENT_BYTES {
            self.rotate();
        }
        Ok(())
    }

    fn rotate(&mut self) {
        if let Some((path, _, _)) = self.current.take() {
            self.closed.push_back(path);
        }
    }

    /// Puts a segment taken by [`Spill::take_oldest`] back in line, last.
    pub(crate) fn requeue(&mut self, path: PathBuf) {
        self.closed.push_back(path);
    }

    /// The oldest segment to replay, closing the current one if nothing older remains. The
    /// caller deletes it after its records are committed.
    pub(crate) fn take_oldest(&mut self) -> Option<PathBuf> {
        if self.closed.is_empty() {
            self.rotate();
        }
        self.closed.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pathwise_model::{SpanKind, SpanRecord, TraceId};

    #[test]
    fn spilled_records_come_back_in_order_with_paths() {
        let dir = tempfile::tempdir().unwrap();
        let mut spill = Spill::recover(dir.path());
        assert!(!spill.active());
        let root = paths::intern(0, "spill-root".into());
        let child = paths::intern(root, "spill-child".into());
        let batch: Vec<Record> = (1..=3)
            .map(|i| {
                let mut s = SpanRecord::new(TraceId(9), i, 0, "spill-child".into(), SpanKind::Span);
                s.path = child;
                Record::Span(s)
            })
            .collect();
        spill.append(&batch).unwrap();
        assert!(spill.active());
        let segment = spill.take_oldest().unwrap();
        let decoded = decode_file(&segment).unwrap();
        assert_eq!((decoded.records, decoded.corrupt), (batch, 0));
        assert!(!spill.active());
        // A new process adopts leftovers.
        let again = Spill::recover(dir.path());
        assert!(again.active());
    }
}
