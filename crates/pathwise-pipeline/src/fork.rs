//! Processes that fork, and processes that share a directory. A forked child has none of its
//! parent's threads (the writer among them) but a copy of its memory and its open files: it
//! must neither write into the parent's pipeline (nothing would ever drain it, and a lock
//! another thread held at the fork stays held for ever) nor take over the parent's data
//! directory (replaying the parent's live error lane would delete it under the parent).

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::Path;
use std::sync::Once;

use crate::PipelineError;

/// Registers the fork handler once per process.
pub(crate) fn watch_forks() {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        // SAFETY: `in_child` only stores an atomic and tries a lock without waiting, as a
        // handler run after `fork` must (no allocation, no blocking).
        unsafe {
            libc::pthread_atfork(None, None, Some(in_child));
        }
    });
}

extern "C" fn in_child() {
    crate::local::set_enabled(false);
    // The parent's pipeline is forgotten, not dropped: dropping would join a thread this
    // process does not have. The child may start a pipeline of its own (in another directory).
    if let Some(mut current) = crate::CURRENT.try_write()
        && let Some(shared) = current.take()
    {
        std::mem::forget(shared);
    }
}

/// One process's claim on a data directory: an exclusive lock on `<dir>/pathwise.lock`
/// holding the owner's process id, released when dropped (or when the process ends). A forked
/// child shares its parent's lock (and so cannot claim the directory again); dropping the
/// child's copy of the guard closes only the child's descriptor. The file itself stays:
/// removing a lock file races with the next process to open it.
pub(crate) struct DirLock {
    _file: File,
}

impl DirLock {
    pub(crate) fn acquire(dir: &Path) -> Result<DirLock, PipelineError> {
        let path = dir.join("pathwise.lock");
        let io_error = |source| PipelineError::DataDir {
            path: path.display().to_string(),
            source,
        };
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(io_error)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                return Err(PipelineError::DataDirInUse {
                    path: dir.display().to_string(),
                    holder: holder.trim().parse().ok(),
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io_error(e)),
        }
        file.set_len(0).map_err(io_error)?;
        file.rewind().map_err(io_error)?;
        write!(file, "{}", std::process::id()).map_err(io_error)?;
        Ok(DirLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_is_held_by_one_claim_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let held = DirLock::acquire(dir.path()).unwrap();
        match DirLock::acquire(dir.path()) {
            Err(PipelineError::DataDirInUse { holder, .. }) => {
                assert_eq!(holder, Some(std::process::id()));
            }
            other => panic!("a second claim succeeded: {:?}", other.err()),
        }
        drop(held);
        DirLock::acquire(dir.path()).expect("free again once released");
    }
}
