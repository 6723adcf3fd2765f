//! Resource sampling: the sampler sees a known allocation, `init` stores samples on its own
//! thread, and `#[monitor(memory_delta)]` records what a call allocated. One test at a time:
//! recording is process-global and each test's memory figures must not see another's.

mod common;

use std::hint::black_box;
use std::sync::Mutex;
use std::time::Duration;

use pathwise::{Config, ResourceSampler};
use pathwise_model::{AttrValue, Record};
use pathwise_store::ReadStore;
use pathwise_store_sqlite::SqliteReader;

const MIB: u64 = 1 << 20;

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// `mib` MiB with every page written, so that all of it is resident.
fn touched(mib: u64) -> Vec<u8> {
    let mut block = vec![0u8; (mib * MIB) as usize];
    for i in (0..block.len()).step_by(4096) {
        block[i] = 1;
    }
    black_box(block)
}

#[test]
fn the_sampler_sees_a_known_allocation() {
    let _serial = serial();
    let mut sampler = ResourceSampler::new();
    let before = sampler.sample();
    let block = touched(256);
    let after = sampler.sample();
    black_box(&block);
    let grown = after
        .process
        .rss_bytes
        .saturating_sub(before.process.rss_bytes);
    assert!(
        grown >= 200 * MIB,
        "rss grew by {} MiB only: {before:?} → {after:?}",
        grown / MIB
    );
    assert!(after.ts_ns > before.ts_ns);
    assert!(after.process.virtual_bytes >= after.process.rss_bytes);
    assert!(after.host.mem_used_bytes > 0 && after.host.mem_available_bytes > 0);
    // Touching 256 MiB takes CPU time: the process was busy since the previous sample.
    assert!(after.process.cpu_pct > 0.0, "{after:?}");
    if cfg!(target_os = "linux") {
        assert!(after.process.threads >= 1, "{after:?}");
        assert!(after.process.open_fds > 0, "{after:?}");
    }
    drop(block);
}

#[test]
fn init_samples_resources_into_the_database() {
    let _serial = serial();
    let (_dir, db) = common::temp_db();
    let pathwise = pathwise::init(Config {
        db_path: db.clone(),
        resource_interval: Some(Duration::from_millis(100)),
        ..Config::default()
    })
    .unwrap();
    std::thread::sleep(Duration::from_millis(600));
    let stats = pathwise.shutdown();
    assert_eq!(stats.dropped, 0);

    let reader = SqliteReader::open(&db).unwrap();
    let samples = reader.resource_samples(0, None, 1000).unwrap();
    assert!(samples.len() >= 3, "{} samples", samples.len());
    assert!(
        samples.windows(2).all(|w| w[0].ts_ns < w[1].ts_ns),
        "{samples:?}"
    );
    assert!(
        samples.iter().all(|s| s.process.rss_bytes > 0),
        "{samples:?}"
    );
    if cfg!(target_os = "linux") {
        assert!(samples.iter().all(|s| s.process.threads >= 1));
    }
    // The sampler stopped with the guard: nothing is added afterwards.
    std::thread::sleep(Duration::from_millis(250));
    assert_eq!(
        reader.resource_samples(0, None, 1000).unwrap().len(),
        samples.len()
    );
    // A window after the last sample is empty.
    let last = samples.last().unwrap().ts_ns;
    assert!(
        reader
            .resource_samples(last + 1, None, 10)
            .unwrap()
            .is_empty()
    );
}

#[pathwise::monitor(name = "grow", memory_delta, capture_result = false)]
fn grow(mib: u64) -> Vec<u8> {
    touched(mib)
}

#[pathwise::monitor(name = "grow_unmeasured", capture_result = false)]
fn grow_unmeasured(mib: u64) -> Vec<u8> {
    touched(mib)
}

fn rss_delta(records: &[Record], name: &str) -> Option<i64> {
    let span = common::one(records, name);
    let attrs = &span.details.as_ref()?.attrs;
    attrs
        .iter()
        .find(|(key, _)| key == "memory.rss_delta_bytes")
        .map(|(_, value)| match value {
            AttrValue::I64(v) => *v,
            other => panic!("memory.rss_delta_bytes is not an i64: {other:?}"),
        })
}

#[test]
fn memory_delta_records_what_a_call_allocated() {
    let _serial = serial();
    let recorder = pathwise::testing::Recorder::start();
    let kept = grow(64);
    let unmeasured = grow_unmeasured(1);
    let records = recorder.records();
    drop((kept, unmeasured));

    let delta = rss_delta(&records, "grow").expect("grow has memory.rss_delta_bytes");
    if cfg!(target_os = "linux") {
        assert!(delta >= 50 * MIB as i64, "delta {delta}");
    }
    assert_eq!(rss_delta(&records, "grow_unmeasured"), None);
    // The test recorder does not sample resources: it records exactly what the test did.
    assert!(!records.iter().any(|r| matches!(r, Record::Resource(_))));
}
