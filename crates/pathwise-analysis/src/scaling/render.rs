//! Scaling reports in the four formats of `pathwise report`: on their own (`pathwise
//! loadtest`), or added to a rendered report as its last sections ([`add_to_report`]).
//!
//! - text: one ruled section per report, like the report's own sections;
//! - JSON: the reports as an array (`"scaling"`);
//! - HTML: per report, the one-line verdict, a log-log scatter with the fitted line (inline
//!   SVG, no script) and a table of the figures;
//! - CSV: one row per report (standalone only: a report's CSV is one row per path, and a
//!   second table would make it something no CSV reader takes).

use std::fmt::Write;

use serde_json::{Value, json};

use super::ScalingReport;
use crate::report::Format;

/// The reports as JSON: `{"scaling": [...]}`.
///
/// ```
/// assert_eq!(pathwise_analysis::scaling::to_json(&[])["scaling"], serde_json::json!([]));
/// ```
pub fn to_json(reports: &[ScalingReport]) -> Value {
    json!({ "scaling": reports })
}

/// The reports on their own in `format`.
///
/// ```
/// use pathwise_analysis::report::Format;
/// use pathwise_analysis::scaling::{ScalingReport, SizeField, render};
/// let report = ScalingReport::from_rows("sort", &SizeField::parse("n").unwrap(), &[], 100);
/// assert!(render(&[report.clone()], Format::Text).contains("SCALING OF sort BY n"));
/// assert!(render(&[report], Format::Csv).starts_with("node,size,"));
/// ```
pub fn render(reports: &[ScalingReport], format: Format) -> String {
    match format {
        Format::Text => reports.iter().map(text_section).collect(),
        Format::Json => serde_json::to_string_pretty(&to_json(reports)).unwrap_or_default(),
        Format::Csv => csv(reports),
        Format::Html => format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Pathwise — scaling</title>\
             <style>{STYLE}</style></head><body><h1>Scaling analysis</h1>{}</body></html>\n",
            reports.iter().map(html_section).collect::<String>()
        ),
    }
}

/// `rendered` (a report in `format`) with the scaling reports added as its last sections
/// (JSON: a `"scaling"` array). A CSV report is refused: it is one table, of paths.
///
/// ```
/// use pathwise_analysis::report::Format;
/// use pathwise_analysis::scaling::{ScalingReport, SizeField, add_to_report};
/// let report = ScalingReport::from_rows("sort", &SizeField::parse("n").unwrap(), &[], 100);
/// let json = add_to_report("{\"hot_paths\": []}", &[report.clone()], Format::Json).unwrap();
/// assert!(json.contains("\"scaling\"") && json.contains("\"hot_paths\""));
/// assert!(add_to_report("path,node\n", &[report], Format::Csv).is_err());
/// ```
pub fn add_to_report(
    rendered: &str,
    reports: &[ScalingReport],
    format: Format,
) -> Result<String, String> {
    Ok(match format {
        Format::Text => format!("{rendered}{}", render(reports, Format::Text)),
        Format::Json => {
            let mut json: Value = serde_json::from_str(rendered)
                .map_err(|e| format!("the JSON report does not parse: {e}"))?;
            json["scaling"] = serde_json::to_value(reports).unwrap_or(Value::Null);
            serde_json::to_string_pretty(&json).unwrap_or_default()
        }
        Format::Html => {
            let sections: String = reports.iter().map(html_section).collect();
            match rendered.rfind("</body>") {
                Some(at) => format!("{}{sections}{}", &rendered[..at], &rendered[at..]),
                None => format!("{rendered}{sections}"),
            }
        }
        Format::Csv => {
            return Err(
                "a CSV report is one row per path and has no room for scaling sections: \
                 use --format text, json or html (`pathwise loadtest --format csv` writes \
                 scaling as CSV)"
                    .into(),
            );
        }
    })
}

