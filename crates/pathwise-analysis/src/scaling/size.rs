//! The size of a call: which stored field holds it, and how a stored value becomes a number.
//!
//! A field is named as text: `dataset_count` is the span attribute of that name,
//! `input.items` the captured argument `items` of a monitored call (a top-level field of the
//! span's input), and `attr.<name>` an attribute whose name would otherwise read as one of
//! these forms (`attr.input.x` is the attribute `input.x`).
//!
//! A value is a size when it is a number (the number), an array (its length, counting the
//! `"+N more"` that capture writes in place of the elements it leaves out), or one of
//! capture's summaries: `{"type": "[f64]", "len": N}` for a numeric vector or bytes
//! (`N`), `{"type": …, "shape": [rows, …]}` for a matrix, NumPy array or DataFrame (its
//! first dimension, as `len()` counts it). Anything else (text, an object, a boolean) is not a
//! size.

use pathwise_store::PayloadColumn;
use serde_json::Value;

/// Where the size of a call is read from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SizeField {
    /// A span attribute, by name.
    Attribute(String),
    /// A captured argument: a top-level field of the span's input.
    Input(String),
}

const INPUT_PREFIX: &str = "input.";
const ATTR_PREFIX: &str = "attr.";

impl SizeField {
    /// Parses the text form described in the module docs.
    ///
    /// ```
    /// use pathwise_analysis::scaling::SizeField;
    /// assert_eq!(SizeField::parse("dataset_count"), Ok(SizeField::Attribute("dataset_count".into())));
    /// assert_eq!(SizeField::parse("input.items"), Ok(SizeField::Input("items".into())));
    /// assert_eq!(SizeField::parse("attr.input.x"), Ok(SizeField::Attribute("input.x".into())));
    /// assert!(SizeField::parse("input.").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<SizeField, String> {
        let field = if let Some(argument) = text.strip_prefix(INPUT_PREFIX) {
            if argument.is_empty() {
                return Err("`input.` needs an argument name, e.g. input.items".into());
            }
            SizeField::Input(argument.to_string())
        } else if let Some(attribute) = text.strip_prefix(ATTR_PREFIX) {
            if attribute.is_empty() {
                return Err("`attr.` needs an attribute name, e.g. attr.dataset_count".into());
            }
            SizeField::Attribute(attribute.to_string())
        } else if text.is_empty() {
            return Err("empty: give an attribute name, or input.<argument>".into());
        } else {
            SizeField::Attribute(text.to_string())
        };
        Ok(field)
    }

    /// The stored column the field lives in.
    pub fn column(&self) -> PayloadColumn {
        match self {
            SizeField::Attribute(_) => PayloadColumn::Attrs,
            SizeField::Input(_) => PayloadColumn::Input,
        }
    }

    /// The attribute or argument name.
    pub fn key(&self) -> &str {
        match self {
            SizeField::Attribute(key) | SizeField::Input(key) => key,
        }
    }

    /// `attribute` or `input`.
    pub fn source(&self) -> &'static str {
        match self {
            SizeField::Attribute(_) => "attribute",
            SizeField::Input(_) => "input",
        }
    }

    /// The size of one span, from its column's JSON text; `None` when the field is missing or
    /// is not a size.
    ///
    /// ```
    /// use pathwise_analysis::scaling::SizeField;
    /// let items = SizeField::Input("items".into());
    /// assert_eq!(items.size_in(r#"{"items":[1,2,"+8 more"],"flag":true}"#), Some(10.0));
    /// assert_eq!(items.size_in(r#"{"other":3}"#), None);
    /// ```
    pub fn size_in(&self, json: &str) -> Option<f64> {
        match serde_json::from_str::<Value>(json).ok()? {
            Value::Object(fields) => size_of(fields.get(self.key())?),
            _ => None,
        }
    }
}

