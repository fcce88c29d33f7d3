//! RON dumps (serde) for tools.
//!
//! The RON form is the serde form of [`Graph`]: f16/bf16 elements are stored as their bits,
//! f32/f64 values as decimals, so values round-trip exactly except NaN payloads (a NaN reads
//! back as the canonical quiet NaN). Use [`crate::text`] where NaN payloads matter.

use crate::{Graph, IrError};

/// Serialises `graph` as pretty-printed RON.
pub fn to_ron(graph: &Graph) -> Result<String, IrError> {
    ron::ser::to_string_pretty(graph, ron::ser::PrettyConfig::default())
        .map_err(|e| IrError::Data(format!("cannot write graph `{}` as RON: {e}", graph.name)))
}

/// Reads a graph written by [`to_ron`] and verifies it.
pub fn from_ron(s: &str) -> Result<Graph, IrError> {
    let graph: Graph =
        ron::from_str(s).map_err(|e| IrError::Data(format!("cannot read graph from RON: {e}")))?;
    crate::verify(&graph)?;
    Ok(graph)
}
