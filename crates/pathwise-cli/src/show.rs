//! `pathwise show ID`: one trace as a tree of spans, with timings, outcomes and, for decision
//! steps, their input, output, reasoning and metadata.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use pathwise_model::{SpanKind, Status, TraceId};
use pathwise_store::{SpanRow, TraceSummary};
use serde_json::Value;

use crate::ShowArgs;
use crate::error::{CliError, open_reader};
use crate::format::{emit, excerpt, ms, utc_iso};

/// Most spans loaded for one trace.
const MAX_SPANS: usize = 100_000;
/// Longest detail line (input, output, reasoning, metadata), in characters.
const DETAIL_WIDTH: usize = 160;

/// Runs `pathwise show`.
pub fn run(args: &ShowArgs) -> Result<(), CliError> {
    let id = TraceId::parse_hex(args.id.trim()).ok_or_else(|| {
        CliError::Input(format!(
            "{:?} is not a trace id: expected 32 hex digits, as printed by `pathwise traces`",
            excerpt(&args.id, 64)
        ))
    })?;
    let db = &args.db.db;
    let reader = open_reader(db)?;
    let trace = reader
        .trace(id)
        .map_err(|e| CliError::store(db, e))?
        .ok_or_else(|| CliError::Failed(format!("no trace {id} in {}", db.display())))?;
    let spans = reader
        .spans(id, None, MAX_SPANS)
        .map_err(|e| CliError::store(db, e))?;
    if args.json {
        let value = serde_json::json!({ "trace": trace, "spans": spans });
        let text = serde_json::to_string_pretty(&value)
            .map_err(|e| CliError::Failed(format!("cannot encode JSON: {e}")))?;
        emit(&format!("{text}\n"))
    } else {
        emit(&render(&trace, &spans))
    }
}

/// The whole report: a header about the trace, then the span tree.
fn render(trace: &TraceSummary, spans: &[SpanRow]) -> String {
    let mut out = String::new();
    let duration = trace
        .duration_ns
        .map_or_else(|| "running".to_string(), |d| format!("{} ms", ms(d)));
    let _ = writeln!(
        out,
        "trace {}  {}",
        trace.trace_id,
        excerpt(&trace.name, 120)
    );
    let _ = writeln!(
        out,
        "  status {}  started {}  duration {duration}  spans {}  errors {}",
        trace.status.as_str(),
        utc_iso(trace.start_ns),
        trace.span_count,
        trace.error_count
    );
    if let Some(metadata) = &trace.metadata {
        let _ = writeln!(
            out,
            "  metadata {}",
            excerpt(&compact(metadata), DETAIL_WIDTH)
        );
    }
    if spans.len() >= MAX_SPANS {
        let _ = writeln!(out, "  (only the first {MAX_SPANS} spans are shown)");
    }
    out.push('\n');
    if spans.is_empty() {
        out.push_str("(no spans stored yet)\n");
    }
    let tree = Tree::new(spans);
    for &root in &tree.roots {
        tree.render(root, trace.start_ns, "", "", &mut out);
    }
    out
}

/// Spans indexed by parent: children in start order (the order the store returns them).
struct Tree<'a> {
    spans: &'a [SpanRow],
    children: HashMap<u64, Vec<usize>>,
    /// Spans without a known parent: the root, and orphans whose parent was not stored.
    roots: Vec<usize>,
}

impl<'a> Tree<'a> {
    fn new(spans: &'a [SpanRow]) -> Self {
        let ids: HashSet<u64> = spans.iter().map(|s| s.span_id).collect();
        let mut children: HashMap<u64, Vec<usize>> = HashMap::new();
        let mut roots = Vec::new();
        for (index, span) in spans.iter().enumerate() {
            if span.parent_id != 0
                && span.parent_id != span.span_id
                && ids.contains(&span.parent_id)
            {
                children.entry(span.parent_id).or_default().push(index);
            } else {
                roots.push(index);
            }
        }
        Tree {
            spans,
            children,
            roots,
        }
    }

    /// Writes span `index` and its subtree. `first` prefixes the span's own line, `rest` the
    /// lines below it (details and children). Iterative: a deeply recursive program must not
    /// overflow the CLI's stack.
    fn render(&self, index: usize, trace_start: i64, first: &str, rest: &str, out: &mut String) {
        let mut stack = vec![(index, first.to_string(), rest.to_string())];
        while let Some((index, first, rest)) = stack.pop() {
            let span = &self.spans[index];
            let children = self
                .children
                .get(&span.span_id)
                .map_or(&[][..], Vec::as_slice);
            let _ = writeln!(out, "{first}{}", headline(span, trace_start));
            let detail_prefix = format!("{rest}{}   ", if children.is_empty() { " " } else { "│" });
            for line in details(span) {
                let _ = writeln!(out, "{detail_prefix}{line}");
            }
            for (i, &child) in children.iter().enumerate().rev() {
                let last = i + 1 == children.len();
                let (branch, cont) = if last {
                    ("└─ ", "   ")
                } else {
                    ("├─ ", "│  ")
                };
                stack.push((child, format!("{rest}{branch}"), format!("{rest}{cont}")));
            }
        }
    }
}

/// `✓ name  [kind, group]  12.34 ms  @+1.20 ms` plus the error, if any.
fn headline(span: &SpanRow, trace_start: i64) -> String {
    let mark = match span.status {
        Status::Ok => "✓",
        Status::Error => "✗",
    };
    let kind = match &span.group {
        Some(group) => format!("{}, {}", span.kind.as_str(), excerpt(group, 40)),
        None => span.kind.as_str().to_string(),
    };
    let mut line = format!(
        "{mark} {}  [{kind}]  {} ms  @+{} ms",
        excerpt(&span.name, 100),
        ms(span.duration_ns),
        ms(span.start_ns.saturating_sub(trace_start))
    );
    if span.status == Status::Error {
        let error_type = span.error_type.as_deref().unwrap_or("error");
        let message = span.error_message.as_deref().unwrap_or("");
        let _ = write!(
            line,
            "  {}: {}",
            short_type(error_type),
            excerpt(message, 120)
        );
    }
    line
}