/// The text form, which [`SizeField::parse`] reads back.
///
/// ```
/// use pathwise_analysis::scaling::SizeField;
/// for text in ["n", "input.rows", "attr.input.x", "attr.attr.y"] {
///     assert_eq!(SizeField::parse(text).unwrap().to_string(), text);
/// }
/// ```
impl std::fmt::Display for SizeField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SizeField::Input(argument) => write!(f, "{INPUT_PREFIX}{argument}"),
            SizeField::Attribute(name)
                if name.starts_with(INPUT_PREFIX) || name.starts_with(ATTR_PREFIX) =>
            {
                write!(f, "{ATTR_PREFIX}{name}")
            }
            SizeField::Attribute(name) => f.write_str(name),
        }
    }
}

/// The size a stored value stands for, by the rules in the module docs.
///
/// ```
/// use pathwise_analysis::scaling::size_of;
/// use serde_json::json;
/// assert_eq!(size_of(&json!(42)), Some(42.0));
/// assert_eq!(size_of(&json!({"type": "[f64]", "len": 1000})), Some(1000.0));
/// assert_eq!(size_of(&json!({"type": "ndarray", "shape": [300, 4]})), Some(300.0));
/// assert_eq!(size_of(&json!("42")), None);
/// ```
pub fn size_of(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64().filter(|v| v.is_finite()),
        Value::Array(items) => Some(array_len(items) as f64),
        Value::Object(fields) => {
            // Only capture's summaries, recognised by their `type`: another object's field
            // count says nothing about the work it stands for.
            fields.get("type")?.as_str()?;
            if let Some(len) = fields.get("len") {
                return len.as_f64().filter(|v| v.is_finite() && *v >= 0.0);
            }
            fields
                .get("shape")?
                .as_array()?
                .first()?
                .as_f64()
                .filter(|v| v.is_finite() && *v >= 0.0)
        }
        _ => None,
    }
}

/// An array's length, with a trailing `"+N more"` standing for `N` elements.
fn array_len(items: &[Value]) -> usize {
    let hidden = items.last().and_then(Value::as_str).and_then(|s| {
        s.strip_prefix('+')?
            .strip_suffix(" more")?
            .parse::<usize>()
            .ok()
    });
    match hidden {
        Some(hidden) => items.len() - 1 + hidden,
        None => items.len(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn values_that_are_sizes() {
        assert_eq!(size_of(&json!(2.5)), Some(2.5));
        assert_eq!(size_of(&json!([])), Some(0.0));
        assert_eq!(size_of(&json!(["a", "b"])), Some(2.0));
        assert_eq!(size_of(&json!([1, 2, 3, "+97 more"])), Some(100.0));
        assert_eq!(
            size_of(&json!(["+ more"])),
            Some(1.0),
            "not capture's marker"
        );
        assert_eq!(
            size_of(&json!({"type": "bytes", "len": 4096})),
            Some(4096.0)
        );
        assert_eq!(
            size_of(&json!({"type": "[f64]", "shape": [20, 3]})),
            Some(20.0)
        );
        assert_eq!(size_of(&json!({"a": 1, "b": 2})), None, "a plain object");
        assert_eq!(size_of(&json!({"type": "x", "len": -1})), None);
        assert_eq!(size_of(&json!(true)), None);
        assert_eq!(size_of(&json!(null)), None);
    }

    #[test]
    fn fields_read_only_the_top_level() {
        let attr = SizeField::parse("n").unwrap();
        assert_eq!(attr.column(), PayloadColumn::Attrs);
        assert_eq!(attr.size_in(r#"{"n":7}"#), Some(7.0));
        assert_eq!(attr.size_in(r#"{"inner":{"n":7}}"#), None);
        assert_eq!(attr.size_in("not json"), None);
        assert_eq!(attr.size_in("[1,2]"), None);
        let input = SizeField::parse("input.rows").unwrap();
        assert_eq!((input.source(), input.key()), ("input", "rows"));
        assert_eq!(input.column(), PayloadColumn::Input);
        assert!(SizeField::parse("").is_err());
        assert!(
            SizeField::parse("attr.")
                .unwrap_err()
                .contains("attr.dataset_count")
        );
    }
}
