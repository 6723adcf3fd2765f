//! Text helpers shared by the commands: timestamps, durations, and safe one-line excerpts.

/// Writes `text` to stdout. A closed pipe (`pathwise traces | head`) is not an error: the
/// reader has seen what it wanted.
pub fn emit(text: &str) -> Result<(), crate::error::CliError> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(
            crate::error::CliError::Failed(format!("cannot write to stdout: {e}")),
        ),
        _ => Ok(()),
    }
}

/// A Unix timestamp in nanoseconds as UTC ISO 8601 with milliseconds:
/// `2024-05-01T12:34:56.789Z`.
pub fn utc_iso(ns: i64) -> String {
    let ms = ns.div_euclid(1_000_000);
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let day_secs = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        day_secs / 3600,
        day_secs % 3600 / 60,
        day_secs % 60
    )
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Nanoseconds as milliseconds with a precision that suits the magnitude: `0.042`, `12.35`,
/// `1520.3`.
pub fn ms(ns: i64) -> String {
    let ms = ns as f64 / 1e6;
    if ms.abs() < 1.0 {
        format!("{ms:.3}")
    } else if ms.abs() < 100.0 {
        format!("{ms:.2}")
    } else {
        format!("{ms:.1}")
    }
}

/// `text` on one line, safe for a terminal, cut to at most `max` characters (with `…`).
///
/// Control characters (newlines, escape sequences from recorded data) are shown escaped, so
/// recorded text can never move the cursor or recolour the terminal.
pub fn excerpt(text: &str, max: usize) -> String {
    let mut out = String::new();
    let mut count = 0;
    for c in text.chars() {
        let piece: String = if c.is_control() {
            c.escape_default().collect()
        } else {
            c.to_string()
        };
        let len = piece.chars().count();
        if count + len > max.saturating_sub(1) {
            out.push('…');
            return out;
        }
        count += len;
        out.push_str(&piece);
    }
    out
}

/// Pads or cuts `text` to exactly `width` characters (display width is approximated by the
/// character count).
pub fn cell(text: &str, width: usize) -> String {
    let short = if text.chars().count() > width {
        excerpt(text, width)
    } else {
        excerpt(text, usize::MAX)
    };
    let pad = width.saturating_sub(short.chars().count());
    format!("{short}{}", " ".repeat(pad))
}

/// A progress bar on stderr: elapsed time, bar, `pos/len unit` and an estimate.
pub fn progress_bar(len: u64, unit: &str) -> indicatif::ProgressBar {
    let progress = indicatif::ProgressBar::new(len);
    let style = indicatif::ProgressStyle::with_template(&format!(
        "{{spinner}} [{{elapsed_precise}}] {{wide_bar}} {{pos}}/{{len}} {unit} (eta {{eta}})"
    ))
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    progress.set_style(style);
    progress.enable_steady_tick(std::time::Duration::from_millis(120));
    progress
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_timestamps() {
        assert_eq!(utc_iso(0), "1970-01-01T00:00:00.000Z");
        // 2024-02-29T23:59:59.123Z, a leap day.
        assert_eq!(
            utc_iso(1_709_251_199_123_000_000),
            "2024-02-29T23:59:59.123Z"
        );
        assert_eq!(utc_iso(-1_000_000), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn excerpts_are_single_line_and_bounded() {
        assert_eq!(excerpt("abc", 10), "abc");
        assert_eq!(excerpt("abcdef", 4), "abc…");
        assert_eq!(excerpt("a\nb\x1b[31m", 20), "a\\nb\\u{1b}[31m");
        assert_eq!(excerpt("日本語テキスト", 4), "日本語…");
        assert_eq!(cell("ab", 4), "ab  ");
        assert_eq!(cell("abcdef", 4), "abc…");
    }

    #[test]
    fn durations_keep_sensible_precision() {
        assert_eq!(ms(42_000), "0.042");
        assert_eq!(ms(12_345_678), "12.35");
        assert_eq!(ms(1_520_300_000), "1520.3");
    }
}
