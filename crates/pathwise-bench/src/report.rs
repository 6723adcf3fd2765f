//! Table and JSON output shared by every subcommand, and small statistics helpers.

use std::time::Duration;

enum Value {
    Int(u64),
    Float(f64, usize),
    Text(String),
    Bool(bool),
}

impl Value {
    fn display(&self) -> String {
        match self {
            Value::Int(v) => group_digits(*v),
            Value::Float(v, decimals) => format!("{v:.decimals$}"),
            Value::Text(v) => v.clone(),
            Value::Bool(v) => if *v { "yes" } else { "NO" }.to_string(),
        }
    }

    fn json(&self) -> String {
        match self {
            Value::Int(v) => v.to_string(),
            Value::Float(v, decimals) if v.is_finite() => format!("{v:.decimals$}"),
            Value::Float(..) => "null".into(),
            Value::Text(v) => json_string(v),
            Value::Bool(v) => v.to_string(),
        }
    }
}

fn group_digits(v: u64) -> String {
    let digits = v.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub struct Report {
    bench: &'static str,
    rows: Vec<(String, Value)>,
    /// False when a correctness check failed (the process then exits non-zero).
    pub ok: bool,
}

impl Report {
    pub fn new(bench: &'static str) -> Self {
        Report {
            bench,
            rows: Vec::new(),
            ok: true,
        }
    }

    pub fn int(&mut self, key: impl Into<String>, v: u64) {
        self.rows.push((key.into(), Value::Int(v)));
    }

    pub fn float(&mut self, key: impl Into<String>, v: f64, decimals: usize) {
        self.rows.push((key.into(), Value::Float(v, decimals)));
    }

    pub fn text(&mut self, key: impl Into<String>, v: impl Into<String>) {
        self.rows.push((key.into(), Value::Text(v.into())));
    }

    pub fn check(&mut self, key: impl Into<String>, passed: bool) {
        self.ok &= passed;
        self.rows.push((key.into(), Value::Bool(passed)));
    }

    /// A goal that was met or missed; unlike [`Report::check`] a miss is not a failure.
    pub fn goal(&mut self, key: impl Into<String>, met: bool) {
        self.rows.push((key.into(), Value::Bool(met)));
    }

    /// `<key> p50 / p95 / max ms` rows for a set of timings.
    pub fn latency(&mut self, key: &str, l: &Latencies) {
        self.text(
            format!("{key}: p50 / p95 / max ms (n={})", l.len()),
            format!("{:.2} / {:.2} / {:.2}", l.p50_ms(), l.p95_ms(), l.max_ms()),
        );
    }

    pub fn print(&self) {
        let width = self.rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        println!("{}", self.bench);
        for (key, value) in &self.rows {
            println!("  {key:<width$}  {}", value.display());
        }
        let fields: Vec<String> = std::iter::once(format!("\"bench\":{}", json_string(self.bench)))
            .chain(
                self.rows
                    .iter()
                    .map(|(k, v)| format!("{}:{}", json_string(k), v.json())),
            )
            .collect();
        println!("json: {{{}}}", fields.join(","));
    }
}

pub fn median(values: impl IntoIterator<Item = f64>) -> f64 {
    let mut values: Vec<f64> = values.into_iter().collect();
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// Nearest-rank percentile `q` (0..=1) of sorted values; NaN when empty.
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((sorted.len() as f64) * q).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Timings of one operation, in seconds.
#[derive(Default, Clone)]
pub struct Latencies {
    samples: Vec<f64>,
}

impl Latencies {
    pub fn push(&mut self, elapsed: Duration) {
        self.samples.push(elapsed.as_secs_f64());
    }

    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// Adds another set's samples.
    pub fn extend(&mut self, other: Latencies) {
        self.samples.extend(other.samples);
    }

    fn sorted(&self) -> Vec<f64> {
        let mut v = self.samples.clone();
        v.sort_by(f64::total_cmp);
        v
    }

    pub fn p50_ms(&self) -> f64 {
        percentile(&self.sorted(), 0.50) * 1e3
    }

    pub fn p95_ms(&self) -> f64 {
        percentile(&self.sorted(), 0.95) * 1e3
    }

    pub fn max_ms(&self) -> f64 {
        self.sorted().last().copied().unwrap_or(f64::NAN) * 1e3
    }
}
