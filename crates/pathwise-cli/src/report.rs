//! `pathwise report`: the execution path analysis report, from the store's rollups.

use pathwise_analysis::monitoring::{MonitorConfig, StoredBaseline};
use pathwise_analysis::report::{Format, render_with};
use pathwise_analysis::{Analysis, Window};

use crate::ReportArgs;
use crate::error::{CliError, open_reader};
use crate::format::emit;

/// Runs `pathwise report`.
pub fn run(args: &ReportArgs) -> Result<(), CliError> {
    let window = match &args.since {
        None => Window::all(),
        Some(text) => {
            let age = humantime::parse_duration(text)
                .map_err(|e| CliError::Input(format!("--since {text:?}: {e} (try 15m, 1h, 7d)")))?;
            Window::last(age)
        }
    };
    let reader = open_reader(&args.db.db)?;
    let analysis = Analysis::load(reader.as_ref(), window)
        .map_err(|e| CliError::Failed(format!("analysis failed: {e}")))?;
    let format: Format = args.format.parse().map_err(CliError::Input)?;
    let stored: Vec<StoredBaseline> = reader
        .baselines()
        .map_err(|e| CliError::store(&args.db.db, e))?
        .iter()
        .map(StoredBaseline::from)
        .collect();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64);
    let snapshot = pathwise_analysis::snapshot::snapshot(
        reader.as_ref(),
        now,
        &MonitorConfig::default(),
        &stored,
        None,
        &[],
    )
    .map_err(|e| CliError::Failed(format!("monitoring failed: {e}")))?;
    let patterns = if args.attr.is_empty() {
        pathwise_analysis::top_error_patterns(reader.as_ref(), window, 3)
    } else {
        args.attr
            .iter()
            .map(|key| pathwise_analysis::error_patterns(reader.as_ref(), window, key))
            .collect()
    }
    .map_err(|e| CliError::Input(format!("error patterns: {e}")))?;
    let text = render_with(&analysis, Some(&snapshot), &patterns, format);
    match &args.out {
        Some(path) => std::fs::write(path, text)
            .map_err(|e| CliError::Failed(format!("cannot write {}: {e}", path.display())))
            .and_then(|()| emit(&format!("report written to {}\n", path.display()))),
        None => emit(&text),
    }
}
