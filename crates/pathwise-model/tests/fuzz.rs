//! Fuzz target for the record frame decoder (spill files, the error lane, native ingest):
//! any bytes decode to records, a "newer format" flag or a damage count, never a panic.

use pathwise_model::codec;

#[test]
fn record_frames() {
    bolero::check!().for_each(|bytes: &[u8]| {
        for frame in codec::read_frames(bytes) {
            let _ = codec::read_record(frame);
        }
        // The body alone, as a frame reader hands it over.
        let _ = codec::read_record(bytes);
    });
}
