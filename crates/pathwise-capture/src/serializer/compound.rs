//! Compound serializers: sequences (incl. tuples), maps and structs.
//!
//! Each writes at most `max_items` (structs: `2 * max_items`) summarised
//! children plus counters; everything past the limit is counted, and for
//! sequences probed for numeric-ness, but never summarised.

use serde::Serialize;
use serde::ser;

use super::shape::{SeqStats, Shape, Verdict};
use super::{CaptureError, ELIDED, Summarizer, Summary, int, open_tag, summarize_child, write_str};
use crate::MASK;

/// Key under which maps and structs report how many entries were left out.
const MORE_KEY: &str = "+more";

/// `,"+more":"N more"` (without the comma when nothing precedes it).
fn write_more(out: &mut Vec<u8>, first: bool, hidden: usize) {
    if !first {
        out.push(b',');
    }
    write_str(out, MORE_KEY);
    out.push(b':');
    write_str(out, &format!("{hidden} more"));
}

/// Sequences, tuples, tuple structs and tuple variants.
pub(crate) struct SeqSummary<'a, 'o> {
    s: Summarizer<'a, 'o>,
    /// Where the `[` is: a numeric verdict replaces everything from here.
    start: usize,
    shown: usize,
    stats: SeqStats,
    variant: Option<&'static str>,
    too_deep: bool,
}

impl<'a, 'o> SeqSummary<'a, 'o> {
    pub(super) fn new(
        s: Summarizer<'a, 'o>,
        _len: Option<usize>,
        variant: Option<&'static str>,
    ) -> Result<Self, CaptureError> {
        let too_deep = s.too_deep();
        // A probe must agree with what normal mode would report: a too-deep
        // sequence is shown as "…", which is not numeric.
        if s.probe && too_deep {
            return Err(CaptureError::NotNumeric);
        }
        if !s.probe && !too_deep {
            if let Some(variant) = variant {
                open_tag(s.out, variant);
            }
            s.out.push(b'[');
        }
        Ok(Self {
            start: s.out.len().saturating_sub(1),
            s,
            shown: 0,
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
        if self.s.probe {
            // Propagating the error makes the element's Serialize impl (and
            // so the whole probe) stop at the first non-numeric value.
            let shape = value.serialize(self.s.child())?.shape;
            self.stats.push(shape);
            return if self.stats.is_mixed() {
                Err(CaptureError::NotNumeric)
            } else {
                Ok(())
            };
        }
        if self.stats.count < self.s.opts.max_items {
            if self.shown > 0 {
                self.s.out.push(b',');
            }
            let summary = summarize_child(value, self.s.child());
            self.shown += 1;
            self.stats.push(summary.shape);
        } else if self.stats.is_mixed() {
            self.stats.skip();
        } else {
            let shape = value
                .serialize(self.s.child().probing())
                .map_or(Shape::Other, |summary| summary.shape);
            self.stats.push(shape);
        }
        Ok(())
    }

    fn finish(self) -> Result<Summary, CaptureError> {
        let out = self.s.out;
        if self.too_deep {
            write_str(out, ELIDED);
            return Ok(Summary::OTHER);
        }
        let shape = self.stats.shape();
        if self.s.probe {
            return Ok(Summary { shape });
        }
        match self.stats.verdict(self.s.opts.numeric_vector_threshold) {
            Verdict::Vector(kind, len) => {
                out.truncate(self.start);
                numeric_summary(out, kind.label(), "len", |out| int(out, len));
            }
            Verdict::Matrix(kind, rows, cols) => {
                out.truncate(self.start);
                numeric_summary(out, kind.label(), "shape", |out| {
                    out.push(b'[');
                    int(out, rows);
                    out.push(b',');
                    int(out, cols);
                    out.push(b']');
                });
            }
            Verdict::List => {
                let hidden = self.stats.count - self.shown;
                if hidden > 0 {
                    if self.shown > 0 {
                        out.push(b',');
                    }
                    write_str(out, &format!("+{hidden} more"));
                }
                out.push(b']');
            }
        }
        Ok(match self.variant {
            Some(_) => {
                out.push(b'}');
                Summary::OTHER
            }
            None => Summary { shape },
        })
    }
}

/// `{"type":"[f64]","<key>":<detail>}`.
fn numeric_summary(
    out: &mut Vec<u8>,
    kind_label: &str,
    key: &str,
    detail: impl FnOnce(&mut Vec<u8>),
) {
    out.extend_from_slice(br#"{"type":"#);
    write_str(out, kind_label);
    out.push(b',');
    write_str(out, key);
    out.push(b':');
    detail(out);
    out.push(b'}');
}

impl ser::SerializeSeq for SeqSummary<'_, '_> {
    type Ok = Summary;
    type Error = CaptureError;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), CaptureError> {
        self.element(value)
    }

    fn end(self) -> Result<Summary, CaptureError> {
        self.finish()
    }
}

impl ser::SerializeTuple for SeqSummary<'_, '_> {
    type Ok = Summary;
    type Error = CaptureError;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), CaptureError> {
        self.element(value)
    }

    fn end(self) -> Result<Summary, CaptureError> {
        self.finish()
    }
}

impl ser::SerializeTupleStruct for SeqSummary<'_, '_> {
    type Ok = Summary;
    type Error = CaptureError;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), CaptureError> {
        self.element(value)
    }

