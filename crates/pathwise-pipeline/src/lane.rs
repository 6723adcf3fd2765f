//! The error lane: a finished error span is written here by the failing thread before the call
//! returns (one `write`, no fsync), so a process crash — even `kill -9` — cannot lose it. The
//! writer takes the lane's records each cycle, renaming the file to `errors-<seq>.pending` and
//! deleting it once the records are committed; a restart replays whatever files remain.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use pathwise_model::Record;

use crate::spill::{decode_file, encode_frames, move_aside, numbered_files, set_aside};

pub(crate) struct Lane {
    dir: PathBuf,
    file: Option<File>,
    /// Bytes of whole frames in `file`.
    len: u64,
    records: Vec<Record>,
    next_seq: u64,
}

/// Records taken from the lane and the file to delete once they are committed.
pub(crate) struct LaneTake {
    pub records: Vec<Record>,
    pub files: Vec<PathBuf>,
}

impl Lane {
    pub(crate) fn new(dir: &Path) -> Self {
        let next_seq = numbered_files(dir, "errors", "pending")
            .last()
            .map_or(0, |(n, _)| n + 1);
        Lane {
            dir: dir.to_path_buf(),
            file: None,
            len: 0,
            records: Vec::new(),
            next_seq,
        }
    }

    fn current_path(&self) -> PathBuf {
        self.dir.join("errors-current.lane")
    }

    /// Persists one error record, then keeps it for the writer. An error means only that the
    /// record is not on disk: it is kept in memory whatever happened (a file that cannot be
    /// opened or a record that cannot be encoded never loses it).
    pub(crate) fn append(&mut self, record: Record) -> io::Result<()> {
        let persisted = self.persist(&record);
        self.records.push(record);
        persisted
    }

    fn persist(&mut self, record: &Record) -> io::Result<()> {
        let mut buf = Vec::new();
        encode_frames(std::slice::from_ref(record), &mut buf)?;
        if self.file.is_none() {
            let path = self.current_path();
            let file = OpenOptions::new().create(true).append(true).open(path)?;
            self.len = file.metadata()?.len();
            self.file = Some(file);
        }
        let Some(file) = self.file.as_mut() else {
            return Ok(());
        };
        if let Err(e) = file.write_all(&buf) {
            // A full disk cuts the write short: cut the file back, so that a torn frame does
            // not make the frames after it unreadable (the record itself stays in memory).
            let _ = file.set_len(self.len);
            return Err(e);
        }
        self.len += buf.len() as u64;
        Ok(())
    }

    /// Hands the records gathered so far to the writer.
    pub(crate) fn take(&mut self) -> LaneTake {
        if self.records.is_empty() {
            return LaneTake {
                records: Vec::new(),
                files: Vec::new(),
            };
        }
        let mut files = Vec::new();
        if self.file.take().is_some() {
            let pending = self
                .dir
                .join(format!("errors-{:012}.pending", self.next_seq));
            self.next_seq += 1;
            if fs::rename(self.current_path(), &pending).is_ok() {
                files.push(pending);
            }
        }
        LaneTake {
            records: std::mem::take(&mut self.records),
            files,
        }
    }

    /// Records left behind by a previous process (crashed or killed), with their files.
    pub(crate) fn recover(&mut self) -> (LaneTake, usize) {
        // Move the live file aside first: appends made after recovery must not be deleted
        // with the recovered records.
        let current = self.current_path();
        if current.exists() {
            let pending = self
                .dir
                .join(format!("errors-{:012}.pending", self.next_seq));
            if fs::rename(&current, pending).is_ok() {
                self.next_seq += 1;
            }
        }
        let files: Vec<PathBuf> = numbered_files(&self.dir, "errors", "pending")
            .into_iter()
            .map(|(_, p)| p)
            .collect();
        let mut records = Vec::new();
        let mut corrupt = 0;
        let mut taken = Vec::with_capacity(files.len());
        for file in files {
            match decode_file(&file) {
                Ok(decoded) if decoded.newer.is_some() => {
                    let version = decoded.newer.unwrap_or_default();
                    let kept = set_aside(&file, version);
                    eprintln!(
                        "pathwise: error lane file {file:?} holds records of format version {version}, newer than this build reads; kept as {kept:?} for a newer build"
                    );
                }
                Ok(mut decoded) => {
                    records.append(&mut decoded.records);
                    corrupt += decoded.corrupt;
                    taken.push(file);
                }
                Err(e) => {
                    // Not readable now, maybe readable later: never deleted.
                    let kept = move_aside(&file, "unreadable");
                    eprintln!(
                        "pathwise: cannot read error lane file {file:?} ({e}); kept as {kept:?}"
                    );
                }
            }
        }
        (
            LaneTake {
                records,
                files: taken,
            },
            corrupt,
        )
    }
}
