//! Fuzz targets for rules files, the one input of the alert engine a user writes by hand
//! (bounded under `cargo test`; `cargo bolero test` runs them for longer). Whatever the text:
//! a rule set or an error that names a line of the file, never a panic.

use pathwise_alerts::RuleSet;

fn check(src: &str) {
    match RuleSet::parse(src) {
        Ok(set) => {
            for rule in &set.rules {
                assert!(rule.line >= 1 && rule.line <= src.lines().count().max(1));
                assert!(rule.threshold.is_finite(), "{src}");
            }
        }
        Err(e) => {
            assert!(
                e.line >= 1 && e.line <= src.lines().count().max(1),
                "{e:?} for {src:?}"
            );
            assert!(!e.reason.is_empty());
        }
    }
}

#[test]
fn any_text() {
    bolero::check!().for_each(|bytes: &[u8]| {
        if let Ok(src) = std::str::from_utf8(bytes) {
            check(src);
        }
    });
}

/// Well-formed TOML with hostile values where the validators look: names, durations,
/// thresholds, operators, kinds, signals and SQL.
#[test]
fn rules_with_any_values() {
    bolero::check!()
        .with_type::<(String, String, String, f64, u8, String)>()
        .for_each(|(name, window, pending, threshold, pick, text)| {
            let quote = |s: &str| toml::Value::String(s.to_string()).to_string();
            let kinds = ["threshold", "baseline", "sql", "nonsense"];
            let signals = ["p95_ms", "error_rate", "dropped", "health_score", "bogus"];
            let ops = [">", ">=", "<", "<=", "=="];
            let kind = kinds[*pick as usize % kinds.len()];
            let signal = signals[(*pick as usize / 4) % signals.len()];
            let op = ops[(*pick as usize / 20) % ops.len()];
            let src = format!(
                "check_interval = {}\n[[rule]]\nname = {}\nkind = \"{kind}\"\nsignal = \"{signal}\"\n\
                 window = {}\nfor = {}\nop = \"{op}\"\nthreshold = {}\nquery = {}\ntrigger = {}\n",
                quote(pending),
                quote(name),
                quote(window),
                quote(pending),
                toml::Value::Float(*threshold),
                quote(text),
                quote(text),
            );
            check(&src);
        });
}
