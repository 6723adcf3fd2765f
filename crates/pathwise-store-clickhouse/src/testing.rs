//! A real two-shard cluster on loopback for tests (feature `testing`), started by the
//! repository's `scripts/clickhouse-cluster` in a temporary directory and stopped on drop.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A cluster of two shards for the life of a test, stopped on drop.
///
/// ```no_run
/// if let Some(cluster) = pathwise_store_clickhouse::testing::Cluster::start(18123) {
///     let url = cluster.url("pw_test");
///     assert!(url.starts_with("clickhouse://127.0.0.1:18123,127.0.0.1:18124/pw_test"));
/// }
/// ```
pub struct Cluster {
    dir: tempfile::TempDir,
    base: u16,
}

fn script() -> PathBuf {
    // The script is part of the repository, next to this crate.
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/clickhouse-cluster")
}

impl Cluster {
    /// `None` (the test is skipped) only when PATHWISE_SKIP_CLICKHOUSE=1; otherwise a missing
    /// server fails the test with what to install.
    /// Starts the cluster on ports `base..base + 6`.
    pub fn start(base: u16) -> Option<Cluster> {
        let has_server = Path::new("/usr/bin/clickhouse-server").exists()
            || Path::new("/usr/sbin/clickhouse-server").exists();
        if !has_server {
            if std::env::var("PATHWISE_SKIP_CLICKHOUSE").as_deref() == Ok("1") {
                eprintln!("skipping: no clickhouse-server and PATHWISE_SKIP_CLICKHOUSE=1");
                return None;
            }
            panic!(
                "clickhouse-server not found: install it (Debian: apt-get install -y clickhouse-server) \
                 or set PATHWISE_SKIP_CLICKHOUSE=1 to skip the ClickHouse tests"
            );
        }
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("bash")
            .arg(script())
            .arg("start")
            .arg(dir.path())
            .env("PATHWISE_CH_PORT_BASE", base.to_string())
            .output()
            .unwrap();
        let cluster = Cluster { dir, base };
        // On failure the cluster is dropped here, which stops whatever did start.
        assert!(
            out.status.success(),
            "cluster did not start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Some(cluster)
    }

    /// The address of database `db` on the cluster, both shards listed.
    pub fn url(&self, db: &str) -> String {
        format!(
            "clickhouse://127.0.0.1:{},127.0.0.1:{}/{db}?cluster=pathwise",
            self.base,
            self.base + 1
        )
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(script())
            .arg("stop")
            .arg(self.dir.path())
            .status();
    }
}
