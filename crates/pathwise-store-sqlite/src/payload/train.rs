//! The writer's side: samples per span name, a dictionary once there are enough, compression.

use rusqlite::types::{ToSql, ToSqlOutput};
use rusqlite::{OptionalExtension, Transaction, params};
use rustc_hash::FxHashMap;
use zstd::bulk::Compressor;
use zstd::zstd_safe::{CParameter, FrameFormat};

use super::header;
use crate::Error;

/// Shorter values stay plain: a frame's own header and the value's would eat the gain.
const MIN_COMPRESSED: usize = 16;
/// The largest dictionary trained; more measured no better on the demo's payloads.
const DICT_BYTES: usize = 4096;
/// A name's dictionary is trained after this many samples, or this many bytes of them.
const TRAIN_AFTER_SAMPLES: usize = 128;
const TRAIN_AFTER_BYTES: usize = 64 << 10;
/// Fewer sample bytes than this make a dictionary that zstd refuses or that does not help; a
/// name whose values stay this small after [`GIVE_UP_SAMPLES`] gets none.
const MIN_TRAINING_BYTES: usize = 8 << 10;
const GIVE_UP_SAMPLES: usize = 1024;
/// Larger values are compressed but not kept as samples.
const MAX_SAMPLE: usize = 16 << 10;
/// Samples held for all names together. Past it (thousands of distinct names, such as span
/// names with ids in them) a new name is compressed without a dictionary: memory stays bounded.
const MAX_HELD_BYTES: usize = 16 << 20;
const TRAINING_ATTEMPTS: u8 = 3;
/// zstd's default level: at these sizes higher levels buy a few percent for twice the time.
const LEVEL: i32 = 3;

/// A payload column's value as bound into the insert.
pub(crate) enum Payload<'a> {
    Plain(&'a str),
    Packed(Vec<u8>),
}

impl ToSql for Payload<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Payload::Plain(text) => ToSqlOutput::from(*text),
            Payload::Packed(bytes) => ToSqlOutput::from(bytes.as_slice()),
        })
    }
}

enum Codec {
    Training {
        data: Vec<u8>,
        sizes: Vec<usize>,
        failures: u8,
    },
    Trained {
        dict_id: i64,
        compressor: Compressor<'static>,
    },
    /// Training failed, or there was no room left for samples.
    NoDictionary,
}

impl Codec {
    fn training() -> Codec {
        Codec::Training {
            data: Vec::new(),
            sizes: Vec::new(),
            failures: 0,
        }
    }
}

/// Compresses the payload columns of the spans being written. Lives beside the writer's other
/// caches and is reset with them when a transaction rolls back (a dictionary row it wrote may
/// be gone); it reloads stored dictionaries by span name on first use.
pub(crate) struct PayloadWriter {
    codecs: FxHashMap<i64, Codec>,
    no_dictionary: Option<Compressor<'static>>,
    held_bytes: usize,
    frame: Vec<u8>,
}

/// A compressor with `dict`, or with none.
fn compressor(dict: Option<&[u8]>) -> std::io::Result<Compressor<'static>> {
    let mut compressor = match dict {
        Some(dict) => Compressor::with_dictionary(LEVEL, dict)?,
        None => Compressor::new(LEVEL)?,
    };
    // The header of the stored value holds the length; the dictionary id is in it too, and a
    // damaged value is caught by the length check and UTF-8 (a checksum would cost 4 bytes each).
    compressor.include_checksum(false)?;
    compressor.include_dictid(false)?;
    compressor.include_contentsize(false)?;
    // Nor is the magic number needed: the first byte of the value says what it is.
    compressor.set_parameter(CParameter::Format(FrameFormat::Magicless))?;
    Ok(compressor)
}

impl PayloadWriter {
    pub(crate) fn new() -> PayloadWriter {
        PayloadWriter {
            codecs: FxHashMap::default(),
            no_dictionary: None,
            held_bytes: 0,
            frame: Vec::new(),
        }
    }