    fn end(self) -> Result<Summary, CaptureError> {
        self.finish()
    }
}

impl ser::SerializeTupleVariant for SeqSummary<'_, '_> {
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
pub(crate) struct MapSummary<'a, 'o> {
    s: Summarizer<'a, 'o>,
    count: usize,
    shown: usize,
    pending: Pending,
    too_deep: bool,
}

impl<'a, 'o> MapSummary<'a, 'o> {
    pub(super) fn new(s: Summarizer<'a, 'o>) -> Result<Self, CaptureError> {
        if s.probe {
            return Err(CaptureError::NotNumeric);
        }
        let too_deep = s.too_deep();
        if !too_deep {
            s.out.push(b'{');
        }
        Ok(Self {
            s,
            count: 0,
            shown: 0,
            pending: Pending::None,
            too_deep,
        })
    }

    fn write_key(&mut self, key: &str) {
        if self.shown > 0 {
            self.s.out.push(b',');
        }
        self.shown += 1;
        write_str(self.s.out, key);
        self.s.out.push(b':');
    }
}

/// The string form of a map key: strings as-is (bounded), scalars via their
/// JSON text (`1`, `true`), complex keys as the JSON text of their summary.
fn key_string<T: Serialize + ?Sized>(key: &T, s: &Summarizer<'_, '_>) -> String {
    let mut text = Vec::new();
    let mut child = Summarizer::root(s.opts, &mut text);
    child.depth = s.depth + 1;
    summarize_child(key, child);
    let text = String::from_utf8(text).unwrap_or_default();
    match serde_json::from_str::<String>(&text) {
        Ok(plain) => plain,
        Err(_) => text,
    }
}

impl ser::SerializeMap for MapSummary<'_, '_> {
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
            let key = key_string(key, &self.s);
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
                self.write_key(&key);
                summarize_child(value, self.s.child());
            }
            // The secret value is never serialized, not even into a summary.
            Pending::Mask(key) => {
                self.write_key(&key);
                write_str(self.s.out, MASK);
            }
            // `Skip`, or a misbehaving impl sending a value without a key.
            Pending::Skip | Pending::None => {}
        }
        Ok(())
    }

    fn end(self) -> Result<Summary, CaptureError> {
        if self.too_deep {
            write_str(self.s.out, ELIDED);
            return Ok(Summary::OTHER);
        }
        let hidden = self.count.saturating_sub(self.s.opts.max_items);
        if hidden > 0 {
            write_more(self.s.out, self.shown == 0, hidden);
        }
        self.s.out.push(b'}');
        Ok(Summary::OTHER)
    }
}

/// Structs and struct variants.
pub(crate) struct StructSummary<'a, 'o> {
    s: Summarizer<'a, 'o>,
    count: usize,
    variant: Option<&'static str>,
    too_deep: bool,
}

impl<'a, 'o> StructSummary<'a, 'o> {
    pub(super) fn new(
        s: Summarizer<'a, 'o>,
        variant: Option<&'static str>,
    ) -> Result<Self, CaptureError> {
        if s.probe {
            return Err(CaptureError::NotNumeric);
        }
        let too_deep = s.too_deep();
        if !too_deep {
            if let Some(variant) = variant {
                open_tag(s.out, variant);
            }
            s.out.push(b'{');
        }
        Ok(Self {
            s,
            count: 0,
            variant,
            too_deep,
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
        if self.count > 1 {
            self.s.out.push(b',');
        }
        write_str(self.s.out, key);
        self.s.out.push(b':');
        if self.s.opts.is_secret(key) {
            write_str(self.s.out, MASK);
        } else {
            summarize_child(value, self.s.child());
        }
        Ok(())
    }

    fn finish(self) -> Result<Summary, CaptureError> {
        let out = self.s.out;
        if self.too_deep {
            write_str(out, ELIDED);
            return Ok(Summary::OTHER);
        }
        let shown = self.count.min(self.s.opts.max_items.saturating_mul(2));
        let hidden = self.count - shown;
        if hidden > 0 {
            write_more(out, shown == 0, hidden);
        }
        out.push(b'}');
        if self.variant.is_some() {
            out.push(b'}');
        }
        Ok(Summary::OTHER)
    }
}

impl ser::SerializeStruct for StructSummary<'_, '_> {
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

impl ser::SerializeStructVariant for StructSummary<'_, '_> {
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
