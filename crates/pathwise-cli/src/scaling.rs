//! Scaling analysis on the command line: `NODE=FIELD` targets, as `pathwise report --scaling`
//! and `pathwise loadtest` take them, analysed and rendered by `pathwise_analysis::scaling`.

use pathwise_analysis::Window;
use pathwise_analysis::report::Format;
use pathwise_analysis::scaling::{self, ScalingReport, SizeField};
use pathwise_store::Reader;

use crate::error::CliError;

/// One node to analyse and the field holding the size of its calls.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub node: String,
    pub size: SizeField,
}

/// Parses `NODE=FIELD`, split at the last `=` (span names of database statements hold `=`;
/// field names do not).
pub fn parse_target(text: &str) -> Result<Target, CliError> {
    let usage = || {
        CliError::Input(format!(
            "--scaling {text:?}: expected NODE=FIELD, e.g. SearchService.dedupe_results=dataset_count \
             or Catalog.load=input.items"
        ))
    };
    let (node, field) = text.rsplit_once('=').ok_or_else(usage)?;
    if node.is_empty() {
        return Err(usage());
    }
    let size =
        SizeField::parse(field).map_err(|e| CliError::Input(format!("--scaling {text:?}: {e}")))?;
    Ok(Target {
        node: node.to_string(),
        size,
    })
}

/// The scaling report of each target over `window`.
pub fn analyse(
    reader: &dyn Reader,
    window: Window,
    targets: &[Target],
) -> Result<Vec<ScalingReport>, CliError> {
    targets
        .iter()
        .map(|t| {
            scaling::scaling(reader, &t.node, &t.size, window, scaling::DEFAULT_LIMIT)
                .map_err(|e| CliError::Failed(format!("scaling of {}: {e}", t.node)))
        })
        .collect()
}

/// Checks `--scaling` targets for a report in `format` before any work: parsed, and not
/// asked of a CSV report (one table, of paths).
pub fn report_targets(texts: &[String], format: Format) -> Result<Vec<Target>, CliError> {
    if !texts.is_empty() && format == Format::Csv {
        return Err(CliError::Input(
            "--scaling with --format csv: a CSV report is one row per path; use text, json or \
             html (`pathwise loadtest --format csv` writes scaling as CSV)"
                .into(),
        ));
    }
    texts.iter().map(|t| parse_target(t)).collect()
}

/// `rendered` (a report in `format`) with the scaling sections of `targets` added.
pub fn add_to_report(
    rendered: String,
    reader: &dyn Reader,
    window: Window,
    targets: &[Target],
    format: Format,
) -> Result<String, CliError> {
    if targets.is_empty() {
        return Ok(rendered);
    }
    let reports = analyse(reader, window, targets)?;
    scaling::add_to_report(&rendered, &reports, format).map_err(CliError::Failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_split_at_the_last_equals_sign() {
        // A node name may hold `=` itself (a normalised database statement does).
        let t = parse_target("users where id = ?=db.rows").unwrap();
        assert_eq!(t.node, "users where id = ?");
        assert_eq!(t.size, SizeField::Attribute("db.rows".into()));
        let t = parse_target("load=input.items").unwrap();
        assert_eq!(t.size, SizeField::Input("items".into()));
        for bad in ["no-equals", "=n", "node=", "node=input."] {
            assert!(parse_target(bad).is_err(), "{bad}");
        }
        assert!(report_targets(&["a=b".into()], Format::Csv).is_err());
        assert!(report_targets(&[], Format::Csv).unwrap().is_empty());
    }
}
