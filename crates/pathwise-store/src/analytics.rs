//! The analytic read side: rollups by window, the raw recent spans monitoring compares with
//! baselines, attribute values for error patterns, and the raw spans of a group (database
//! queries: their rows, the slow ones). Analysis reads only through this trait,
//! so every backend answers the same questions with the same figures.

use std::collections::{BTreeMap, HashMap};

use pathwise_model::TraceId;

use crate::rollup::Bucket;
use crate::{SpanRow, StoreError, Window};

/// A path's place in the tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathInfo {
    /// Full text, root first: `A → B → C`.
    pub text: String,
    /// The last segment (the span name).
    pub node: String,
    /// The parent path's text; `None` for a root.
    pub parent: Option<String>,
    /// 0 for a root.
    pub depth: i64,
}

/// One path's figures merged over a window.
#[derive(Clone, Debug)]
pub struct PathRollup {
    pub path: PathInfo,
    pub bucket: Bucket,
}

/// Which rollup series to read: a node's (span name; its paths merged) or one path's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RollupKey<'a> {
    /// A span name, every path ending in it merged.
    Node(&'a str),
    /// One path's full text, root first: `A → B → C`.
    Path(&'a str),
}

/// Error counts of one path by error type over a window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathErrors {
    /// The path's full text.
    pub path: String,
    /// `(error type, count)`, most frequent first.
    pub by_type: Vec<(String, i64)>,
}

impl PathErrors {
    /// Groups `(path, error type, count)` rows by path, keeping their order (most frequent
    /// first when the rows come sorted so).
    ///
    /// ```
    /// use pathwise_store::PathErrors;
    /// let rows = [("a".to_string(), "E".to_string(), 3), ("b".into(), "E".into(), 2), ("a".into(), "F".into(), 1)];
    /// let grouped = PathErrors::group(rows);
    /// assert_eq!(grouped[0].by_type, [("E".to_string(), 3), ("F".to_string(), 1)]);
    /// assert_eq!(grouped[1].path, "b");
    /// ```
    pub fn group(rows: impl IntoIterator<Item = (String, String, i64)>) -> Vec<PathErrors> {
        let mut out: Vec<PathErrors> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        for (path, error_type, count) in rows {
            match index.get(&path) {
                Some(&i) => out[i].by_type.push((error_type, count)),
                None => {
                    index.insert(path.clone(), out.len());
                    out.push(PathErrors {
                        path,
                        by_type: vec![(error_type, count)],
                    });
                }
            }
        }
        out
    }
}

/// One attribute value as stored: numbers stay numbers so the caller can bucket them.
#[derive(Clone, Debug, PartialEq)]
pub enum AttrValueKey {
    Number(f64),
    Text(String),
}

/// The spans of one name in one group over a window (or its most recent part), read raw: how
/// many there are and what a numeric attribute of theirs adds up to (the rows of a database
/// statement, say).
#[derive(Clone, Debug, PartialEq)]
pub struct GroupAttributeSum {
    /// The span name.
    pub node: String,
    /// The span group (component).
    pub group: String,
    /// Spans of this name and group.
    pub spans: i64,
    /// Of those, the spans carrying the attribute as a number.
    pub with_value: i64,
    /// The sum of their values.
    pub sum: f64,
}

/// A span together with the trace it belongs to.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceSpan {
    pub trace_id: TraceId,
    pub span: SpanRow,
}

/// Questions analytics ask of a backend.
pub trait RollupStore {
    /// Every path seen in the window with its merged figures (hour rollups for whole hours,
    /// minute rollups for the ragged edges).
    fn path_rollups(&self, window: Window) -> Result<Vec<PathRollup>, StoreError>;

    /// Per node (span name) and minute: figures merged over the node's paths, oldest first.
    /// Keys of the inner vector are minute numbers since the epoch.
    fn node_minutes(
        &self,
        window: Window,
    ) -> Result<HashMap<String, Vec<(i64, Bucket)>>, StoreError>;

    /// The minute buckets of one node or path in the window, oldest first (minutes since the
    /// epoch, of the spans' start), merged over the node's paths.
    fn minutes_of(
        &self,
        window: Window,
        of: RollupKey<'_>,
    ) -> Result<Vec<(i64, Bucket)>, StoreError>;

    /// Error counts by type for each path with errors in the window.
    fn path_errors(&self, window: Window) -> Result<Vec<PathErrors>, StoreError>;

    /// Durations (ns) and whether each failed, of spans named `node` in traces started in the
    /// window, at most `limit`: the recent window is read raw so its counts are exact.
    fn recent_spans(
        &self,
        node: &str,
        window: Window,
        limit: usize,
    ) -> Result<Vec<(i64, bool)>, StoreError>;

    /// Operation → component (span group) for spans of traces started in the window.
    fn node_groups(&self, window: Window) -> Result<BTreeMap<String, String>, StoreError>;

    /// For spans of traces started in the window that carry attribute `key`: each distinct
    /// value with its span count and failed-span count, most spans first, at most `limit`.
    fn attribute_values(
        &self,
        window: Window,
        key: &str,
        limit: usize,
    ) -> Result<Vec<(AttrValueKey, i64, i64)>, StoreError>;

    /// The attribute keys carried by the window's spans — read from a sample of its most
    /// recent `sample` spans, so the answer is bounded — each with its span count and
    /// failed-span count in the sample, most spans first.
    fn attribute_keys(
        &self,
        window: Window,
        sample: usize,
    ) -> Result<Vec<(String, i64, i64)>, StoreError>;

    /// Per span name and group, for the spans of traces started in the window whose group
    /// starts with `group_prefix` (`"db."`: database queries): how many there are and, of
    /// those carrying attribute `key` as a number, how many and the sum of its values — read
    /// from the window's most recent `sample` such spans, so the answer is bounded.
    fn group_attribute_sums(
        &self,
        window: Window,
        group_prefix: &str,
        key: &str,
        sample: usize,
    ) -> Result<Vec<GroupAttributeSum>, StoreError>;

    /// The spans of traces started in the window whose group starts with `group_prefix` and
    /// that lasted at least `min_duration_ns`, newest traces first, at most `limit`, whole
    /// (attributes, error, path).
    fn slow_spans(
        &self,
        window: Window,
        group_prefix: &str,
        min_duration_ns: i64,
        limit: usize,
    ) -> Result<Vec<TraceSpan>, StoreError>;
}
