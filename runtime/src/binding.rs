//! Binding run-time values to a graph's `input` and `parameter` nodes, with the checks every
//! backend needs (count, names, types), so executables share one set of error messages.

use crate::{DeviceTensor, Error, ParamMap, Result};
use hyv_ir::{Graph, NodeId, Op};

/// Checks that `inputs` match the graph's `input` nodes in number and type.
pub fn check_inputs(graph: &Graph, inputs: &[DeviceTensor]) -> Result<()> {
    let nodes = graph.inputs();
    if nodes.len() != inputs.len() {
        let names: Vec<_> = nodes
            .iter()
            .map(|&i| format!("`{}`", input_name(graph, i)))
            .collect();
        return Err(Error::Binding(format!(
            "graph `{}` takes {} inputs ({}), got {}",
            graph.name,
            nodes.len(),
            names.join(", "),
            inputs.len()
        )));
    }
    for (&id, value) in nodes.iter().zip(inputs) {
        let want = graph.ty(id);
        if value.ty() != want {
            return Err(Error::Binding(format!(
                "input `{}` of graph `{}`: expected {want}, got {}",
                input_name(graph, id),
                graph.name,
                value.ty()
            )));
        }
    }
    Ok(())
}

/// The weight bound to parameter node `id`, checked against the node's type.
pub fn parameter<'a>(graph: &Graph, id: NodeId, params: &'a ParamMap) -> Result<&'a DeviceTensor> {
    let node = graph.node(id);
    let Op::Parameter { name } = &node.op else {
        return Err(Error::Binding(format!("node {id} is not a parameter")));
    };
    let value = params.get(name).ok_or_else(|| {
        Error::Binding(format!(
            "parameter `{name}` ({}) of graph `{}` is missing (not bound)",
            node.ty, graph.name
        ))
    })?;
    if value.ty() != &node.ty {
        return Err(Error::Binding(format!(
            "parameter `{name}` of graph `{}`: expected {}, got {}",
            graph.name,
            node.ty,
            value.ty()
        )));
    }
    Ok(value)
}

fn input_name(graph: &Graph, id: NodeId) -> String {
    match &graph.node(id).op {
        Op::Input { name } => name.clone(),
        _ => id.to_string(),
    }
}