    /// A payload column's `text` as it is stored for a span named `name_id`: compressed when
    /// that pays.
    pub(crate) fn encode<'a>(
        &mut self,
        tx: &Transaction<'_>,
        name_id: i64,
        text: Option<&'a str>,
    ) -> Result<Option<Payload<'a>>, Error> {
        match text {
            Some(text) => self.encode_text(tx, name_id, text).map(Some),
            None => Ok(None),
        }
    }

    fn encode_text<'a>(
        &mut self,
        tx: &Transaction<'_>,
        name_id: i64,
        text: &'a str,
    ) -> Result<Payload<'a>, Error> {
        if text.len() < MIN_COMPRESSED {
            return Ok(Payload::Plain(text));
        }
        if let std::collections::hash_map::Entry::Vacant(slot) = self.codecs.entry(name_id) {
            slot.insert(stored_codec(tx, name_id)?);
        }
        self.learn(tx, name_id, text)?;
        let Self {
            codecs,
            no_dictionary,
            frame,
            ..
        } = self;
        let (dict_id, compressor) = match codecs.get_mut(&name_id) {
            Some(Codec::Trained {
                dict_id,
                compressor,
            }) => (*dict_id, compressor),
            _ => {
                if no_dictionary.is_none() {
                    *no_dictionary = compressor(None).ok();
                }
                match no_dictionary.as_mut() {
                    Some(c) => (0, c),
                    None => return Ok(Payload::Plain(text)),
                }
            }
        };
        frame.clear();
        frame.reserve(zstd::zstd_safe::compress_bound(text.len()));
        // A value that cannot be compressed is stored as it is: never lost for the sake of size.
        if compressor
            .compress_to_buffer(text.as_bytes(), frame)
            .is_err()
        {
            return Ok(Payload::Plain(text));
        }
        let mut packed = header(dict_id, text.len());
        if packed.len() + frame.len() >= text.len() {
            return Ok(Payload::Plain(text));
        }
        packed.extend_from_slice(frame);
        Ok(Payload::Packed(packed))
    }

    /// Keeps `text` as a sample of its name while the name is training, and trains once there
    /// are enough.
    fn learn(&mut self, tx: &Transaction<'_>, name_id: i64, text: &str) -> Result<(), Error> {
        let Some(Codec::Training {
            data,
            sizes,
            failures,
        }) = self.codecs.get_mut(&name_id)
        else {
            return Ok(());
        };
        if text.len() > MAX_SAMPLE {
            // Compressed, but not kept: one huge value would crowd out the typical ones.
        } else if self.held_bytes + text.len() <= MAX_HELD_BYTES {
            data.extend_from_slice(text.as_bytes());
            sizes.push(text.len());
            self.held_bytes += text.len();
        } else if data.is_empty() {
            // No room left to learn this name at all.
            self.codecs.insert(name_id, Codec::NoDictionary);
            return Ok(());
        }
        let ready = sizes.len() >= TRAIN_AFTER_SAMPLES || data.len() >= TRAIN_AFTER_BYTES;
        if !ready || (data.len() < MIN_TRAINING_BYTES && sizes.len() < GIVE_UP_SAMPLES) {
            return Ok(());
        }
        let trained = if data.len() >= MIN_TRAINING_BYTES {
            zstd::dict::from_continuous(data, sizes, DICT_BYTES)
                .and_then(|dict| Ok((compressor(Some(&dict))?, dict)))
                .ok()
        } else {
            None
        };
        self.held_bytes -= data.len();
        let next = match trained {
            Some((compressor, dict)) => {
                tx.prepare_cached(
                    "INSERT INTO payload_dicts (name_id, dict, samples, created_ns)
                     VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![
                    name_id,
                    dict,
                    sizes.len() as i64,
                    crate::maintenance::now_ns()
                ])?;
                Codec::Trained {
                    dict_id: tx.last_insert_rowid(),
                    compressor,
                }
            }
            None if *failures + 1 < TRAINING_ATTEMPTS && data.len() >= MIN_TRAINING_BYTES => {
                Codec::Training {
                    data: Vec::new(),
                    sizes: Vec::new(),
                    failures: *failures + 1,
                }
            }
            None => Codec::NoDictionary,
        };
        self.codecs.insert(name_id, next);
        Ok(())
    }
}

/// The newest stored dictionary of `name_id`, or a fresh start.
fn stored_codec(tx: &Transaction<'_>, name_id: i64) -> Result<Codec, Error> {
    let stored: Option<(i64, Vec<u8>)> = tx
        .prepare_cached(
            "SELECT id, dict FROM payload_dicts WHERE name_id = ?1 ORDER BY id DESC LIMIT 1",
        )?
        .query_row([name_id], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    Ok(match stored {
        Some((dict_id, dict)) => match compressor(Some(&dict)) {
            Ok(compressor) => Codec::Trained {
                dict_id,
                compressor,
            },
            Err(_) => Codec::training(),
        },
        None => Codec::training(),
    })
}

#[cfg(test)]
mod tests {
    use rusqlite::OpenFlags;

    use super::*;

    /// Encodes `values` for span name 1, stores them, and reads them back through `pw_text`.
    fn round_trip(values: &[String]) -> (Vec<String>, i64, usize) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.db");
        let mut conn = crate::connect(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
        )
        .unwrap();
        crate::schema::migrate(&mut conn).unwrap();
        conn.execute_batch("CREATE TABLE t (i INTEGER PRIMARY KEY, v)")
            .unwrap();
        let mut writer = PayloadWriter::new();
        let tx = conn.transaction().unwrap();
        let mut blobs = 0;
        for (i, value) in values.iter().enumerate() {
            let stored = writer.encode(&tx, 1, Some(value)).unwrap().unwrap();
            blobs += matches!(stored, Payload::Packed(_)) as usize;
            tx.execute("INSERT INTO t VALUES (?1, ?2)", params![i as i64, stored])
                .unwrap();
        }
        tx.commit().unwrap();
        let back = conn
            .prepare("SELECT pw_text(v) FROM t ORDER BY i")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let dicts = conn
            .query_row("SELECT count(*) FROM payload_dicts", [], |row| row.get(0))
            .unwrap();
        (back, dicts, blobs)
    }

    #[test]
    fn every_value_reads_back_byte_for_byte() {
        let values: Vec<String> = (0..400)
            .map(|i| match i % 5 {
                0 => "short".to_string(),
                1 => format!(r#"{{"query":"лёгкие атлас {i}","limit":{}}}"#, i % 30),
                _ => format!(
                    r#"[{{"accession":"GSE{}","score":0.{:03}0,"title":"study {i} ✓"}}]"#,
                    10_000 + i * 7,
                    i % 1000
                ),
            })
            .collect();
        let (back, dicts, blobs) = round_trip(&values);
        assert_eq!(back, values);
        assert_eq!(dicts, 1);
        // The 240 result lists at least; short values stay plain.
        assert!(blobs > 150, "{blobs} of 400 compressed");
    }

    #[test]
    fn a_huge_first_value_does_not_stop_the_name_from_learning() {
        let mut values = vec!["x".repeat(MAX_SAMPLE + 1)];
        values.extend((0..300).map(|i| format!(r#"{{"title":"GEO study {i} for lung atlas"}}"#)));
        let (back, dicts, _) = round_trip(&values);
        assert_eq!(back, values);
        assert_eq!(dicts, 1, "a dictionary was trained after the huge value");
    }
}
