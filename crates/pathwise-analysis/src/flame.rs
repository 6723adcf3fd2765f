//! Flame graphs (folded stacks rendered by `inferno`) and critical paths.

use std::collections::HashMap;

use pathwise_model::TraceId;
use pathwise_store::rollup::covered_ns;
use pathwise_store::{ReadStore, SpanRow};

use crate::AnalysisError;
use crate::metrics::Analysis;

/// Frames are separated by `;` in folded stacks; a name containing one is kept readable.
fn frame(name: &str) -> String {
    name.replace(';', ":")
}

fn render(folded: &[String], title: &str, count_name: &str) -> Result<String, AnalysisError> {
    render_with(folded, title, count_name, false)
}

fn render_with(
    folded: &[String],
    title: &str,
    count_name: &str,
    static_only: bool,
) -> Result<String, AnalysisError> {
    if folded.is_empty() {
        return Err(AnalysisError::Invalid("nothing recorded to draw".into()));
    }
    let mut options = inferno::flamegraph::Options::default();
    options.title = title.to_string();
    options.count_name = count_name.to_string();
    // A page that may not run scripts (a report file, an e-mail) gets the drawing alone.
    options.no_javascript = static_only;
    let mut svg = Vec::new();
    inferno::flamegraph::from_lines(&mut options, folded.iter().map(String::as_str), &mut svg)
        .map_err(|e| AnalysisError::Flame(e.to_string()))?;
    String::from_utf8(svg).map_err(|e| AnalysisError::Flame(e.to_string()))
}

/// Folded stacks of a window: each path's self time in microseconds.
pub fn window_folded(analysis: &Analysis) -> Vec<String> {
    let mut lines: Vec<String> = analysis
        .paths
        .iter()
        .filter(|p| p.self_ms >= 0.001)
        .map(|p| {
            let stack: Vec<String> = p
                .key
                .split(pathwise_store::PATH_SEPARATOR)
                .map(frame)
                .collect();
            format!(
                "{} {}",
                stack.join(";"),
                (p.self_ms * 1000.0).round() as u64
            )
        })
        .collect();
    lines.sort();
    lines
}

/// A flame graph of everything in a window (self time per path).
pub fn window_flamegraph_svg(analysis: &Analysis) -> Result<String, AnalysisError> {
    render(&window_folded(analysis), "Pathwise: time by path", "µs")
}

/// The window's flame graph as an image a page that runs no script can show (the HTML report,
/// an e-mail): the SVG without its script and comments, as a `data:` URI, since an SVG drawn
/// inline would also bring its stylesheet into the page. `None` when nothing was recorded.
pub(crate) fn static_window_flamegraph(analysis: &Analysis) -> Option<String> {
    use base64::Engine;
    let mut svg = render_with(&window_folded(analysis), "Time by path", "µs", true).ok()?;
    for (open, close) in [("<script", "</script>"), ("<!--", "-->")] {
        while let Some(at) = svg.find(open) {
            let Some(end) = svg[at..].find(close) else {
                break;
            };
            svg.replace_range(at..at + end + close.len(), "");
        }
    }
    Some(format!(
        "data:image/svg+xml;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(svg)
    ))
}

/// A differential flame graph: `after` drawn with colours showing growth (red) or shrinkage
/// (blue) against `before`.
pub fn diff_flamegraph_svg(before: &Analysis, after: &Analysis) -> Result<String, AnalysisError> {
    let (b, a) = (
        window_folded(before).join("\n"),
        window_folded(after).join("\n"),
    );
    let mut diff = Vec::new();
    let options = inferno::differential::Options {
        normalize: false,
        strip_hex: false,
    };
    inferno::differential::from_readers(options, b.as_bytes(), a.as_bytes(), &mut diff)
        .map_err(|e| AnalysisError::Flame(e.to_string()))?;
    let folded: Vec<String> = String::from_utf8_lossy(&diff)
        .lines()
        .map(str::to_string)
        .collect();
    render(&folded, "Pathwise: difference between windows", "µs")
}

/// Spans of a trace with each one's self time, root→span frame stacks.
pub(crate) fn trace_spans(
    store: &dyn ReadStore,
    trace: TraceId,
) -> Result<Vec<SpanRow>, AnalysisError> {
    store
        .spans(trace, None, 200_000)
        .map_err(|e| AnalysisError::Invalid(e.to_string()))
}

/// A flame graph of one trace (self time per span, stacked by parentage).
pub fn trace_flamegraph_svg(
    store: &dyn ReadStore,
    trace: TraceId,
) -> Result<String, AnalysisError> {
    let spans = trace_spans(store, trace)?;
    let by_id: HashMap<u64, &SpanRow> = spans.iter().map(|s| (s.span_id, s)).collect();
    // Self time is the span minus the union of its children (parallel children overlap).
    let mut child_intervals: HashMap<u64, Vec<(i64, i64)>> = HashMap::new();
    for span in &spans {
        child_intervals
            .entry(span.parent_id)
            .or_default()
            .push((span.start_ns, span.start_ns + span.duration_ns));
    }
    let mut folded: HashMap<String, i64> = HashMap::new();
    for span in &spans {
        let mut stack = vec![frame(&span.name)];
        let mut parent = span.parent_id;
        while let Some(p) = by_id.get(&parent) {
            if stack.len() > 512 {
                break;
            }
            stack.push(frame(&p.name));
            parent = p.parent_id;
        }
        stack.reverse();
        let covered = child_intervals.get_mut(&span.span_id).map_or(0, |kids| {
            covered_ns((span.start_ns, span.start_ns + span.duration_ns), kids)
        });
        let self_ns = (span.duration_ns - covered).max(0);
        *folded.entry(stack.join(";")).or_insert(0) += self_ns;
    }
    let mut lines: Vec<String> = folded
        .into_iter()
        .filter(|(_, ns)| *ns >= 1000)
        .map(|(stack, ns)| format!("{stack} {}", ns / 1000))
        .collect();
    lines.sort();
    render(&lines, &format!("Pathwise: trace {trace}"), "µs")
}
