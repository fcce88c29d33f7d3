//! The [`Pass`] trait and the [`PassReport`] every pass returns.

use hyv_ir::{Graph, IrError};
use std::fmt;

/// A graph-to-graph transformation.
pub trait Pass {
    /// Short name used in reports, dumps and errors (`cse`, `dce`, `decompose`, ...).
    fn name(&self) -> &'static str;

    /// Transforms `graph`, returning the new graph and what changed.
    fn run(&self, graph: Graph) -> Result<(Graph, PassReport), IrError>;
}

/// What one run of a pass did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassReport {
    /// Name of the pass.
    pub pass: &'static str,
    /// Whether the graph changed.
    pub changed: bool,
    /// Node count before the pass.
    pub nodes_before: usize,
    /// Node count after the pass.
    pub nodes_after: usize,
    /// A short human summary (`cse: merged 3 nodes`).
    pub summary: String,
}

impl PassReport {
    /// A report for `pass`; the summary is prefixed with the pass name.
    pub fn new(
        pass: &'static str,
        changed: bool,
        nodes_before: usize,
        nodes_after: usize,
        summary: impl fmt::Display,
    ) -> Self {
        PassReport {
            pass,
            changed,
            nodes_before,
            nodes_after,
            summary: format!("{pass}: {summary}"),
        }
    }
}

impl fmt::Display for PassReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({} → {} nodes)",
            self.summary, self.nodes_before, self.nodes_after
        )
    }
}
