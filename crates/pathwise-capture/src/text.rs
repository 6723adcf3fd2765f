//! Char-bounded string helpers shared by the serde and Debug paths.

use std::fmt::{self, Write as _};

/// Suffix appended when text was cut without knowing how much was dropped
/// (Debug / Display output, which we stop formatting early).
pub(crate) const CUT: &str = "…";

/// Keeps at most `max` chars of `s`; if anything is dropped, appends
/// `…(+N chars)` with the number of dropped chars.
pub(crate) fn truncate_str(s: &str, max: usize) -> String {
    // Byte length bounds char count, so short strings skip the char walk.
    if s.len() <= max {
        return s.to_owned();
    }
    match s.char_indices().nth(max) {
        None => s.to_owned(),
        Some((cut, _)) => {
            let dropped = s[cut..].chars().count();
            let mut out = String::with_capacity(cut + 24);
            out.push_str(&s[..cut]);
            // Writing into a String cannot fail.
            let _ = write!(out, "…(+{dropped} chars)");
            out
        }
    }
}

/// Cuts `s` in place to at most `max` chars; returns whether it cut.
pub(crate) fn cut_chars(s: &mut String, max: usize) -> bool {
    if s.len() <= max {
        return false;
    }
    match s.char_indices().nth(max) {
        None => false,
        Some((cut, _)) => {
            s.truncate(cut);
            true
        }
    }
}

/// A `fmt::Write` sink that keeps the first `max` chars and then refuses
/// further output with `fmt::Error`.
///
/// Refusing (rather than silently discarding) makes well-behaved `Debug` /
/// `Display` impls stop early, so a value whose formatted form is megabytes
/// long costs only about `max` chars of work and memory.
pub(crate) struct BoundedWriter {
    pub(crate) buf: String,
    remaining: usize,
    pub(crate) truncated: bool,
}

impl BoundedWriter {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            // Small initial capacity: most captured values are short, and the
            // buffer grows on demand up to the bound anyway.
            buf: String::with_capacity(max.min(64)),
            remaining: max,
            truncated: false,
        }
    }

    /// Formats `args` into a bounded string. Returns `None` if the formatting
    /// impl itself failed (as opposed to being stopped by the bound).
    pub(crate) fn format(max: usize, args: fmt::Arguments<'_>) -> Option<Self> {
        let mut w = Self::new(max);
        match fmt::write(&mut w, args) {
            Err(_) if !w.truncated => None,
            _ => Some(w),
        }
    }

    /// The collected text, with [`CUT`] appended if output was dropped.
    pub(crate) fn into_string(self) -> String {
        let mut s = self.buf;
        if self.truncated {
            s.push_str(CUT);
        }
        s
    }
}

impl fmt::Write for BoundedWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if self.truncated {
            return Err(fmt::Error);
        }
        if s.len() <= self.remaining {
            self.buf.push_str(s);
            self.remaining -= s.chars().count();
            return Ok(());
        }
        match s.char_indices().nth(self.remaining) {
            None => {
                self.buf.push_str(s);
                self.remaining -= s.chars().count();
                Ok(())
            }
            Some((cut, _)) => {
                self.buf.push_str(&s[..cut]);
                self.remaining = 0;
                self.truncated = true;
                Err(fmt::Error)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncate_ascii_exact_text() {
        assert_eq!(
            truncate_str(&"a".repeat(300), 10),
            "aaaaaaaaaa…(+290 chars)"
        );
        assert_eq!(truncate_str("short", 10), "short");
        assert_eq!(truncate_str("exactly10!", 10), "exactly10!");
        assert_eq!(truncate_str("abc", 0), "…(+3 chars)");
    }

    #[test]
    fn truncate_counts_chars_not_bytes() {
        // 12 two-byte chars: 24 bytes but only 12 chars, so max 12 keeps all.
        let s = "é".repeat(12);
        assert_eq!(truncate_str(&s, 12), s);
        assert_eq!(truncate_str(&s, 5), "ééééé…(+7 chars)");
        assert_eq!(truncate_str("🦀🦀🦀x", 2), "🦀🦀…(+2 chars)");
    }

    #[test]
    fn cut_chars_is_boundary_safe() {
        let mut s = String::from("日本語テキスト");
        assert!(cut_chars(&mut s, 3));
        assert_eq!(s, "日本語");
        assert!(!cut_chars(&mut s, 3));
    }

    #[test]
    fn bounded_writer_stops() {
        let mut w = BoundedWriter::new(5);
        assert!(w.write_str("ab").is_ok());
        assert!(w.write_str("çdefg").is_err());
        assert!(w.write_str("more").is_err());
        assert_eq!(w.into_string(), "abçde…");

        let w = BoundedWriter::format(4, format_args!("{}", 1234)).unwrap();
        assert!(!w.truncated);
        assert_eq!(w.into_string(), "1234");
    }
}
