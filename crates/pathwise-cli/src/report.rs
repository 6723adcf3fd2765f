//! `pathwise report`: the execution path analysis report of a period, from the store.

use pathwise_analysis::Window;
use pathwise_analysis::report::{Format, Period, Report};

use crate::ReportArgs;
use crate::error::{CliError, open_reader};
use crate::format::emit;

/// Runs `pathwise report`.
pub fn run(args: &ReportArgs) -> Result<(), CliError> {
    let now = pathwise_alerts::now_ns();
    let (window, title) = match (&args.period, &args.since) {
        (Some(period), _) => {
            let period: Period = period.parse().map_err(CliError::Input)?;
            (period.last_whole(now), period.title())
        }
        (None, Some(text)) => {
            let age = humantime::parse_duration(text)
                .map_err(|e| CliError::Input(format!("--since {text:?}: {e} (try 15m, 1h, 7d)")))?;
            (Window::last(age), "Execution path analysis report")
        }
        (None, None) => (Window::all(), "Execution path analysis report"),
    };
    let format: Format = args.format.parse().map_err(CliError::Input)?;
    let scaling = crate::scaling::report_targets(&args.scaling, format)?;
    let reader = open_reader(&args.db.db)?;
    let report =
        Report::load(reader.as_ref(), window, now, &args.attr, title).map_err(|e| match e {
            pathwise_analysis::AnalysisError::Invalid(reason) => CliError::Input(reason),
            other => CliError::Failed(format!("report failed: {other}")),
        })?;
    let text = crate::scaling::add_to_report(
        report.render(format),
        reader.as_ref(),
        window,
        &scaling,
        format,
    )?;
    match &args.out {
        Some(path) => std::fs::write(path, text)
            .map_err(|e| CliError::Failed(format!("cannot write {}: {e}", path.display())))
            .and_then(|()| emit(&format!("report written to {}\n", path.display()))),
        None => emit(&text),
    }
}
