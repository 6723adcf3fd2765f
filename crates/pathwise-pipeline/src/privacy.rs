//! Data minimisation before anything is written: attributes and captured fields named by the
//! configuration are replaced by a keyed hash (HMAC-SHA-256, so equal values stay equal and
//! still group in error patterns and filters, while the value cannot be looked up without the
//! key) or dropped. Applied where records enter the pipeline, so neither the store nor a spill
//! segment nor the error lane ever holds the original value.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use hmac::{Hmac, KeyInit, Mac};
use parking_lot::RwLock;
use pathwise_model::{AttrValue, Record, SpanRecord};
use serde_json::Value;
use sha2::Sha256;
use wildmatch::WildMatch;

/// What a hashed value starts with; the 16 hex digits that follow are the first 64 bits of
/// its HMAC.
pub const HASHED_PREFIX: &str = "hmac:";

/// Which attributes and captured fields are hashed or dropped before they are recorded.
///
/// Names are matched against attribute keys (`user.email`) and against the keys of captured
/// arguments, results, metadata and decision-step input/output at any depth (`email`), with
/// `*` and `?` wildcards.
///
/// ```
/// use pathwise_pipeline::Privacy;
/// let privacy = Privacy {
///     hash: vec!["user.id".into(), "*email*".into()],
///     drop: vec!["card_number".into()],
///     key: Some("a long random secret shared by every recording process".into()),
/// };
/// let recommended = Privacy::recommended();
/// assert!(recommended.hash.iter().any(|name| name == "client.address"));
/// # let _ = privacy;
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Privacy {
    /// Names whose values are replaced by `hmac:<16 hex digits>`.
    pub hash: Vec<String>,
    /// Names whose values are removed (attributes) or replaced by `"[dropped]"` (captured
    /// fields, so the shape of a captured value stays readable).
    pub drop: Vec<String>,
    /// The hash key. `None`: `PATHWISE_PRIVACY_KEY`, else a random key kept in the data
    /// directory (`privacy.key`), so values hashed before and after a restart still match.
    /// Give every process that records into one store the same key.
    pub key: Option<String>,
}

impl Privacy {
    /// The documented default list: identifiers of people and their devices are hashed (they
    /// still group), free-text contact details and network addresses too; nothing is dropped.
    pub fn recommended() -> Privacy {
        let hash = [
            "user.id",
            "user.email",
            "user.name",
            "user.full_name",
            "enduser.id",
            "session.id",
            "client.address",
            "client.ip",
            "http.client_ip",
            "net.peer.ip",
            "network.peer.address",
            "user_agent.original",
            "email",
            "*_email",
            "phone",
            "phone_number",
            "ip_address",
        ];
        Privacy {
            hash: hash.iter().map(|s| s.to_string()).collect(),
            drop: Vec::new(),
            key: None,
        }
    }
}

/// A [`Privacy`] made ready to apply: patterns compiled, key resolved.
pub(crate) struct PrivacyFilter {
    hash: Vec<WildMatch>,
    drop: Vec<WildMatch>,
    mac: Hmac<Sha256>,
}

enum Action {
    Hash,
    Drop,
}

impl PrivacyFilter {
    /// Compiles `privacy`, reading or creating the key file in `data_dir` when no key is given.
    pub(crate) fn new(privacy: &Privacy, data_dir: &Path) -> std::io::Result<PrivacyFilter> {
        let key = match privacy.key.clone().or_else(|| {
            std::env::var("PATHWISE_PRIVACY_KEY")
                .ok()
                .filter(|k| !k.is_empty())
        }) {
            Some(key) => key.into_bytes(),
            None => kept_key(data_dir)?,
        };
        let mac = Hmac::<Sha256>::new_from_slice(&key)
            .map_err(|e| std::io::Error::other(format!("privacy key: {e}")))?;
        let compile = |names: &[String]| names.iter().map(|n| WildMatch::new(n)).collect();
        Ok(PrivacyFilter {
            hash: compile(&privacy.hash),
            drop: compile(&privacy.drop),
            mac,
        })
    }

    fn action(&self, name: &str) -> Option<Action> {
        if self.drop.iter().any(|p| p.matches(name)) {
            Some(Action::Drop)
        } else if self.hash.iter().any(|p| p.matches(name)) {
            Some(Action::Hash)
        } else {
            None
        }
    }

