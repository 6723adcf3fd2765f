//! Compound serializers: sequences (incl. tuples), maps and structs.
//!
//! Each keeps at most `max_items` (structs: `2 * max_items`) summarised
//! children plus counters; everything past the limit is counted, and for
//! sequences probed for numeric-ness, but never summarised.

use serde::Serialize;
use serde::ser;
use serde_json::{Map, Value};

use super::shape::{SeqStats, Shape, Verdict};
use super::{CaptureError, ELIDED, Summarizer, Summary, summarize_child, tagged};
use crate::MASK;

/// Key under which maps and structs report how many entries were left out.
const MORE_KEY: &str = "+more";

fn elided() -> Summary {
    Summary {
        value: Value::String(ELIDED.to_owned()),
        shape: Shape::Other,
    }
}

fn numeric_summary(kind_label: &str, key: &str, detail: Value) -> Value {
    let mut map = Map::new();
    map.insert("type".to_owned(), Value::String(kind_label.to_owned()));
    map.insert(key.to_owned(), detail);
    Value::Object(map)
}

/// Sequences, tuples, tuple structs and tuple variants.
pub(crate) struct SeqSummary<'a> {
    s: Summarizer<'a>,
    items: Vec<Value>,
    stats: SeqStats,
    variant: Option<&'static str>,
    too_deep: bool,
}

impl<'a> SeqSummary<'a> {
    pub(super) fn new(
        s: Summarizer<'a>,
        len: Option<usize>,
        variant: Option<&'static str>,
    ) -> Result<Self, CaptureError> {
        let too_deep = s.too_deep();
        // A probe must agree with what normal mode would report: a too-deep
        // sequence is shown as "…", which is not numeric.
        if s.probe && too_deep {
            return Err(CaptureError::NotNumeric);
        }
        let capacity = if s.probe || too_deep {
            0
        } else {
            len.unwrap_or(0).min(s.opts.max_items)
        };
        Ok(Self {
            s,
            items: Vec::with_capacity(capacity),
            stats: SeqStats::new(),
            variant,
            too_deep,
        })
    }

    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), CaptureError> {
        if self.too_deep {
            // Children of an elided container are never visited.
            return Ok(());
        }
        let child = self.s.child();
        if self.s.probe {
            // Propagating the error makes the element's Serialize impl (and
            // so the whole probe) stop at the first non-numeric value.
            let shape = value.serialize(child)?.shape;
            self.stats.push(shape);
            return if self.stats.is_mixed() {
                Err(CaptureError::NotNumeric)
            } else {
                Ok(())
            };
        }
        if self.stats.count < self.s.opts.max_items {
            let summary = summarize_child(value, child);
            self.stats.push(summary.shape);
            self.items.push(summary.value);
        } else if self.stats.is_mixed() {
            self.stats.skip();
        } else {
            let shape = value
                .serialize(child.probing())
                .map_or(Shape::Other, |summary| summary.shape);
            self.stats.push(shape);
        }
        Ok(())
    }

    fn finish(self) -> Result<Summary, CaptureError> {
        if self.too_deep {
            return Ok(elided());
        }
        let shape = self.stats.shape();
        if self.s.probe {
            return Ok(Summary {
                value: Value::Null,
                shape,
            });
        }
        let value = match self.stats.verdict(self.s.opts.numeric_vector_threshold) {
            Verdict::Vector(kind, len) => numeric_summary(kind.label(), "len", Value::from(len)),
            Verdict::Matrix(kind, rows, cols) => numeric_summary(
                kind.label(),
                "shape",
                Value::Array(vec![Value::from(rows), Value::from(cols)]),
            ),
            Verdict::List => {
                let mut items = self.items;
                let hidden = self.stats.count - items.len();
                if hidden > 0 {
                    items.push(Value::String(format!("+{hidden} more")));
                }
                Value::Array(items)
            }
        };
        Ok(match self.variant {
            Some(variant) => Summary::other(tagged(variant, value)),
            None => Summary { value, shape },
        })
    }
}

impl ser::SerializeSeq for SeqSummary<'_> {
    type Ok = Summary;
    type Error = CaptureError;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), CaptureError> {
        self.element(value)
    }

    fn end(self) -> Result<Summary, CaptureError> {
        self.finish()
    }
}

impl ser::SerializeTuple for SeqSummary<'_> {
    type Ok = Summary;
    type Error = CaptureError;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), CaptureError> {
        self.element(value)
    }

    fn end(self) -> Result<Summary, CaptureError> {
        self.finish()
    }
}

impl ser::SerializeTupleStruct for SeqSummary<'_> {
    type Ok = Summary;
    type Error = CaptureError;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), CaptureError> {
        self.element(value)
    }

    fn end(self) -> Result<Summary, CaptureError> {
        self.finish()
    }
}

impl ser::SerializeTupleVariant for SeqSummary<'_> {
    type Ok = Summary;
    type Error = CaptureError;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), CaptureError> {
        self.element(value)
    }

    fn end(self) -> Result<Summary, CaptureError> {
        self.finish()
    }
}

