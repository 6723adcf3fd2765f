//! Single-span traces whose move from the previous hour to the last one is known by
//! construction, written through the real SQLite store: per name six calls an hour, 8 minutes
//! apart; `steady` alike in both hours, `slowing` 10 → 40 ms, `failing` 0 → 4 of 6 failed,
//! `retired` only in the hour before, `launched` only in the last hour.

use super::Root;

const MIN: u64 = 60_000;

/// Six calls of a name in an hour starting `from_min` minutes ago, with these durations and
/// failures.
fn hour(name: &'static str, from_min: u64, ms: [u64; 6], failed: [bool; 6]) -> Vec<Root> {
    (0..6)
        .map(|i| Root {
            name,
            age_ms: (from_min - 5 - 8 * i as u64) * MIN,
            duration_ms: ms[i],
            failed: failed[i],
        })
        .collect()
}

pub fn server() -> &'static (tempfile::TempDir, String, ()) {
    static SERVER: std::sync::OnceLock<(tempfile::TempDir, String, ())> =
        std::sync::OnceLock::new();
    SERVER.get_or_init(|| super::server_over("windows.db", write))
}

/// Writes the fixture into `backend`.
pub fn write(backend: &std::sync::Arc<dyn pathwise_store::Backend>) {
    let ok = [false; 6];
    let mut roots = Vec::new();
    for from in [120, 60] {
        let now = from == 60;
        roots.extend(hour("steady", from, [10; 6], ok));
        roots.extend(hour(
            "slowing",
            from,
            if now { [40; 6] } else { [10; 6] },
            ok,
        ));
        let failing = if now {
            [true, true, true, true, false, false]
        } else {
            ok
        };
        roots.extend(hour("failing", from, [10; 6], failing));
    }
    roots.extend(hour("retired", 120, [10; 6], ok));
    roots.extend(hour("launched", 60, [10; 6], ok));
    super::write_roots(backend, &roots, 900);
}
