//! Copying what has a key of its own: active alerts (by fingerprint), silences in force (by
//! what they mute and when), API keys (by id) and the baselines in force (by operation). Each
//! is compared with what the target holds first, so running the copy again writes nothing.

use pathwise_store::alerts::{AlertStateStore, AlertWrite};
use pathwise_store::keys::{ApiKey, KeyStore};
use pathwise_store::{Backend, BaselineRow, Reader, Store, StoreError};

use super::store_error;
use crate::error::CliError;

/// Active alerts: saving a state replaces the one of its fingerprint, so only states the
/// target lacks or holds otherwise are written. Returns how many were.
pub(super) fn alert_states(
    from: &dyn AlertStateStore,
    to: &mut dyn AlertStateStore,
) -> Result<u64, CliError> {
    let held = to
        .load_states()
        .map_err(store_error("reading the target's alerts"))?;
    let states = from
        .load_states()
        .map_err(store_error("reading active alerts"))?;
    let writes: Vec<AlertWrite<'_>> = states
        .iter()
        .filter(|s| !held.contains(s))
        .map(AlertWrite::SaveState)
        .collect();
    if !writes.is_empty() {
        to.apply(&writes)
            .map_err(store_error("writing active alerts"))?;
    }
    Ok(writes.len() as u64)
}

/// Silences in force at `now_ns`. Ids are each store's own, so a silence is the same one when
/// it mutes the same alerts over the same time with the same comment. Returns how many were
/// added.
pub(super) fn silences(
    from: &dyn AlertStateStore,
    to: &mut dyn AlertStateStore,
    now_ns: i64,
) -> Result<u64, CliError> {
    let mut held = to
        .silences(now_ns)
        .map_err(store_error("reading the target's silences"))?;
    let mut added = 0;
    for s in from
        .silences(now_ns)
        .map_err(store_error("reading silences"))?
    {
        let same = held.iter().position(|h| {
            (&h.matcher, h.until_ns, h.created_ns, &h.comment)
                == (&s.matcher, s.until_ns, s.created_ns, &s.comment)
        });
        match same {
            // Matched once: two identical silences in the source are two in the target.
            Some(i) => {
                held.swap_remove(i);
            }
            None => {
                to.add_silence(&s.matcher, s.until_ns, s.created_ns, &s.comment)
                    .map_err(store_error("writing silences"))?;
                added += 1;
            }
        }
    }
    Ok(added)
}

/// The keys of a backend; none for one that keeps no keys.
pub(super) fn stored_keys(backend: &dyn Backend) -> Result<Vec<ApiKey>, CliError> {
    match backend.key_store().and_then(|store| store.keys()) {
        Ok(keys) => Ok(keys),
        Err(StoreError::Unsupported(_)) => Ok(Vec::new()),
        Err(e) => Err(store_error("reading API keys")(e)),
    }
}

/// API keys by id, the stored row as it is: the secret's SHA-256 travels, so the same key text
/// authenticates against the target. A key the target holds is left alone, except that a
/// revocation is carried over: a key revoked in the source must not keep working in the
/// target. Returns how many keys were created or revoked.
pub(super) fn keys(from: &dyn Backend, to: &dyn Backend) -> Result<u64, CliError> {
    let keys = stored_keys(from)?;
    if keys.is_empty() {
        return Ok(0);
    }
    let mut store: Box<dyn KeyStore> = to
        .key_store()
        .map_err(store_error("opening the target's keys"))?;
    let held = store
        .keys()
        .map_err(store_error("reading the target's keys"))?;
    let mut changed = 0;
    for key in &keys {
        match held.iter().find(|h| h.id == key.id) {
            None => store
                .create_key(key)
                .map_err(store_error("writing API keys"))?,
            Some(h) => match (key.revoked_ns, h.revoked_ns) {
                (Some(at), None) => {
                    store
                        .revoke_key(&key.id, at)
                        .map_err(store_error("revoking API keys"))?;
                }
                _ => continue,
            },
        }
        changed += 1;
    }
    Ok(changed)
}

/// The baselines in force. The target numbers versions itself, so a baseline is the same when
/// every other field is; one that differs is saved as the target's newest version and pinned
/// or unpinned as in the source. Returns how many were saved.
pub(super) fn baselines(
    source: &dyn Reader,
    target_reader: &dyn Reader,
    target: &mut dyn Store,
) -> Result<u64, CliError> {
    let unversioned = |b: &BaselineRow| BaselineRow {
        version: 0,
        ..b.clone()
    };
    let held: Vec<BaselineRow> = target_reader
        .baselines()
        .map_err(store_error("reading the target's baselines"))?
        .iter()
        .map(unversioned)
        .collect();
    let mut saved = 0;
    for baseline in source
        .baselines()
        .map_err(store_error("reading baselines"))?
    {
        if held.contains(&unversioned(&baseline)) {
            continue;
        }
        target
            .save_baseline(&baseline)
            .map_err(store_error("writing baselines"))?;
        // Unpinning too: a version pinned in the target would otherwise stay in force.
        target
            .pin_baseline(&baseline.name, baseline.pinned)
            .map_err(store_error("pinning baselines"))?;
        saved += 1;
    }
    Ok(saved)
}
