//! The `serde::Serializer` impl: scalars are written (or refused by a probe) here; containers
//! go to `compound`.

use std::fmt;

use serde::Serialize;
use serde::ser;

use super::compound::{MapSummary, SeqSummary, StructSummary};
use super::shape::Kind;
use super::{
    CaptureError, ELIDED, Summarizer, Summary, float, int, open_tag, summarize_child, write_str,
};
use crate::text::{BoundedWriter, truncate_str};

impl<'a, 'o> ser::Serializer for Summarizer<'a, 'o> {
    type Ok = Summary;
    type Error = CaptureError;
    type SerializeSeq = SeqSummary<'a, 'o>;
    type SerializeTuple = SeqSummary<'a, 'o>;
    type SerializeTupleStruct = SeqSummary<'a, 'o>;
    type SerializeTupleVariant = SeqSummary<'a, 'o>;
    type SerializeMap = MapSummary<'a, 'o>;
    type SerializeStruct = StructSummary<'a, 'o>;
    type SerializeStructVariant = StructSummary<'a, 'o>;

    fn serialize_bool(self, v: bool) -> Result<Summary, CaptureError> {
        self.scalar(|out| out.extend_from_slice(if v { b"true" } else { b"false" }))
    }

    fn serialize_i8(self, v: i8) -> Result<Summary, CaptureError> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i16(self, v: i16) -> Result<Summary, CaptureError> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i32(self, v: i32) -> Result<Summary, CaptureError> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i64(self, v: i64) -> Result<Summary, CaptureError> {
        self.number(Kind::I64, |out| int(out, v))
    }

    fn serialize_i128(self, v: i128) -> Result<Summary, CaptureError> {
        if let Ok(small) = i64::try_from(v) {
            self.number(Kind::I64, |out| int(out, small))
        } else if let Ok(big) = u64::try_from(v) {
            self.number(Kind::U64, |out| int(out, big))
        } else {
            // JSON numbers can't hold it exactly; a string keeps every digit.
            self.number(Kind::I64, |out| write_str(out, &v.to_string()))
        }
    }

    fn serialize_u8(self, v: u8) -> Result<Summary, CaptureError> {
        self.serialize_u64(u64::from(v))
    }

    fn serialize_u16(self, v: u16) -> Result<Summary, CaptureError> {
        self.serialize_u64(u64::from(v))
    }

    fn serialize_u32(self, v: u32) -> Result<Summary, CaptureError> {
        self.serialize_u64(u64::from(v))
    }

    fn serialize_u64(self, v: u64) -> Result<Summary, CaptureError> {
        self.number(Kind::U64, |out| int(out, v))
    }

    fn serialize_u128(self, v: u128) -> Result<Summary, CaptureError> {
        match u64::try_from(v) {
            Ok(small) => self.number(Kind::U64, |out| int(out, small)),
            Err(_) => self.number(Kind::U64, |out| write_str(out, &v.to_string())),
        }
    }

    fn serialize_f32(self, v: f32) -> Result<Summary, CaptureError> {
        // Same widening serde_json applies, so output matches `json!`.
        self.number(Kind::F64, |out| float(out, f64::from(v)))
    }

    fn serialize_f64(self, v: f64) -> Result<Summary, CaptureError> {
        self.number(Kind::F64, |out| float(out, v))
    }

    fn serialize_char(self, v: char) -> Result<Summary, CaptureError> {
        self.text(v.encode_utf8(&mut [0; 4]))
    }

    fn serialize_str(self, v: &str) -> Result<Summary, CaptureError> {
        let max = self.opts.max_repr;
        self.scalar(|out| {
            // Byte length bounds char count: short strings need no cut.
            if v.len() <= max {
                write_str(out, v);
            } else {
                write_str(out, &truncate_str(v, max));
            }
        })
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<Summary, CaptureError> {
        self.scalar(|out| {
            out.extend_from_slice(br#"{"type":"bytes","len":"#);
            int(out, v.len());
            out.push(b'}');
        })
    }

    fn serialize_none(self) -> Result<Summary, CaptureError> {
        self.scalar(|out| out.extend_from_slice(b"null"))
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Summary, CaptureError> {
        self.wrapped(value)
    }

    fn serialize_unit(self) -> Result<Summary, CaptureError> {
        self.serialize_none()
    }

    fn serialize_unit_struct(self, name: &'static str) -> Result<Summary, CaptureError> {
        self.text(name)
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Summary, CaptureError> {
        self.text(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Summary, CaptureError> {
        self.wrapped(value)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        mut self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Summary, CaptureError> {
        if self.probe {
            return Err(CaptureError::NotNumeric);
        }
        // The `{variant: ..}` object is a real JSON level, so it counts as
        // depth; this also bounds recursive enums such as linked lists.
        if self.too_deep() {
            return self.text(ELIDED);
        }
        open_tag(self.out, variant);
        summarize_child(value, self.child());
        self.out.push(b'}');
        Ok(Summary::OTHER)
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<SeqSummary<'a, 'o>, CaptureError> {
        SeqSummary::new(self, len, None)
    }

    fn serialize_tuple(self, len: usize) -> Result<SeqSummary<'a, 'o>, CaptureError> {
        SeqSummary::new(self, Some(len), None)
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<SeqSummary<'a, 'o>, CaptureError> {
        SeqSummary::new(self, Some(len), None)
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<SeqSummary<'a, 'o>, CaptureError> {
        if self.probe {
            return Err(CaptureError::NotNumeric);
        }
        SeqSummary::new(self, Some(len), Some(variant))
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<MapSummary<'a, 'o>, CaptureError> {
        MapSummary::new(self)
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<StructSummary<'a, 'o>, CaptureError> {
        StructSummary::new(self, None)
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<StructSummary<'a, 'o>, CaptureError> {
        StructSummary::new(self, Some(variant))
    }

    /// Overridden because serde's default materialises the whole `Display`
    /// output via `to_string()` before we could truncate it.
    fn collect_str<T: fmt::Display + ?Sized>(self, value: &T) -> Result<Summary, CaptureError> {
        if self.probe {
            return Err(CaptureError::NotNumeric);
        }
        match BoundedWriter::format(self.opts.max_repr, format_args!("{value}")) {
            Some(w) => self.text(&w.into_string()),
            None => Err(CaptureError::Custom),
        }
    }
}
