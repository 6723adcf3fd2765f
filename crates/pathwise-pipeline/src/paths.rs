//! Interning of root→span paths to small process-local ids.
//!
//! A path id names a `(parent path, span name)` pair, so a span's path is found from its
//! parent's in one lookup, and the writer resolves ids to text once per path, not per span.

use std::sync::OnceLock;

use parking_lot::RwLock;
use pathwise_model::Name;
use rustc_hash::FxHashMap;

#[derive(Default)]
struct Table {
    /// Index = path id - 1.
    entries: Vec<(u32, Name)>,
    ids: FxHashMap<(u32, Name), u32>,
}

fn table() -> &'static RwLock<Table> {
    static TABLE: OnceLock<RwLock<Table>> = OnceLock::new();
    TABLE.get_or_init(Default::default)
}

/// The id of path `parent → name` (`parent` 0 = a root), created on first use.
///
/// ```
/// let root = pathwise_pipeline::paths::intern(0, "main".into());
/// let child = pathwise_pipeline::paths::intern(root, "load".into());
/// assert_eq!(pathwise_pipeline::paths::intern(root, "load".into()), child);
/// assert_eq!(pathwise_pipeline::paths::lookup(child), Some((root, "load".into())));
/// ```
pub fn intern(parent: u32, name: Name) -> u32 {
    if let Some(&id) = table().read().ids.get(&(parent, name.clone())) {
        return id;
    }
    let mut table = table().write();
    if let Some(&id) = table.ids.get(&(parent, name.clone())) {
        return id;
    }
    table.entries.push((parent, name.clone()));
    let id = table.entries.len() as u32;
    table.ids.insert((parent, name), id);
    id
}

/// `(parent, name)` of a path id.
pub fn lookup(id: u32) -> Option<(u32, Name)> {
    let index = (id as usize).checked_sub(1)?;
    table().read().entries.get(index).cloned()
}

/// Names from the root down to `id` (for records that outlive this process: spill segments).
pub fn segments(id: u32) -> Vec<Name> {
    let mut out = Vec::new();
    let mut current = id;
    while let Some((parent, name)) = lookup(current) {
        out.push(name);
        current = parent;
        if out.len() > 4096 {
            break;
        }
    }
    out.reverse();
    out
}

/// Re-interns a path given by its segments (spill replay in a new process).
pub fn intern_segments(segments: &[Name]) -> u32 {
    segments
        .iter()
        .fold(0, |parent, name| intern(parent, name.clone()))
}

/// The pipeline's dictionary as seen by a store.
pub struct Interned;

impl pathwise_store::PathDictionary for Interned {
    fn lookup(&self, path: u32) -> Option<(u32, Name)> {
        lookup(path)
    }
}
