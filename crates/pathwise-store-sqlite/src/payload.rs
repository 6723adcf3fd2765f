//! Compressed payload columns: captured input and output, metadata, reasoning and error chains.
//!
//! These columns are most of a database's bytes (JSON that repeats the same keys and shapes for
//! every call of a function), and each value is too small for a general compressor to find much
//! to share. So each span name gets a zstd dictionary trained on its own first payloads; a value
//! is stored as a blob
//!
//! ```text
//! 0x01 · varint dictionary id (0: none) · varint length of the text · zstd frame
//! ```
//!
//! and stays plain text when it is short or compression would not shrink it. The structural
//! columns (`spans`, `traces`, `attrs`) stay plain, so `sqlite3` still reads `spans_v`; SQL reads
//! a payload through the function `pw_text(column)` that every Pathwise connection registers
//! (`pathwise sql` and the SQL alert rules included). Dictionaries live in `payload_dicts` and
//! never change once written, so a row can always be read back.

mod train;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rusqlite::functions::FunctionFlags;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use zstd::bulk::Decompressor;
use zstd::zstd_safe::{DParameter, FrameFormat};

pub(crate) use train::PayloadWriter;

/// The first byte of a compressed value (a plain value is a TEXT, never a BLOB).
const FORMAT_ZSTD: u8 = 1;

/// The longest text a stored value may claim to hold (protects readers from a hostile file).
const MAX_TEXT_BYTES: u64 = 256 << 20;

/// The SQL function that reads a payload column, compressed or not.
pub const SQL_FUNCTION: &str = "pw_text";

/// Appends `value` as a LEB128 varint.
fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Reads a LEB128 varint from the front of `bytes`, returning it and the rest.
fn take_varint(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let mut value = 0u64;
    for (i, &byte) in bytes.iter().enumerate().take(10) {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((value, &bytes[i + 1..]));
        }
    }
    None
}

/// The header of a compressed value.
fn header(dict_id: i64, text_len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(text_len / 4 + 16);
    out.push(FORMAT_ZSTD);
    put_varint(&mut out, dict_id as u64);
    put_varint(&mut out, text_len as u64);
    out
}

/// A decompressor for this module's frames (magicless: the value's first byte says what it is).
fn decompressor(dict: Option<&[u8]>) -> std::io::Result<Decompressor<'static>> {
    let mut decompressor = match dict {
        Some(dict) => Decompressor::with_dictionary(dict)?,
        None => Decompressor::new()?,
    };
    decompressor.set_parameter(DParameter::Format(FrameFormat::Magicless))?;
    Ok(decompressor)
}

/// Reads compressed values back, keeping one decompressor per dictionary.
struct PayloadReader {
    /// Where to read dictionaries this reader has not seen yet (`None` for in-memory files).
    path: Option<PathBuf>,
    dicts: HashMap<i64, Decompressor<'static>>,
    plain: Option<Decompressor<'static>>,
}

impl PayloadReader {
    fn new(path: &Path) -> PayloadReader {
        let in_memory = path.as_os_str().is_empty() || path == Path::new(":memory:");
        PayloadReader {
            path: (!in_memory).then(|| path.to_path_buf()),
            dicts: HashMap::new(),
            plain: None,
        }
    }

    fn decode(&mut self, blob: &[u8]) -> Result<String, String> {
        let Some((&FORMAT_ZSTD, rest)) = blob.split_first() else {
            return Err("a blob of an unknown format".into());
        };
        let (dict_id, rest) = take_varint(rest).ok_or("a truncated header")?;
        let (len, frame) = take_varint(rest).ok_or("a truncated header")?;
        if len > MAX_TEXT_BYTES {
            return Err(format!("a claimed length of {len} bytes"));
        }
        let decompressor = self.decompressor(dict_id as i64)?;
        let bytes = decompressor
            .decompress(frame, len as usize)
            .map_err(|e| format!("zstd: {e}"))?;
        if bytes.len() as u64 != len {
            return Err(format!("{} bytes where {len} were recorded", bytes.len()));
        }
        String::from_utf8(bytes).map_err(|_| "text that is not UTF-8".into())
    }