/// What to do with the value following a map key.
enum Pending {
    /// No key seen (or value already consumed).
    None,
    Show(String),
    Mask(String),
    /// Past `max_items`: count only.
    Skip,
}

/// Maps (and anything serde routes through `serialize_map`, such as
/// `#[serde(flatten)]` structs and `serde_json::Value::Object`).
pub(crate) struct MapSummary<'a> {
    s: Summarizer<'a>,
    obj: Map<String, Value>,
    count: usize,
    pending: Pending,
    too_deep: bool,
}

impl<'a> MapSummary<'a> {
    pub(super) fn new(s: Summarizer<'a>) -> Result<Self, CaptureError> {
        if s.probe {
            return Err(CaptureError::NotNumeric);
        }
        Ok(Self {
            s,
            obj: Map::new(),
            count: 0,
            pending: Pending::None,
            too_deep: s.too_deep(),
        })
    }
}

/// The string form of a map key: strings as-is (bounded), scalars via their
/// JSON text (`1`, `true`), complex keys as the JSON text of their summary.
fn key_string<T: Serialize + ?Sized>(key: &T, s: Summarizer<'_>) -> String {
    match summarize_child(key, s).value {
        Value::String(text) => text,
        other => other.to_string(),
    }
}

impl ser::SerializeMap for MapSummary<'_> {
    type Ok = Summary;
    type Error = CaptureError;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), CaptureError> {
        if self.too_deep {
            return Ok(());
        }
        self.count += 1;
        self.pending = if self.count > self.s.opts.max_items {
            Pending::Skip
        } else {
            let key = key_string(key, self.s.child());
            if self.s.opts.is_secret(&key) {
                Pending::Mask(key)
            } else {
                Pending::Show(key)
            }
        };
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), CaptureError> {
        match std::mem::replace(&mut self.pending, Pending::None) {
            Pending::Show(key) => {
                let summary = summarize_child(value, self.s.child());
                self.obj.insert(key, summary.value);
            }
            // The secret value is never serialized, not even into a summary.
            Pending::Mask(key) => {
                self.obj.insert(key, Value::String(MASK.to_owned()));
            }
            // `Skip`, or a misbehaving impl sending a value without a key.
            Pending::Skip | Pending::None => {}
        }
        Ok(())
    }

    fn end(mut self) -> Result<Summary, CaptureError> {
        if self.too_deep {
            return Ok(elided());
        }
        let hidden = self.count.saturating_sub(self.s.opts.max_items);
        if hidden > 0 {
            self.obj
                .insert(MORE_KEY.to_owned(), Value::String(format!("{hidden} more")));
        }
        Ok(Summary::other(Value::Object(self.obj)))
    }
}

/// Structs and struct variants.
pub(crate) struct StructSummary<'a> {
    s: Summarizer<'a>,
    obj: Map<String, Value>,
    count: usize,
    variant: Option<&'static str>,
    too_deep: bool,
}

impl<'a> StructSummary<'a> {
    pub(super) fn new(
        s: Summarizer<'a>,
        variant: Option<&'static str>,
    ) -> Result<Self, CaptureError> {
        if s.probe {
            return Err(CaptureError::NotNumeric);
        }
        Ok(Self {
            s,
            obj: Map::new(),
            count: 0,
            variant,
            too_deep: s.too_deep(),
        })
    }

    /// Structs show twice `max_items` fields: their fields are a small fixed
    /// set chosen by the programmer, unlike data-sized maps.
    fn limit(&self) -> usize {
        self.s.opts.max_items.saturating_mul(2)
    }

    fn field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), CaptureError> {
        if self.too_deep {
            return Ok(());
        }
        self.count += 1;
        if self.count > self.limit() {
            return Ok(());
        }
        let value = if self.s.opts.is_secret(key) {
            Value::String(MASK.to_owned())
        } else {
            summarize_child(value, self.s.child()).value
        };
        self.obj.insert(key.to_owned(), value);
        Ok(())
    }

    fn finish(mut self) -> Result<Summary, CaptureError> {
        if self.too_deep {
            return Ok(elided());
        }
        let hidden = self.count.saturating_sub(self.limit());
        if hidden > 0 {
            self.obj
                .insert(MORE_KEY.to_owned(), Value::String(format!("{hidden} more")));
        }
        let value = Value::Object(self.obj);
        Ok(Summary::other(match self.variant {
            Some(variant) => tagged(variant, value),
            None => value,
        }))
    }
}

impl ser::SerializeStruct for StructSummary<'_> {
    type Ok = Summary;
    type Error = CaptureError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), CaptureError> {
        self.field(key, value)
    }

    fn end(self) -> Result<Summary, CaptureError> {
        self.finish()
    }
}

impl ser::SerializeStructVariant for StructSummary<'_> {
    type Ok = Summary;
    type Error = CaptureError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), CaptureError> {
        self.field(key, value)
    }

    fn end(self) -> Result<Summary, CaptureError> {
        self.finish()
    }
}
