//! Inline SVG charts for the HTML report: drawn here as plain shapes and text with fixed sizes
//! and a `viewBox`, so they need no script, no font or stylesheet from elsewhere, scale with the
//! page and print as they show.

use std::fmt::Write;

use super::html::escape;

/// Width of every chart in SVG units (the page scales it to its column).
const WIDTH: f64 = 760.0;
const BAR_HEIGHT: f64 = 18.0;
const BAR_GAP: f64 = 6.0;
/// Room for the label left of a horizontal bar.
const LABEL_WIDTH: f64 = 300.0;

/// One bar: its label, its length and the text written after it.
pub(crate) struct Bar {
    pub label: String,
    pub value: f64,
    pub text: String,
}

fn open(out: &mut String, height: f64, title: &str) {
    let _ = write!(
        out,
        "<svg class=\"chart\" viewBox=\"0 0 {WIDTH} {height}\" width=\"{WIDTH}\" height=\"{height}\" role=\"img\" aria-label=\"{}\" font-family=\"system-ui, sans-serif\" font-size=\"12\">",
        escape(title)
    );
}

/// A label cut to what fits beside a bar, the cut marked.
fn fit(label: &str, max_chars: usize) -> String {
    if label.chars().count() <= max_chars {
        return label.to_string();
    }
    // Paths are read from their end (the node itself), so the start is what goes.
    let tail: String = label
        .chars()
        .rev()
        .take(max_chars - 1)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("…{tail}")
}

/// Horizontal bars, longest value drawn full width.
pub(crate) fn bars(title: &str, bars: &[Bar], colour: &str) -> String {
    let mut out = String::new();
    if bars.is_empty() {
        return out;
    }
    let height = bars.len() as f64 * (BAR_HEIGHT + BAR_GAP) + BAR_GAP;
    open(&mut out, height, title);
    let max = bars.iter().map(|b| b.value).fold(0.0_f64, f64::max);
    let room = WIDTH - LABEL_WIDTH - 190.0;
    for (i, bar) in bars.iter().enumerate() {
        let y = BAR_GAP + i as f64 * (BAR_HEIGHT + BAR_GAP);
        let length = if max > 0.0 {
            (bar.value / max * room).max(1.0)
        } else {
            1.0
        };
        let _ = write!(
            out,
            "<text x=\"{:.0}\" y=\"{:.1}\" text-anchor=\"end\">{}</text><rect x=\"{LABEL_WIDTH}\" y=\"{y:.1}\" width=\"{length:.1}\" height=\"{BAR_HEIGHT}\" fill=\"{colour}\"><title>{}: {}</title></rect><text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            LABEL_WIDTH - 6.0,
            y + 13.0,
            escape(&fit(&bar.label, 44)),
            escape(&bar.label),
            escape(&bar.text),
            LABEL_WIDTH + length + 6.0,
            y + 13.0,
            escape(&bar.text)
        );
    }
    out.push_str("</svg>");
    out
}

/// One node's latency: min, p50, p95, p99 and max in milliseconds.
pub(crate) struct Spread {
    pub label: String,
    pub min: f64,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

/// Where `ms` falls on a logarithmic axis from `low` to `high` ms, `width` units long.
fn log_x(ms: f64, low: f64, high: f64, width: f64) -> f64 {
    let (l, h) = (low.ln(), high.ln());
    ((ms.max(low).ln() - l) / (h - l) * width).clamp(0.0, width)
}

/// Latency distribution per node on a logarithmic millisecond axis: a thin line from the
/// fastest to the slowest call, a box from p50 to p95 and a tick at p99.
pub(crate) fn spreads(title: &str, rows: &[Spread]) -> String {
    let mut out = String::new();
    if rows.is_empty() {
        return out;
    }
    let axis_room = 28.0;
    let height = rows.len() as f64 * (BAR_HEIGHT + BAR_GAP) + BAR_GAP + axis_room;
    open(&mut out, height, title);
    // Whole decades that hold every value, at least 0.01 ms wide apart.
    let low_ms = rows.iter().map(|r| r.min).fold(f64::INFINITY, f64::min);
    let high_ms = rows.iter().map(|r| r.max).fold(0.0_f64, f64::max);
    let low = 10f64.powf(low_ms.max(0.001).log10().floor());
    let high = 10f64.powf(high_ms.max(low * 10.0).log10().ceil());
    let room = WIDTH - LABEL_WIDTH - 20.0;
    let x = |ms: f64| LABEL_WIDTH + log_x(ms, low, high, room);
    let axis_y = height - axis_room + 4.0;
    let mut decade = low;
    while decade <= high * 1.0001 {
        let _ = write!(
            out,
            "<line x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"0\" y2=\"{axis_y:.1}\" stroke=\"#ddd\"/><text x=\"{0:.1}\" y=\"{1:.1}\" text-anchor=\"middle\" fill=\"#555\">{2}</text>",
            x(decade),
            axis_y + 14.0,
            ms_label(decade)
        );
        decade *= 10.0;
    }
    for (i, r) in rows.iter().enumerate() {
        let y = BAR_GAP + i as f64 * (BAR_HEIGHT + BAR_GAP);
        let mid = y + BAR_HEIGHT / 2.0;
        let _ = write!(
            out,
            "<g><title>{}: min {} · p50 {} · p95 {} · p99 {} · max {}</title><text x=\"{:.0}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            escape(&r.label),
            ms_label(r.min),
            ms_label(r.p50),
            ms_label(r.p95),
            ms_label(r.p99),
            ms_label(r.max),
            LABEL_WIDTH - 6.0,
            y + 13.0,
            escape(&fit(&r.label, 44)),
        );
        let (from, to, box_x, box_y, tick) = (x(r.min), x(r.max), x(r.p50), y + 3.0, x(r.p99));
        let box_w = (x(r.p95) - box_x).max(1.5);
        let (box_h, tick_top, tick_bottom) = (BAR_HEIGHT - 6.0, y + 1.0, y + BAR_HEIGHT - 1.0);
        let _ = write!(
            out,
            "<line x1=\"{from:.1}\" x2=\"{to:.1}\" y1=\"{mid:.1}\" y2=\"{mid:.1}\" stroke=\"#888\"/><rect x=\"{box_x:.1}\" y=\"{box_y:.1}\" width=\"{box_w:.1}\" height=\"{box_h:.1}\" fill=\"#4a7fb5\"/><line x1=\"{tick:.1}\" x2=\"{tick:.1}\" y1=\"{tick_top:.1}\" y2=\"{tick_bottom:.1}\" stroke=\"#b5443a\" stroke-width=\"2\"/></g>",
        );
    }
    out.push_str("</svg>");
    out
}

/// `0.05 ms`, `3 ms`, `1.2 s`.
pub(crate) fn ms_label(ms: f64) -> String {
    if ms >= 1000.0 {
        let text = format!("{:.2}", ms / 1000.0);
        format!("{} s", text.trim_end_matches('0').trim_end_matches('.'))
    } else if ms >= 1.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{ms:.2} ms")
    }
}

