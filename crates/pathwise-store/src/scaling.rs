//! What scaling analysis ("how does a call's cost grow with its input?") reads: the raw spans
//! of one node with their durations and the JSON of their attributes or captured input, from
//! which the analysis takes the size. The size field itself is interpreted by the analysis, so
//! every backend only hands over stored text and answers with the same rows.

use crate::{StoreError, Window};

/// Which stored JSON object of a span to read.
///
/// ```
/// use pathwise_store::PayloadColumn;
/// assert_eq!(PayloadColumn::Input.as_str(), "input");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PayloadColumn {
    /// The span's attributes (a flat object of numbers, strings and booleans).
    Attrs,
    /// The captured arguments of a monitored call (`{"arg": summary, …}`), or the input a
    /// span or step was given.
    Input,
}

impl PayloadColumn {
    /// The column's name, for messages.
    pub fn as_str(self) -> &'static str {
        match self {
            PayloadColumn::Attrs => "attributes",
            PayloadColumn::Input => "input",
        }
    }
}

/// One span of a node with the JSON text of the column asked for.
///
/// ```
/// use pathwise_store::NodePayload;
/// let row = NodePayload { start_ns: 1, duration_ns: 2_000, failed: false, json: r#"{"n":4}"#.into() };
/// assert_eq!(row.duration_ns, 2_000);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodePayload {
    pub start_ns: i64,
    pub duration_ns: i64,
    pub failed: bool,
    /// The column's JSON text as stored (decompressed).
    pub json: String,
}

/// The read side of scaling analysis; every [`crate::Reader`] has it.
pub trait ScalingStore {
    /// The spans named `node` of traces started in the window that carry `column`, newest
    /// traces first (then by span id, descending), at most `limit`: each with its start,
    /// duration, whether it failed and the column's JSON text.
    ///
    /// ```
    /// # fn check(reader: &dyn pathwise_store::Reader) -> Result<(), pathwise_store::StoreError> {
    /// use pathwise_store::{PayloadColumn, Window};
    /// let rows = reader.node_payloads("Catalog.dedupe", PayloadColumn::Attrs, Window::all(), 1000)?;
    /// assert!(rows.len() <= 1000);
    /// # Ok(()) }
    /// ```
    fn node_payloads(
        &self,
        node: &str,
        column: PayloadColumn,
        window: Window,
        limit: usize,
    ) -> Result<Vec<NodePayload>, StoreError>;
}