/// Three significant digits, without trailing zeros: 8, 0.125, 12.3, 4570.
fn number(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let decimals = (2 - v.abs().log10().floor() as i32).clamp(0, 12) as usize;
    let text = format!("{v:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// A duration given in ms, in the unit that keeps it readable: 26.1 ns, 4.2 µs, 310 ms, 2.5 s.
fn duration(ms: f64) -> String {
    match ms.abs() {
        v if v < 1e-3 => format!("{} ns", number(ms * 1e6)),
        v if v < 1.0 => format!("{} µs", number(ms * 1e3)),
        v if v < 1e3 => format!("{} ms", number(ms)),
        _ => format!("{} s", number(ms / 1e3)),
    }
}

/// The lines under a report's title: verdict, formula, what was read.
fn lines(report: &ScalingReport) -> Vec<String> {
    let mut out = Vec::new();
    match (&report.fit, &report.refused) {
        (Some(fit), _) => {
            out.push(fit.summary.clone());
            if fit.super_linear {
                out.push(format!(
                    "SUPER-LINEAR: doubling {} multiplies the time by about {}",
                    report.size,
                    number(2f64.powf(fit.exponent))
                ));
            }
            out.push(format!(
                "duration ≈ {} · n^{:.2} for sizes {} to {}",
                duration(fit.coefficient),
                fit.exponent,
                number(fit.min_size),
                number(fit.max_size)
            ));
        }
        (None, Some(reason)) => out.push(format!("no exponent: {reason}")),
        (None, None) => out.push("no exponent".into()),
    }
    out.push(format!(
        "calls read {} (newest, at most {}): fitted {}, failed {}, without a size {}, size or duration 0: {}",
        report.calls, report.limit, report.used, report.failed, report.without_size, report.not_positive
    ));
    out
}

fn text_section(report: &ScalingReport) -> String {
    let rule = "=".repeat(80);
    let mut out = format!(
        "\n{rule}\nSCALING OF {} BY {}\n{rule}\n",
        report.node, report.size
    );
    for line in lines(report) {
        let _ = writeln!(out, "{line}");
    }
    out
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn csv(reports: &[ScalingReport]) -> String {
    let mut out = String::from(
        "node,size,calls,used,exponent,ci_low,ci_high,r_squared,coefficient_ms,min_size,max_size,growth,super_linear,complexity,refused\n",
    );
    for r in reports {
        let fit = r.fit.as_ref();
        let figure = |f: fn(&crate::perf::scaling::PowerLaw) -> f64| {
            fit.map_or(String::new(), |fit| format!("{:.6}", f(fit)))
        };
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            csv_field(&r.node),
            csv_field(&r.size),
            r.calls,
            r.used,
            figure(|f| f.exponent),
            figure(|f| f.ci_low),
            figure(|f| f.ci_high),
            figure(|f| f.r_squared),
            figure(|f| f.coefficient),
            figure(|f| f.min_size),
            figure(|f| f.max_size),
            fit.map_or("", |f| f.growth.words()),
            fit.is_some_and(|f| f.super_linear),
            fit.map_or("", |f| f.complexity.as_str()),
            csv_field(r.refused.as_deref().unwrap_or(""))
        );
    }
    out
}

/// For the standalone page; inside a report the report's own style applies (the same
/// `chart`, `legend` and `flag` classes).
const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;color:#222}\
h2{margin-top:1.8em;border-bottom:1px solid #ddd;padding-bottom:.2em}table{border-collapse:collapse;margin:.6em 0 1.2em}\
td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}th{background:#f3f3f3}\
svg.chart{display:block;max-width:100%;height:auto;margin:.4em 0}.legend{color:#555}";

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn html_section(report: &ScalingReport) -> String {
    let mut out = format!(
        "<section class=\"scaling\"><h2>Scaling of {} by {}</h2>",
        escape(&report.node),
        escape(&report.size)
    );
    for (i, line) in lines(report).iter().enumerate() {
        let flagged = line.starts_with("SUPER-LINEAR");
        let style = if flagged {
            " style=\"color:#b5443a;font-weight:bold\""
        } else {
            ""
        };
        let class = if i == 0 { "" } else { " class=\"legend\"" };
        let _ = write!(out, "<p{class}{style}>{}</p>", escape(line));
    }
    if report.fit.is_some() {
        out.push_str(&scatter_svg(report));
    }
    out.push_str("</section>");
    out
}

/// A log-log scatter of the fitted calls with the fitted line, axes labelled in decades.
fn scatter_svg(report: &ScalingReport) -> String {
    let Some(fit) = &report.fit else {
        return String::new();
    };
    let (w, h, left, right, top, bottom) = (640.0, 300.0, 64.0, 16.0, 12.0, 40.0);
    let ms: Vec<f64> = report.points.iter().map(|p| p.duration_ms).collect();
    let lo_y = ms
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min)
        .log10()
        .floor();
    let hi_y = ms
        .iter()
        .copied()
        .fold(0.0, f64::max)
        .log10()
        .ceil()
        .max(lo_y + 1.0);
    let lo_x = fit.min_size.log10().floor();
    let hi_x = fit.max_size.log10().ceil().max(lo_x + 1.0);
    let x = |size: f64| left + (size.log10() - lo_x) / (hi_x - lo_x) * (w - left - right);
    let y = |ms: f64| h - bottom - (ms.log10() - lo_y) / (hi_y - lo_y) * (h - top - bottom);
    let mut svg = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"duration against {} (log-log)\" font-size=\"11\">",
        escape(&report.size)
    );
    for d in lo_x as i32..=hi_x as i32 {
        let gx = x(10f64.powi(d));
        let _ = write!(
            svg,
            "<line x1=\"{gx:.1}\" x2=\"{gx:.1}\" y1=\"{top}\" y2=\"{}\" stroke=\"#eee\"/><text x=\"{gx:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            h - bottom,
            h - bottom + 14.0,
            number(10f64.powi(d))
        );
    }
    for d in lo_y as i32..=hi_y as i32 {
        let gy = y(10f64.powi(d));
        let _ = write!(
            svg,
            "<line x1=\"{left}\" x2=\"{}\" y1=\"{gy:.1}\" y2=\"{gy:.1}\" stroke=\"#eee\"/><text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            w - right,
            left - 4.0,
            gy + 4.0,
            duration(10f64.powi(d))
        );
    }
    let _ = write!(
        svg,
        "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{} (log scale)</text>",
        (left + w - right) / 2.0,
        h - 4.0,
        escape(&report.size)
    );
    for p in &report.points {
        let _ = write!(
            svg,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\" fill=\"#4a78b5\" fill-opacity=\"0.55\"/>",
            x(p.size),
            y(p.duration_ms)
        );
    }
    let color = if fit.super_linear { "#b5443a" } else { "#333" };
    let _ = write!(
        svg,
        "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{color}\" stroke-width=\"2\"><title>{}</title></line></svg>",
        x(fit.min_size),
        y(fit.predict(fit.min_size)),
        x(fit.max_size),
        y(fit.predict(fit.max_size)),
        escape(&fit.summary)
    );
    svg
}

#[cfg(test)]
mod tests {
    use pathwise_store::NodePayload;

    use super::*;
    use crate::scaling::SizeField;

    fn quadratic() -> ScalingReport {
        let rows: Vec<NodePayload> = (1..=30)
            .map(|n| NodePayload {
                start_ns: 0,
                duration_ns: 10_000 * n * n,
                failed: false,
                json: format!(r#"{{"n":{n}}}"#),
            })
            .collect();
        ScalingReport::from_rows(
            "Catalog.<dedupe>",
            &SizeField::parse("n").unwrap(),
            &rows,
            5000,
        )
    }

    #[test]
    fn every_format_carries_the_verdict() {
        let reports = [quadratic()];
        let text = render(&reports, Format::Text);
        assert!(text.contains("SCALING OF Catalog.<dedupe> BY n"), "{text}");
        assert!(text.contains("≈ O(n^2) (exponent 2.00"), "{text}");
        assert!(text.contains("SUPER-LINEAR: doubling n multiplies the time by about 4\n"));
        assert!(
            text.contains("duration ≈ 10 µs · n^2.00 for sizes 1 to 30"),
            "{text}"
        );
        let json: Value = serde_json::from_str(&render(&reports, Format::Json)).unwrap();
        assert_eq!(json["scaling"][0]["fit"]["complexity"], "O(n^2)");
        assert_eq!(json["scaling"][0]["points"].as_array().unwrap().len(), 30);
        let html = render(&reports, Format::Html);
        assert!(html.contains("Scaling of Catalog.&lt;dedupe&gt; by n"));
        assert_eq!(html.matches("<circle").count(), 30);
        assert!(!html.contains("<script"));
        let csv = render(&reports, Format::Csv);
        let row: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
        assert_eq!(row[0], "Catalog.<dedupe>");
        assert!(
            row[4].starts_with("2.0000") || row[4].starts_with("1.9999"),
            "{csv}"
        );
        assert_eq!(&row[11..14], ["super-linear", "true", "O(n^2)"]);
    }

    #[test]
    fn numbers_and_durations_stay_readable() {
        assert_eq!(
            [number(8.0), number(128.0), number(0.125), number(3.7321)],
            ["8", "128", "0.125", "3.73"]
        );
        assert_eq!(
            [
                duration(0.0000261),
                duration(0.0042),
                duration(310.0),
                duration(2500.0)
            ],
            ["26.1 ns", "4.2 µs", "310 ms", "2.5 s"]
        );
    }

    #[test]
    fn sections_go_at_the_end_of_a_report() {
        let reports = [quadratic()];
        let page = "<html><body><h1>Report</h1></body></html>";
        let html = add_to_report(page, &reports, Format::Html).unwrap();
        assert!(html.ends_with("</section></body></html>"), "{html}");
        let text = add_to_report("REPORT\n", &reports, Format::Text).unwrap();
        assert!(text.starts_with("REPORT\n\n====="));
        assert!(add_to_report("not json", &reports, Format::Json).is_err());
    }
}
