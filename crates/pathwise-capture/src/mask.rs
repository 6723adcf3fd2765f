//! Secret masking inside `Debug`-formatted text.
//!
//! `Debug` output has no structure we can hook into, so this is a small
//! lexer over the (already bounded) text: it recognises `name: value`,
//! `name=value` and `"name": value` where `name` is a secret per
//! [`CaptureOptions::is_secret`], and replaces the whole value expression.
//! It errs on the side of masking too much: the value runs to the next `,`
//! or unmatched closing bracket at its own nesting level.

use crate::MASK;
use crate::options::CaptureOptions;

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// Given `p` at an opening `"`, returns the index just past the closing quote
/// (or the end of text if unterminated) and whether it was terminated.
fn skip_string(b: &[u8], p: usize) -> (usize, bool) {
    let mut j = p + 1;
    while j < b.len() {
        match b[j] {
            b'\\' => j += 2,
            b'"' => return (j + 1, true),
            _ => j += 1,
        }
    }
    (b.len(), false)
}

/// Given `p` at a `'`, returns the index past a Debug char literal (`'a'`,
/// `'\''`, `'\u{1f600}'`, `'é'`), or `None` if this quote starts none.
/// Char literals must be skipped as units: `'"'` would otherwise open a
/// bogus string that swallows the next field's name.
fn skip_char_literal(text: &str, p: usize) -> Option<usize> {
    let b = text.as_bytes();
    if b.get(p + 1) == Some(&b'\\') {
        // Escape: the char after the backslash is part of it, then scan to
        // the closing quote (covers `\u{..}`).
        let mut j = p + 3;
        while j < b.len() && j < p + 16 {
            if b[j] == b'\'' {
                return Some(j + 1);
            }
            j += 1;
        }
        return None;
    }
    let c = text.get(p + 1..)?.chars().next()?;
    let close = p + 1 + c.len_utf8();
    (b.get(close) == Some(&b'\'')).then_some(close + 1)
}

/// If `p` (just past a candidate name) is followed by a key/value separator,
/// returns where the value starts.
fn value_start(b: &[u8], mut p: usize) -> Option<usize> {
    while b.get(p) == Some(&b' ') {
        p += 1;
    }
    match (b.get(p), b.get(p + 1)) {
        // `::` is a path separator, `==` / `=>` are not assignments.
        (Some(b':'), Some(b':')) | (Some(b'='), Some(b'=' | b'>')) => return None,
        (Some(b':' | b'='), _) => p += 1,
        _ => return None,
    }
    while b.get(p) == Some(&b' ') {
        p += 1;
    }
    Some(p)
}

/// Returns the end of the value expression starting at `p`.
fn value_end(text: &str, p: usize) -> usize {
    let b = text.as_bytes();
    if b.get(p) == Some(&b'"') {
        return skip_string(b, p).0;
    }
    let mut depth = 0usize;
    let mut j = p;
    while j < b.len() {
        match b[j] {
            b'"' => {
                j = skip_string(b, j).0;
                continue;
            }
            b'\'' => {
                if let Some(end) = skip_char_literal(text, j) {
                    j = end;
                    continue;
                }
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' if depth == 0 => break,
            b')' | b']' | b'}' => depth -= 1,
            b',' if depth == 0 => break,
            _ => {}
        }
        j += 1;
    }
    while j > p && b[j - 1] == b' ' {
        j -= 1;
    }
    j
}

/// Masks secret values in `text`. Returns `None` when nothing was masked, so
/// the common case allocates nothing.
pub(crate) fn mask_secrets(text: &str, opts: &CaptureOptions) -> Option<String> {
    let b = text.as_bytes();
    // No separator, no `name: value` pair: skip the scan entirely.
    if !b.iter().any(|&c| c == b':' || c == b'=') {
        return None;
    }
    let mut out = String::new();
    let mut copied = 0;
    let mut masked = false;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        // (name range, index just past the name incl. closing quote)
        let candidate = if c == b'"' {
            let (end, closed) = skip_string(b, i);
            if !closed {
                break;
            }
            let name = (i + 1, end - 1);
            i = end;
            Some((name, end))
        } else if c == b'\'' {
            i = skip_char_literal(text, i).unwrap_or(i + 1);
            None
        } else if is_ident_char(c) {
            let start = i;
            while i < b.len() && is_ident_char(b[i]) {
                i += 1;
            }
            is_ident_start(c).then_some(((start, i), i))
        } else {
            i += 1;
            None
        };

        let Some(((start, end), after)) = candidate else {
            continue;
        };
        let Some(vstart) = value_start(b, after) else {
            continue;
        };
        // All indices here sit next to ASCII bytes, so slicing is safe.
        if !opts.is_secret(&text[start..end]) {
            continue;
        }
        let vend = value_end(text, vstart);
        out.push_str(&text[copied..vstart]);
        if b.get(vstart) == Some(&b'"') {
            out.push('"');
            out.push_str(MASK);
            out.push('"');
        } else {
            out.push_str(MASK);
        }
        copied = vend;
        masked = true;
        i = vend.max(i);
    }
    if !masked {
        return None;
    }
    out.push_str(&text[copied..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask(text: &str) -> String {
        let opts = CaptureOptions::default();
        mask_secrets(text, &opts).unwrap_or_else(|| text.to_owned())
    }

    #[test]
    fn masks_struct_fields() {
        assert_eq!(
            mask(r#"Login { user: "ann", password: "hunter2" }"#),
            r#"Login { user: "ann", password: "***" }"#
        );
        assert_eq!(
            mask(r#"Cfg { token: Some("x"), port: 80 }"#),
            "Cfg { token: ***, port: 80 }"
        );
        assert_eq!(
            mask(r#"A { db_password: Secret { inner: "x, y" }, n: 1 }"#),
            "A { db_password: ***, n: 1 }"
        );
    }

    #[test]
    fn masks_quoted_keys_and_assignments() {
        assert_eq!(
            mask(r#"{"api_key": "abc", "user": "u"}"#),
            r#"{"api_key": "***", "user": "u"}"#
        );
        assert_eq!(
            mask(r#"Object {"token": String("t")}"#),
            r#"Object {"token": ***}"#
        );
        assert_eq!(mask("user=bob password=pw1"), "user=bob password=***");
    }

    #[test]
    fn leaves_non_secrets_alone() {
        assert!(
            mask_secrets("Foo { a: 1, b: \"password\" }", &CaptureOptions::default()).is_none()
        );
        assert!(mask_secrets("auth::Token", &CaptureOptions::default()).is_none());
        assert!(mask_secrets("no separators here", &CaptureOptions::default()).is_none());
        assert!(mask_secrets("x == token", &CaptureOptions::default()).is_none());
    }

    #[test]
    fn char_literals_do_not_confuse_strings() {
        assert_eq!(
            mask(r#"A { c: '"', password: "x", d: '\'', e: 'é' }"#),
            r#"A { c: '"', password: "***", d: '\'', e: 'é' }"#
        );
    }

    #[test]
    fn truncated_values_are_masked_to_the_end() {
        assert_eq!(mask(r#"A { password: "hunt"#), r#"A { password: "***""#);
        assert_eq!(mask("A { token: Some(Tok { v: 1"), "A { token: ***");
        assert_eq!(mask("password:"), "password:***");
    }

    #[test]
    fn escaped_quotes_inside_secret() {
        assert_eq!(
            mask(r#"A { secret: "a\"b, c", x: 1 }"#),
            r#"A { secret: "***", x: 1 }"#
        );
    }
}
