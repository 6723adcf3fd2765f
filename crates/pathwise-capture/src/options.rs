//! Capture limits and the secret-name matcher.

use std::borrow::Cow;

/// Field names that are always masked (after normalisation, see
/// [`CaptureOptions::is_secret`]).
const BUILTIN_SECRETS: &[&[u8]] = &[
    b"password",
    b"passwd",
    b"pwd",
    b"api_key",
    b"apikey",
    b"token",
    b"access_token",
    b"refresh_token",
    b"secret",
    b"client_secret",
    b"authorization",
    b"auth",
    b"cookie",
    b"private_key",
    b"credential",
    b"credentials",
];

/// Built-ins that also match as a `_`-separated suffix (`db_password`,
/// `github_token`). Only these: a suffix rule for e.g. `auth` would mask
/// harmless names such as `oauth`-style prefixes far too eagerly.
const SUFFIX_SECRETS: &[&[u8]] = &[b"password", b"token", b"secret", b"api_key"];

/// Names up to this many bytes are also tried camel-split; the split form
/// is built in a stack buffer so matching never allocates.
const MAX_CAMEL_NAME: usize = 64;

/// Options for one capture.
///
/// The defaults are tuned for the `#[monitor]` hot path: summaries stay small
/// (a few hundred bytes) however large the captured value is.
///
/// ```
/// use pathwise_capture::CaptureOptions;
///
/// let opts = CaptureOptions { max_items: 3, ..CaptureOptions::default() };
/// assert_eq!(opts.max_repr, 256);
/// assert_eq!(opts.max_items, 3);
/// ```
#[derive(Clone, Debug)]
pub struct CaptureOptions {
    /// Maximum number of chars kept from any string (and from Debug output).
    pub max_repr: usize,
    /// Maximum number of elements shown for a sequence / entries for a map.
    /// Struct fields get twice this, since a struct's fields are a fixed,
    /// usually meaningful set.
    pub max_items: usize,
    /// Number of container levels (sequences, maps, structs, enum variants
    /// with data) shown; a container nested deeper becomes the string `"…"`.
    pub max_depth: usize,
    /// A sequence of only numbers longer than this becomes
    /// `{"type": "[f64]", "len": N}`; a sequence of equal-length numeric rows
    /// whose total element count exceeds it becomes
    /// `{"type": "[f64]", "shape": [rows, cols]}`.
    pub numeric_vector_threshold: usize,
    /// Extra field names to mask, in addition to the built-ins. Matched
    /// exactly after normalisation (ASCII lowercase, `-` → `_`).
    pub redact: Vec<Cow<'static, str>>,
}

impl Default for CaptureOptions {
    /// ```
    /// let opts = pathwise_capture::CaptureOptions::default();
    /// assert_eq!(
    ///     (opts.max_repr, opts.max_items, opts.max_depth, opts.numeric_vector_threshold),
    ///     (256, 10, 4, 16)
    /// );
    /// assert!(opts.redact.is_empty());
    /// ```
    fn default() -> Self {
        Self {
            max_repr: 256,
            max_items: 10,
            max_depth: 4,
            numeric_vector_threshold: 16,
            redact: Vec::new(),
        }
    }
}

impl CaptureOptions {
    /// Whether values under the field or map key `field` must be masked.
    ///
    /// The name is normalised (ASCII lowercase, `-` → `_`) and matches if it
    /// equals a built-in secret name (`password`, `passwd`, `pwd`, `api_key`,
    /// `apikey`, `token`, `access_token`, `refresh_token`, `secret`,
    /// `client_secret`, `authorization`, `auth`, `cookie`, `private_key`,
    /// `credential`, `credentials`) or a configured [`redact`](Self::redact)
    /// name, or ends with `_password`, `_token`, `_secret` or `_api_key`.
    ///
    /// In addition, camelCase names are also tried with their humps split by
    /// `_` (`accessToken` → `access_token`), because JSON payloads commonly
    /// use camelCase keys and missing one would leak a secret (names longer
    /// than 64 bytes are not split). Case-insensitivity is ASCII-only.
    ///
    /// ```
    /// let opts = pathwise_capture::CaptureOptions::default();
    /// assert!(opts.is_secret("Password"));
    /// assert!(opts.is_secret("db_password"));
    /// assert!(opts.is_secret("X-Api-Key"));
    /// assert!(opts.is_secret("accessToken"));
    /// assert!(!opts.is_secret("author"));
    /// ```
    pub fn is_secret(&self, field: &str) -> bool {
        let bytes = field.as_bytes();
        if self.matches(bytes) {
            return true;
        }
        // Only names with an inner lower→upper hump can split differently.
        if bytes.len() <= MAX_CAMEL_NAME && has_camel_hump(bytes) {
            let mut buf = [0u8; MAX_CAMEL_NAME * 2];
            let len = camel_split(bytes, &mut buf);
            return self.matches(&buf[..len]);
        }
        false
    }

