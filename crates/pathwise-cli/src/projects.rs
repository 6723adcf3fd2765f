//! `pathwise serve --projects FILE`: one server, many projects, each in a store of its own.
//!
//! ```toml
//! default = "web"                  # the name of the --db project (default "default")
//!
//! [[project]]
//! name = "checkout"
//! store = "checkout.db"            # relative to this file; or clickhouse://…/checkout
//! alerts = "alerts-checkout.toml"  # optional: rules evaluated over this project alone
//! retention = "7d"                 # optional: delete older data (default: keep)
//! retention_bytes = 1073741824     # optional: delete the oldest hours past this size
//! ```
//!
//! A store per project keeps every project's traces, rollups, baselines, alert state and
//! retention apart by construction: no query can mix two projects, and a project's size,
//! retention and deletion are its store's.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::error::CliError;

/// A projects file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectsFile {
    /// The name of the project the `--db` store holds.
    #[serde(default)]
    pub default: Option<String>,
    /// Retention of the default project ("30d").
    #[serde(default)]
    pub default_retention: Option<String>,
    #[serde(default)]
    pub project: Vec<ProjectEntry>,
}

/// One `[[project]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectEntry {
    pub name: String,
    /// A SQLite path (relative to the file) or a `clickhouse://` address; default
    /// `<name>.db` beside the file.
    #[serde(default)]
    pub store: Option<String>,
    /// An alert rules file (relative to the file).
    #[serde(default)]
    pub alerts: Option<PathBuf>,
    /// "7d", "12h"…
    #[serde(default)]
    pub retention: Option<String>,
    #[serde(default)]
    pub retention_bytes: Option<u64>,
}

impl ProjectEntry {
    /// Where the project's data is, relative paths taken from `base` (the file's directory).
    pub fn store(&self, base: &Path) -> PathBuf {
        match &self.store {
            Some(s) if s.starts_with("clickhouse://") => PathBuf::from(s),
            Some(s) => base.join(s.strip_prefix("sqlite:").unwrap_or(s)),
            None => base.join(format!("{}.db", self.name)),
        }
    }
}

/// A retention given as text ("7d"), checked.
pub fn retention(text: Option<&str>) -> Result<Option<Duration>, String> {
    text.map(|t| humantime::parse_duration(t).map_err(|e| format!("retention {t:?}: {e}")))
        .transpose()
}

/// Checks a project name (the server's rule), as an input error.
pub fn check_name(name: &str) -> Result<(), String> {
    pathwise_server::check_project_name(name)
}

/// Reads and checks a projects file: names valid and distinct, the default's name too.
pub fn read(file: &Path) -> Result<ProjectsFile, CliError> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| CliError::Input(format!("cannot read {}: {e}", file.display())))?;
    let parsed: ProjectsFile =
        toml::from_str(&text).map_err(|e| CliError::Input(format!("{}: {e}", file.display())))?;
    let bad = |e: String| CliError::Input(format!("{}: {e}", file.display()));
    let default = parsed.default.as_deref().unwrap_or("default");
    let mut seen = vec![default];
    check_name(default).map_err(bad)?;
    retention(parsed.default_retention.as_deref()).map_err(bad)?;
    for p in &parsed.project {
        check_name(&p.name).map_err(bad)?;
        retention(p.retention.as_deref()).map_err(bad)?;
        if seen.contains(&p.name.as_str()) {
            return Err(CliError::Input(format!(
                "{}: project {:?} is named twice",
                file.display(),
                p.name
            )));
        }
        seen.push(&p.name);
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ProjectsFile, CliError> {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("projects.toml");
        std::fs::write(&file, text).unwrap();
        read(&file)
    }

    #[test]
    fn a_file_names_projects_with_their_stores_and_retention() {
        let file = parse(
            "default = \"web\"\n[[project]]\nname = \"checkout\"\nretention = \"7d\"\n\
             [[project]]\nname = \"billing\"\nstore = \"clickhouse://127.0.0.1:8123/billing\"\n",
        )
        .unwrap();
        assert_eq!(file.default.as_deref(), Some("web"));
        assert_eq!(
            retention(file.project[0].retention.as_deref()),
            Ok(Some(Duration::from_secs(7 * 86_400)))
        );
        assert_eq!(
            file.project[0].store(Path::new("/etc/pw")),
            Path::new("/etc/pw/checkout.db")
        );
        assert_eq!(
            file.project[1].store(Path::new("/etc/pw")),
            Path::new("clickhouse://127.0.0.1:8123/billing")
        );
    }

    #[test]
    fn bad_names_twice_named_projects_and_unknown_keys_are_refused() {
        for (text, expected) in [
            ("[[project]]\nname = \"../etc\"\n", "not a project name"),
            (
                "[[project]]\nname = \"a\"\n[[project]]\nname = \"a\"\n",
                "twice",
            ),
            ("[[project]]\nname = \"default\"\n", "twice"),
            (
                "[[project]]\nname = \"a\"\nretension = \"1d\"\n",
                "unknown field",
            ),
            (
                "[[project]]\nname = \"a\"\nretention = \"soon\"\n",
                "retention",
            ),
        ] {
            let error = parse(text).unwrap_err().to_string();
            assert!(error.contains(expected), "{text}: {error}");
        }
    }
}
