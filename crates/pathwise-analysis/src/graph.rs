//! The dependency graph: caller → callee edges aggregated over paths.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::metrics::Analysis;

/// One caller → callee edge.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct DependencyEdge {
    pub caller: String,
    pub callee: String,
    pub calls: i64,
    pub errors: i64,
    pub error_rate: f64,
    /// The highest p95 among the paths forming this edge (sketches of different paths are
    /// not merged here, so this is an upper bound of the edge's p95).
    pub p95_ms: f64,
}

/// Edges between nodes, most called first.
pub fn dependency_graph(analysis: &Analysis) -> Vec<DependencyEdge> {
    let mut edges: BTreeMap<(String, String), DependencyEdge> = BTreeMap::new();
    for (parent_text, child_text) in &analysis.parents {
        let (Some(parent), Some(child)) = (analysis.path(parent_text), analysis.path(child_text))
        else {
            continue;
        };
        let edge = edges
            .entry((parent.node.clone(), child.node.clone()))
            .or_insert_with(|| DependencyEdge {
                caller: parent.node.clone(),
                callee: child.node.clone(),
                calls: 0,
                errors: 0,
                error_rate: 0.0,
                p95_ms: 0.0,
            });
        edge.calls += child.calls;
        edge.errors += child.errors;
        edge.p95_ms = edge.p95_ms.max(child.p95_ms);
    }
    let mut edges: Vec<DependencyEdge> = edges.into_values().collect();
    for edge in &mut edges {
        edge.error_rate = if edge.calls > 0 {
            edge.errors as f64 / edge.calls as f64
        } else {
            0.0
        };
    }
    edges.sort_by(|a, b| b.calls.cmp(&a.calls).then_with(|| a.caller.cmp(&b.caller)));
    edges
}