    /// Matches `name`, normalising on the fly (normalisation is idempotent,
    /// so this also accepts an already camel-split name).
    fn matches(&self, name: &[u8]) -> bool {
        BUILTIN_SECRETS.iter().any(|builtin| norm_eq(name, builtin))
            || SUFFIX_SECRETS.iter().any(|suffix| {
                name.len() > suffix.len()
                    && norm_eq(&name[name.len() - suffix.len()..], suffix)
                    && norm_byte(name[name.len() - suffix.len() - 1]) == b'_'
            })
            || self
                .redact
                .iter()
                .any(|extra| norm_eq(name, extra.as_bytes()))
    }
}

/// Equality after normalising both sides.
fn norm_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| norm_byte(*x) == norm_byte(*y))
}

/// ASCII lowercase with `-` → `_`; non-ASCII bytes pass through unchanged,
/// which keeps UTF-8 intact and simply never matches the ASCII names.
fn norm_byte(b: u8) -> u8 {
    if b == b'-' {
        b'_'
    } else {
        b.to_ascii_lowercase()
    }
}

fn has_camel_hump(bytes: &[u8]) -> bool {
    bytes
        .windows(2)
        .any(|w| (w[0].is_ascii_lowercase() || w[0].is_ascii_digit()) && w[1].is_ascii_uppercase())
}

/// Writes `bytes` into `out` with `_` inserted before every uppercase letter
/// that follows a lowercase letter or digit; returns the length written.
/// `out` must be at least `2 * bytes.len()` long.
fn camel_split(bytes: &[u8], out: &mut [u8]) -> usize {
    let mut n = 0;
    let mut prev: u8 = 0;
    for &b in bytes {
        if b.is_ascii_uppercase() && (prev.is_ascii_lowercase() || prev.is_ascii_digit()) {
            out[n] = b'_';
            n += 1;
        }
        out[n] = b;
        n += 1;
        prev = b;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_match_case_insensitively() {
        let o = CaptureOptions::default();
        for name in [
            "password",
            "PASSWORD",
            "passwd",
            "pwd",
            "api_key",
            "api-key",
            "ApiKey",
            "apikey",
            "token",
            "access_token",
            "refresh_token",
            "secret",
            "client_secret",
            "Authorization",
            "auth",
            "cookie",
            "private_key",
            "credential",
            "credentials",
        ] {
            assert!(o.is_secret(name), "{name} should be secret");
        }
    }

    #[test]
    fn suffix_rule_only_for_selected_names() {
        let o = CaptureOptions::default();
        for name in [
            "db_password",
            "github_token",
            "X-Api-Key",
            "app_secret",
            "auth_token",
        ] {
            assert!(o.is_secret(name), "{name} should be secret");
        }
        for name in [
            "author",
            "tokenizer",
            "passwords_count_limit_x",
            "secret_santa",
            "user_auth",
            "tokens",
            "password_hint_",
            "id",
            "",
            "_",
        ] {
            assert!(!o.is_secret(name), "{name} should not be secret");
        }
    }

    #[test]
    fn camel_case_names_are_split() {
        let o = CaptureOptions::default();
        for name in [
            "accessToken",
            "clientSecret",
            "dbPassword",
            "GitHubToken",
            "privateKey",
        ] {
            assert!(o.is_secret(name), "{name} should be secret");
        }
        // The plain lowercase form is still tried, so odd humps don't escape.
        assert!(o.is_secret("PassWord"));
        assert!(!o.is_secret("tokenCount"));
    }

    #[test]
    fn configured_redact_names() {
        let o = CaptureOptions {
            redact: vec!["ssn".into(), String::from("Session-Id").into()],
            ..CaptureOptions::default()
        };
        assert!(o.is_secret("ssn"));
        assert!(o.is_secret("SSN"));
        assert!(o.is_secret("session_id"));
        assert!(o.is_secret("SESSION-ID"));
        // Exact match only: no suffix rule for configured names.
        assert!(!o.is_secret("user_ssn"));
        assert!(!CaptureOptions::default().is_secret("ssn"));
    }

    #[test]
    fn long_names() {
        let o = CaptureOptions::default();
        let long = format!("{}_password", "x".repeat(200));
        assert!(o.is_secret(&long));
        assert!(!o.is_secret(&"y".repeat(500)));
        // Camel splitting is limited to names of at most 64 bytes.
        assert!(o.is_secret(&format!("{}Token", "x".repeat(58))));
        assert!(!o.is_secret(&format!("{}Token", "x".repeat(60))));
    }

    #[test]
    fn non_ascii_names_do_not_panic() {
        let o = CaptureOptions::default();
        assert!(!o.is_secret("pässwörd"));
        assert!(o.is_secret("ключ_token"));
    }
}
