//! Without a pipeline the layer records nothing and never fails; spans it did not record do
//! not break the ones it does. One test in this binary: it needs the time before any recorder.

mod common;

use common::{install, one};
use pathwise::testing::Recorder;

#[tracing::instrument(err)]
fn failing(n: i64) -> Result<(), String> {
    tracing::warn!("about to fail");
    Err(format!("n = {n}"))
}

#[test]
fn spans_from_before_recording_are_skipped_and_their_children_still_recorded() {
    install();
    // No pipeline yet: every callback is a no-op.
    assert!(failing(1).is_err());
    let early = tracing::info_span!("early", value = tracing::field::Empty);
    {
        let _entered = early.enter();
        assert_eq!(pathwise::Context::current(), None);
        pathwise::in_span("nothing", || ());
    }

    let recorder = Recorder::start();
    early.record("value", 3);
    early.in_scope(|| {
        tracing::error!("the early span is not recorded: nothing to fail");
        tracing::info_span!("late").in_scope(|| ());
    });
    drop(early);
    let records = recorder.finish();
    let late = one(&records, "late");
    assert_eq!(late.parent_id, 0, "no recorded ancestor: a root");
    assert_eq!(records.len(), 1, "{records:?}");
}