    /// `hmac:` and the first 64 bits of the value's HMAC, in hex.
    fn hashed(&self, value: &str) -> String {
        let mut mac = self.mac.clone();
        mac.update(value.as_bytes());
        let digest = mac.finalize().into_bytes();
        let mut out = String::with_capacity(HASHED_PREFIX.len() + 16);
        out.push_str(HASHED_PREFIX);
        for byte in &digest[..8] {
            out.push_str(&format!("{byte:02x}"));
        }
        out
    }

    /// Applies the rules to a record about to enter the pipeline.
    pub(crate) fn apply(&self, record: &mut Record) {
        if let Record::Span(span) = record {
            self.apply_span(span);
        }
    }

    fn apply_span(&self, span: &mut SpanRecord) {
        let Some(details) = span.details.as_mut() else {
            return;
        };
        details
            .attrs
            .retain_mut(|(key, value)| match self.action(key) {
                None => true,
                Some(Action::Drop) => false,
                Some(Action::Hash) => {
                    *value = AttrValue::Str(self.hashed(&attr_text(value)).into());
                    true
                }
            });
        for text in [
            &mut details.input,
            &mut details.output,
            &mut details.metadata,
        ]
        .into_iter()
        .flatten()
        {
            self.apply_json_text(text);
        }
    }

    /// Rewrites the matching keys of a captured JSON value, at any depth. Text that is not
    /// JSON (a `Debug` fallback) has no keys to match and stays as it is.
    fn apply_json_text(&self, text: &mut String) {
        let Ok(mut value) = serde_json::from_str::<Value>(text) else {
            return;
        };
        if self.apply_json(&mut value)
            && let Ok(rewritten) = serde_json::to_string(&value)
        {
            *text = rewritten;
        }
    }

    fn apply_json(&self, value: &mut Value) -> bool {
        match value {
            Value::Object(map) => {
                let mut changed = false;
                for (key, member) in map.iter_mut() {
                    changed |= match self.action(key) {
                        Some(Action::Drop) => {
                            *member = Value::String("[dropped]".into());
                            true
                        }
                        Some(Action::Hash) => {
                            *member = Value::String(self.hashed(&json_text(member)));
                            true
                        }
                        None => self.apply_json(member),
                    };
                }
                changed
            }
            Value::Array(items) => items
                .iter_mut()
                .fold(false, |changed, item| self.apply_json(item) | changed),
            _ => false,
        }
    }
}

/// The text an attribute value is hashed from (a string as it is, anything else as written).
fn attr_text(value: &AttrValue) -> String {
    match value {
        AttrValue::Str(s) => s.to_string(),
        other => format!("{other:?}"),
    }
}

/// The text a captured value is hashed from: a string's own text, anything else as JSON.
fn json_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The key kept in `data_dir/privacy.key` (created, readable only by its owner, on first use).
fn kept_key(data_dir: &Path) -> std::io::Result<Vec<u8>> {
    let path = data_dir.join("privacy.key");
    if let Ok(text) = fs::read_to_string(&path) {
        let key = text.trim();
        if !key.is_empty() {
            return Ok(key.as_bytes().to_vec());
        }
    }
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    let key: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(&path) {
        Ok(mut file) => file.write_all(key.as_bytes())?,
        // Another process wrote it first: use its key.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Ok(fs::read_to_string(&path)?.trim().as_bytes().to_vec());
        }
        Err(e) => return Err(e),
    }
    Ok(key.into_bytes())
}

static ACTIVE: AtomicBool = AtomicBool::new(false);
static FILTER: RwLock<Option<Arc<PrivacyFilter>>> = RwLock::new(None);

/// Installs (or, with `None`, removes) the filter every record passes on its way in.
pub(crate) fn install(filter: Option<PrivacyFilter>) {
    let mut current = FILTER.write();
    ACTIVE.store(filter.is_some(), Ordering::Release);
    *current = filter.map(Arc::new);
}

/// Applies the installed rules to a span about to be recorded; one load when none are.
#[inline]
pub(crate) fn scrub_span(span: &mut SpanRecord) {
    if ACTIVE.load(Ordering::Relaxed) && span.details.is_some() {
        scrub_slow(|filter| filter.apply_span(span));
    }
}