    fn decompressor(&mut self, dict_id: i64) -> Result<&mut Decompressor<'static>, String> {
        if dict_id == 0 {
            if self.plain.is_none() {
                self.plain = Some(decompressor(None).map_err(|e| e.to_string())?);
            }
            return Ok(self.plain.as_mut().expect("set above"));
        }
        if !self.dicts.contains_key(&dict_id) {
            self.load_dicts()?;
        }
        self.dicts
            .get_mut(&dict_id)
            .ok_or_else(|| format!("dictionary {dict_id}, which the file does not hold"))
    }

    /// Reads the dictionaries written since the last look. A connection of its own: SQLite
    /// gives a function no safe way to query the connection running it, and dictionaries are
    /// committed before (or with) the first row that uses them, so any later snapshot has them.
    fn load_dicts(&mut self) -> Result<(), String> {
        let path = self.path.as_ref().ok_or("an in-memory database")?;
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| e.to_string())?;
        let newest = self.dicts.keys().copied().max().unwrap_or(0);
        let mut stmt = conn
            .prepare("SELECT id, dict FROM payload_dicts WHERE id > ?1")
            .map_err(|e| e.to_string())?;
        let rows = stmt
            .query_map([newest], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?))
            })
            .map_err(|e| e.to_string())?;
        for row in rows {
            let (id, dict) = row.map_err(|e| e.to_string())?;
            let decompressor = decompressor(Some(&dict)).map_err(|e| e.to_string())?;
            self.dicts.insert(id, decompressor);
        }
        Ok(())
    }
}

/// Reads the compressed payload values of one database outside SQLite's own functions: for a
/// connection Pathwise did not open (Python's `sqlite3` module, say), which registers
/// [`PayloadDecoder::text`] as `pw_text` itself.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let db = dir.path().join("p.db");
/// pathwise_store_sqlite::SqliteStore::open(&db).unwrap();
/// let mut decoder = pathwise_store_sqlite::PayloadDecoder::new(&db);
/// assert!(decoder.text(b"\x09not ours").unwrap_err().contains("unknown format"));
/// ```
pub struct PayloadDecoder(PayloadReader);

impl PayloadDecoder {
    /// A decoder for the database at `db`; dictionaries are read from it when first needed.
    pub fn new(db: &Path) -> PayloadDecoder {
        PayloadDecoder(PayloadReader::new(db))
    }

    /// The text of a stored compressed value, or why it cannot be read.
    pub fn text(&mut self, blob: &[u8]) -> Result<String, String> {
        self.0.decode(blob)
    }
}

/// Registers [`SQL_FUNCTION`] on `conn`, a connection to the database at `path`.
///
/// `pw_text(x)` is `x` for text and NULL, the text of a compressed value, and for a blob it
/// cannot read a bracketed message saying why (a damaged value must not make a whole trace
/// unreadable).
pub(crate) fn register(conn: &Connection, path: &Path) -> rusqlite::Result<()> {
    let reader = std::sync::Mutex::new(PayloadReader::new(path));
    conn.create_scalar_function(
        SQL_FUNCTION,
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        move |ctx| {
            Ok(match ctx.get_raw(0) {
                ValueRef::Null => None,
                ValueRef::Text(text) => Some(String::from_utf8_lossy(text).into_owned()),
                ValueRef::Integer(i) => Some(i.to_string()),
                ValueRef::Real(f) => Some(f.to_string()),
                ValueRef::Blob(blob) => Some(
                    reader
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .decode(blob)
                        .unwrap_or_else(|why| format!("[undecodable payload: {why}]")),
                ),
            })
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_and_truncation_is_refused() {
        for value in [0u64, 1, 127, 128, 300, 1 << 35, u64::MAX] {
            let mut out = Vec::new();
            put_varint(&mut out, value);
            out.push(0xAA);
            assert_eq!(take_varint(&out), Some((value, &[0xAA][..])));
        }
        assert_eq!(take_varint(&[0x80, 0x80]), None);
        assert_eq!(take_varint(&[]), None);
    }

    #[test]
    fn hostile_blobs_are_named_not_trusted() {
        let mut reader = PayloadReader::new(Path::new(":memory:"));
        assert!(reader.decode(b"").is_err());
        assert!(
            reader
                .decode(b"\x02abc")
                .unwrap_err()
                .contains("unknown format")
        );
        let mut huge = header(0, 0);
        huge.truncate(2);
        put_varint(&mut huge, 1 << 40);
        assert!(reader.decode(&huge).unwrap_err().contains("claimed length"));
        let mut garbage = header(0, 10);
        garbage.extend_from_slice(b"not a zstd frame");
        assert!(reader.decode(&garbage).unwrap_err().starts_with("zstd"));
        let missing = header(7, 10);
        assert!(reader.decode(&missing).unwrap_err().contains("in-memory"));
        // A frame that holds fewer bytes than the header says.
        let mut short = header(0, 10);
        short.extend(zstd::bulk::compress(b"12345", 3).unwrap());
        assert!(reader.decode(&short).is_err());
    }
}
