//! Keeps writes from vanishing into a write-ahead log that another connection deleted.
//!
//! SQLite coordinates connections through POSIX file locks, which belong to the process, not to
//! the connection. A second copy of SQLite in the same process (Python's `sqlite3` module next
//! to the copy linked into Pathwise, say) cannot see this writer's locks: when its connection
//! closes it believes it is the last one, checkpoints the log into the database and deletes
//! `<db>-wal` and `<db>-shm`; it also drops this process's locks, so a reader in another
//! process may do the same. This writer would go on committing into the deleted files, and
//! every record written after that would be lost for good. So after each commit the writer
//! checks that the log at `<db>-wal` is still the file it writes; if not, it reopens the
//! database and writes the same work again (writes are idempotent: spans by id, with their
//! rollups counted only when inserted).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use rusqlite::config::DbConfig;

use super::SqliteStore;
use crate::Error;
use pathwise_store::StoreError;

/// How often one piece of work is written again before the writer gives up on this round
/// (the pipeline then retries it, or spills it: nothing is dropped).
const ATTEMPTS: usize = 3;

/// Times the log was found deleted in this process (the first is said on stderr).
static REOPENED: AtomicU64 = AtomicU64::new(0);

/// The `<db>-wal` file this connection writes, by device and inode.
pub(super) struct WalFile {
    path: PathBuf,
    identity: Option<(u64, u64)>,
    /// The log was found deleted: the connection in place must not be written through until
    /// a reopen succeeds (one that failed leaves this set, so the next write tries again).
    stale: bool,
}

impl WalFile {
    pub(super) fn new(db: &Path) -> WalFile {
        let mut path = db.as_os_str().to_owned();
        path.push("-wal");
        WalFile {
            path: PathBuf::from(path),
            identity: None,
            stale: false,
        }
    }

    /// Whether, right after a commit, the log is the one this connection wrote before (or the
    /// first one seen). A committed write always leaves the log in place, so a missing file
    /// means another connection deleted it.
    fn still_ours(&mut self) -> bool {
        let Some(now) = identity(&self.path) else {
            return false;
        };
        match self.identity {
            None => {
                self.identity = Some(now);
                true
            }
            Some(before) => before == now,
        }
    }
}

#[cfg(unix)]
fn identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn identity(path: &Path) -> Option<(u64, u64)> {
    // Windows locks are per handle: a second SQLite in the process is seen, the log is not
    // deleted under this writer, and existence is all that needs checking.
    path.exists().then_some((0, 0))
}

impl SqliteStore {
    /// Runs `work` (which commits), making sure its writes reached the database's live log.
    pub(super) fn guarded<T>(
        &mut self,
        mut work: impl FnMut(&mut SqliteStore) -> Result<T, Error>,
    ) -> Result<T, Error> {
        for _ in 0..ATTEMPTS {
            if self.wal.stale {
                self.reopen()?;
            }
            let out = work(self)?;
            if self.wal.still_ours() {
                return Ok(out);
            }
            self.found_log_deleted();
        }
        Err(StoreError::Backend(format!(
            "the write-ahead log {:?} is deleted as fast as it is written (another SQLite \
             library in this process closing its connections?)",
            self.wal.path
        ))
        .into())
    }

    fn found_log_deleted(&mut self) {
        self.wal.stale = true;
        if REOPENED.fetch_add(1, Ordering::Relaxed) == 0 {
            eprintln!(
                "pathwise: warning: the write-ahead log of {} was deleted by another connection \
                 (a second copy of SQLite in this process, such as Python's sqlite3 module, \
                 closing its connection); reopened it and wrote the last batch again. Read the \
                 file from another process, or through Pathwise, to avoid this.",
                self.path.display()
            );
        }
    }

    /// Replaces the connection with a fresh one (and a fresh `WalFile`, no longer stale).
    fn reopen(&mut self) -> Result<(), Error> {
        // The old connection goes first: SQLite shares its files among a process's
        // connections, so a new one opened next to it would inherit the deleted ones. It must
        // not checkpoint its orphaned log into the database nor delete the live log by name on
        // the way out; its last writes are written again through the new connection.
        let closed = std::mem::replace(&mut self.conn, rusqlite::Connection::open_in_memory()?);
        closed.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)?;
        drop(closed);
        let rollups = self.dict.rollups_enabled;
        *self = SqliteStore::open_path(&self.path.clone())?;
        self.set_rollups(rollups);
        Ok(())
    }
}

/// Times this process found a Pathwise database's log deleted under its writer.
///
/// ```
/// assert_eq!(pathwise_store_sqlite::wal_reopened(), 0);
/// ```
pub fn wal_reopened() -> u64 {
    REOPENED.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pathwise_model::{Record, SpanKind, SpanRecord, TraceId};
    use pathwise_store::Store;

    fn span(id: u64) -> Record {
        Record::Span(SpanRecord::new(
            TraceId(7),
            id,
            if id == 1 { 0 } else { 1 },
            "work".into(),
            SpanKind::Span,
        ))
    }

    fn stored(db: &Path) -> i64 {
        let conn = rusqlite::Connection::open(db).unwrap();
        conn.query_row("SELECT count(*) FROM spans", [], |r| r.get(0))
            .unwrap()
    }

    /// What a second SQLite library's last connection does when it closes: checkpoint, then
    /// delete the log and the shared-memory index while this writer still has them open.
    fn checkpoint_and_delete_log(db: &Path) {
        let other = rusqlite::Connection::open(db).unwrap();
        other
            .query_row("PRAGMA wal_checkpoint(FULL)", [], |_| Ok(()))
            .unwrap();
        drop(other);
        for suffix in ["-wal", "-shm"] {
            let mut p = db.as_os_str().to_owned();
            p.push(suffix);
            std::fs::remove_file(PathBuf::from(p)).unwrap();
        }
    }

    #[test]
    fn writes_after_the_log_was_deleted_reach_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("p.db");
        let mut store = SqliteStore::open(&db).unwrap();
        store.write_records(&[span(1), span(2)]).unwrap();
        checkpoint_and_delete_log(&db);
        store.write_records(&[span(3), span(4)]).unwrap();
        store.write_records(&[span(5)]).unwrap();
        assert_eq!(stored(&db), 5, "every span is in the file readers see");
        assert!(wal_reopened() >= 1);
        // Written again after the reopen, the batch is not stored twice.
        store.write_records(&[span(5)]).unwrap();
        assert_eq!(stored(&db), 5);
    }
}