/// The last path segment of a Rust type name, generics kept: `a::b::RateLimitError` →
/// `RateLimitError`.
fn short_type(name: &str) -> &str {
    let head = name.split('<').next().unwrap_or(name);
    match head.rfind("::") {
        Some(i) => &name[i + 2..],
        None => name,
    }
}

/// Detail lines: attributes for every span; input, output, reasoning and metadata for steps,
/// traces and monitored functions.
fn details(span: &SpanRow) -> Vec<String> {
    let mut lines = Vec::new();
    let width = DETAIL_WIDTH;
    if let Some(error_type) = span.error_type.as_deref().filter(|t| short_type(t) != *t) {
        lines.push(format!("error type: {}", excerpt(error_type, width)));
    }
    if let Some(Value::Array(chain)) = &span.error_chain {
        for cause in chain {
            lines.push(format!("caused by: {}", excerpt(&plain(cause), width)));
        }
    }
    if let Some(attrs) = &span.attrs {
        lines.push(format!("attrs: {}", excerpt(&compact(attrs), width)));
    }
    let decision = matches!(span.kind, SpanKind::Step | SpanKind::Trace);
    if let Some(input) = &span.input {
        lines.push(format!("input: {}", excerpt(&compact(input), width)));
    }
    if let Some(output) = &span.output {
        lines.push(format!("output: {}", excerpt(&compact(output), width)));
    }
    if let Some(reasoning) = &span.reasoning {
        lines.push(format!("reasoning: {}", excerpt(reasoning, width)));
    }
    if let Some(metadata) = &span.metadata {
        match metadata {
            // One line per metadata key: evaluations and rankings are long.
            Value::Object(map) if decision => {
                for (key, value) in map {
                    lines.push(format!("{key}: {}", excerpt(&summary(key, value), width)));
                }
            }
            other => lines.push(format!("metadata: {}", excerpt(&compact(other), width))),
        }
    }
    lines
}

/// A metadata entry, summarised when it has a shape the SDK's helpers write.
fn summary(key: &str, value: &Value) -> String {
    match (key, value) {
        ("evaluations", Value::Array(items)) => {
            let qualified = items
                .iter()
                .filter(|e| e["qualified"] == Value::Bool(true))
                .count();
            let ids: Vec<String> = items
                .iter()
                .map(|e| {
                    let mark = if e["qualified"] == Value::Bool(true) {
                        "✓"
                    } else {
                        "✗"
                    };
                    format!("{mark}{}", plain(&e["item_id"]))
                })
                .collect();
            format!("{qualified}/{} qualified: {}", items.len(), ids.join(" "))
        }
        ("ranking", Value::Array(items)) => items
            .iter()
            .map(|r| {
                format!(
                    "#{} {} ({})",
                    plain(&r["rank"]),
                    plain(&r["item_id"]),
                    plain(&r["score"])
                )
            })
            .collect::<Vec<_>>()
            .join(", "),
        _ => compact(value),
    }
}

/// Compact JSON text.
fn compact(value: &Value) -> String {
    value.to_string()
}

/// A JSON value without quotes around strings.
fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(id: u64, parent: u64, name: &str, kind: SpanKind) -> SpanRow {
        SpanRow {
            span_id: id,
            parent_id: parent,
            name: name.into(),
            path: String::new(),
            group: None,
            kind,
            start_ns: id as i64 * 1_000_000,
            duration_ns: 2_000_000,
            status: Status::Ok,
            error_type: None,
            error_message: None,
            error_chain: None,
            attrs: None,
            input: None,
            output: None,
            reasoning: None,
            metadata: None,
        }
    }

    #[test]
    fn draws_a_tree_in_start_order() {
        let mut failed = span(3, 1, "ranking", SpanKind::Step);
        failed.status = Status::Error;
        failed.error_type = Some("demo::RankingError".into());
        failed.error_message = Some("no candidate left".into());
        failed.reasoning = Some("line one\nline two".into());
        let spans = vec![
            span(1, 0, "competitor-selection", SpanKind::Trace),
            span(2, 1, "keyword_generation", SpanKind::Step),
            failed,
            span(4, 99, "orphan", SpanKind::Span),
        ];
        let tree = Tree::new(&spans);
        let mut out = String::new();
        for &root in &tree.roots {
            tree.render(root, 0, "", "", &mut out);
        }
        let lines: Vec<&str> = out.lines().collect();
        assert!(
            lines[0].starts_with("✓ competitor-selection  [trace]"),
            "{out}"
        );
        assert!(lines[1].starts_with("├─ ✓ keyword_generation"), "{out}");
        assert!(lines[2].starts_with("└─ ✗ ranking"), "{out}");
        assert!(
            lines[2].ends_with("RankingError: no candidate left"),
            "{out}"
        );
        assert!(out.contains("reasoning: line one\\nline two"), "{out}");
        assert!(lines.last().unwrap().starts_with("✓ orphan"), "{out}");
    }

    #[test]
    fn shortens_type_names() {
        assert_eq!(short_type("a::b::RateLimitError"), "RateLimitError");
        assert_eq!(short_type("panic"), "panic");
        assert_eq!(short_type("a::Wrapper<b::C>"), "Wrapper<b::C>");
    }
}