/// One bucket of the period: when it starts and what it held.
pub(crate) struct Column {
    pub label: String,
    pub total: f64,
    pub part: f64,
}

/// Vertical bars over time: `total` in grey-blue with `part` (errors) drawn over it in red,
/// a label every few columns.
pub(crate) fn columns(
    title: &str,
    columns: &[Column],
    total_name: &str,
    part_name: &str,
) -> String {
    let mut out = String::new();
    if columns.is_empty() {
        return out;
    }
    let (height, top, bottom, left) = (200.0, 16.0, 34.0, 50.0);
    open(&mut out, height, title);
    let max = columns
        .iter()
        .map(|c| c.total)
        .fold(0.0_f64, f64::max)
        .max(1.0);
    let plot_h = height - top - bottom;
    let step = (WIDTH - left - 10.0) / columns.len() as f64;
    let y = |v: f64| top + plot_h - v / max * plot_h;
    let _ = write!(
        out,
        "<text x=\"{left}\" y=\"11\" fill=\"#555\">{} per bucket (max {}); <tspan fill=\"#b5443a\">{}</tspan></text><line x1=\"{left}\" x2=\"{WIDTH}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#999\"/>",
        escape(total_name),
        max.round(),
        escape(part_name),
        top + plot_h,
        top + plot_h
    );
    let every = (columns.len() / 8).max(1);
    for (i, c) in columns.iter().enumerate() {
        let x = left + i as f64 * step;
        let w = (step - 1.0).max(1.0);
        let _ = write!(
            out,
            "<g><title>{}: {} {}, {} {}</title><rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{:.1}\" fill=\"#8fb3d9\"/><rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{:.1}\" fill=\"#b5443a\"/></g>",
            escape(&c.label),
            c.total,
            escape(total_name),
            c.part,
            escape(part_name),
            y(c.total),
            top + plot_h - y(c.total),
            y(c.part),
            top + plot_h - y(c.part),
        );
        if i % every == 0 {
            let _ = write!(
                out,
                "<text x=\"{x:.1}\" y=\"{:.1}\" fill=\"#555\" font-size=\"10\">{}</text>",
                height - 12.0,
                escape(&c.label)
            );
        }
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_whole_svg_with_every_label_escaped() {
        let svg = bars(
            "Hot paths",
            &[
                Bar {
                    label: "api → <db>".into(),
                    value: 10.0,
                    text: "10 calls".into(),
                },
                Bar {
                    label: "api".into(),
                    value: 5.0,
                    text: "5 calls".into(),
                },
            ],
            "#4a7fb5",
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("api → &lt;db&gt;") && !svg.contains("<db>"));
        assert!(!svg.contains("<script"));
        assert_eq!(bars("empty", &[], "#000"), "");
    }

    #[test]
    fn log_axis_and_labels() {
        assert_eq!(log_x(1.0, 1.0, 100.0, 200.0), 0.0);
        assert_eq!(log_x(10.0, 1.0, 100.0, 200.0), 100.0);
        assert_eq!(log_x(1000.0, 1.0, 100.0, 200.0), 200.0, "clamped");
        assert_eq!(ms_label(0.05), "0.05 ms");
        assert_eq!(ms_label(3.4), "3 ms");
        assert_eq!(ms_label(1200.0), "1.2 s");
        assert_eq!(ms_label(2000.0), "2 s");
        assert_eq!(fit("abcdef", 4), "…def");
    }
}