/// Applies the installed rules to records about to be recorded.
pub(crate) fn scrub_records(records: &mut [Record]) {
    if ACTIVE.load(Ordering::Relaxed) {
        scrub_slow(|filter| records.iter_mut().for_each(|r| filter.apply(r)));
    }
}

#[cold]
fn scrub_slow(apply: impl FnOnce(&PrivacyFilter)) {
    let filter = FILTER.read().clone();
    if let Some(filter) = filter {
        apply(&filter);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pathwise_model::{SpanKind, TraceId};

    fn filter(hash: &[&str], drop: &[&str]) -> PrivacyFilter {
        let privacy = Privacy {
            hash: hash.iter().map(|s| s.to_string()).collect(),
            drop: drop.iter().map(|s| s.to_string()).collect(),
            key: Some("test key".into()),
        };
        PrivacyFilter::new(&privacy, Path::new("/nonexistent")).unwrap()
    }

    fn span_with(attrs: Vec<(&'static str, AttrValue)>, input: &str) -> SpanRecord {
        let mut span = SpanRecord::new(TraceId(1), 2, 0, "search".into(), SpanKind::Span);
        let details = span.details_mut();
        details.attrs = attrs.into_iter().map(|(k, v)| (k.into(), v)).collect();
        details.input = Some(input.to_string());
        span
    }

    #[test]
    fn equal_values_hash_equal_and_different_values_apart() {
        let f = filter(&["user.email"], &[]);
        let a = f.hashed("alice@example.com");
        assert_eq!(a, f.hashed("alice@example.com"));
        assert_ne!(a, f.hashed("bob@example.com"));
        assert!(a.starts_with(HASHED_PREFIX) && a.len() == HASHED_PREFIX.len() + 16);
        // Keyed: another key gives another hash for the same value.
        let other = PrivacyFilter::new(
            &Privacy {
                key: Some("other key".into()),
                ..Privacy::default()
            },
            Path::new("/nonexistent"),
        )
        .unwrap();
        assert_ne!(a, other.hashed("alice@example.com"));
    }

    #[test]
    fn attributes_and_captured_fields_at_any_depth() {
        let f = filter(&["user.email", "email"], &["card_number", "*.secret"]);
        let mut span = span_with(
            vec![
                ("user.email", AttrValue::Str("alice@example.com".into())),
                ("api.secret", AttrValue::Str("s3cr3t".into())),
                ("rows", AttrValue::I64(3)),
            ],
            r#"{"order":{"email":"alice@example.com","card_number":"4111","items":[{"email":"bob@example.com"}]},"limit":10}"#,
        );
        f.apply_span(&mut span);
        let details = span.details.as_ref().unwrap();
        let hashed = f.hashed("alice@example.com");
        assert_eq!(
            details.attrs,
            vec![
                ("user.email".into(), AttrValue::Str(hashed.clone().into())),
                ("rows".into(), AttrValue::I64(3)),
            ],
            "hashed, dropped, kept"
        );
        let input: Value = serde_json::from_str(details.input.as_deref().unwrap()).unwrap();
        assert_eq!(input["order"]["email"], Value::String(hashed));
        assert_eq!(input["order"]["card_number"], "[dropped]");
        assert_eq!(
            input["order"]["items"][0]["email"],
            Value::String(f.hashed("bob@example.com"))
        );
        assert_eq!(input["limit"], 10);
        let text = details.input.as_deref().unwrap();
        assert!(
            !text.contains("example.com") && !text.contains("4111"),
            "{text}"
        );
    }

    #[test]
    fn text_that_is_not_json_and_spans_without_matches_stay_as_they_are() {
        let f = filter(&["email"], &[]);
        let mut span = span_with(vec![], "Request { email: \"x\" }");
        f.apply_span(&mut span);
        assert_eq!(
            span.details.unwrap().input.as_deref(),
            Some("Request { email: \"x\" }")
        );
    }

    #[test]
    fn a_kept_key_is_made_once_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let first = kept_key(dir.path()).unwrap();
        assert_eq!(first.len(), 64);
        assert_eq!(kept_key(dir.path()).unwrap(), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join("privacy.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
