//! Spill segments and error-lane files across builds: frames written before the format was
//! versioned still replay, and files of a newer format are set aside, never deleted.

use pathwise_model::{Name, Record, SpanKind, SpanRecord, TraceId, codec};
use pathwise_pipeline::{PipelineConfig, install};
use pathwise_store::MemoryStore;

fn span(id: u64, name: &'static str) -> Record {
    let now_ms = pathwise_pipeline::clock().wall_now_ns() as u64 / 1_000_000;
    Record::Span(SpanRecord::new(
        TraceId::from_parts(now_ms, 7),
        id,
        1,
        name.into(),
        SpanKind::Span,
    ))
}

#[test]
fn old_frames_replay_and_newer_files_are_kept_for_a_newer_build() {
    let dir = tempfile::tempdir().unwrap();
    let path: Vec<Name> = vec!["main".into(), "load".into()];
    // A segment as builds before versioning wrote it: bare postcard bodies.
    let mut old = Vec::new();
    codec::write_frame(&mut old, &codec::encode(&(span(2, "load"), &path)).unwrap()).unwrap();
    std::fs::write(dir.path().join("spill-000000000000.seg"), old).unwrap();
    // A segment and a lane file from a future build.
    let mut future = Vec::new();
    codec::write_record(&mut future, &span(3, "load"), &path).unwrap();
    codec::write_frame(
        &mut future,
        &[codec::FRAME_MAGIC, codec::FRAME_VERSION + 1, 0xAA],
    )
    .unwrap();
    std::fs::write(dir.path().join("spill-000000000001.seg"), &future).unwrap();
    std::fs::write(dir.path().join("errors-000000000000.pending"), &future).unwrap();

    let store = MemoryStore::default();
    let config = PipelineConfig {
        retention: None,
        ..PipelineConfig::new(dir.path())
    };
    let pipeline = install(config, Box::new(store.clone())).unwrap();
    let stats = pipeline.shutdown();

    let spans: Vec<u64> = store
        .records()
        .iter()
        .filter_map(|r| match r {
            Record::Span(s) => Some(s.span_id),
            _ => None,
        })
        .collect();
    assert_eq!(spans, vec![2], "only the old segment's span is replayed");
    assert_eq!(store.paths(), vec!["main → load".to_string()]);
    assert_eq!(stats.dropped, 0);
    let mut left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !n.starts_with("errors-") || n.ends_with(".newer"))
        // The directory's claim, kept for the next process.
        .filter(|n| n != "pathwise.lock")
        .collect();
    left.sort();
    let v = codec::FRAME_VERSION + 1;
    assert_eq!(
        left,
        vec![
            format!("errors-000000000000.pending.v{v}.newer"),
            format!("spill-000000000001.seg.v{v}.newer")
        ]
    );
    // Kept byte for byte.
    let kept = std::fs::read(
        dir.path()
            .join(format!("spill-000000000001.seg.v{v}.newer")),
    )
    .unwrap();
    assert_eq!(kept, future);
}
