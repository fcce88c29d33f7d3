//! The graph verifier, run after building, parsing and every pass.

use crate::{infer, Graph, IrError, Op};
use std::collections::HashMap;

/// Checks every invariant of `graph`: operands precede users, stored types equal inferred
/// types, input and parameter names are unique, outputs exist and there is at least one,
/// fusion groups name existing non-source nodes.
pub fn verify(graph: &Graph) -> Result<(), IrError> {
    let err = |node: usize, message: String| IrError::Verify {
        graph: graph.name.clone(),
        node,
        message,
    };
    let mut inputs: HashMap<&str, usize> = HashMap::new();
    let mut params: HashMap<&str, usize> = HashMap::new();
    for (idx, node) in graph.nodes().iter().enumerate() {
        for operand in &node.inputs {
            if operand.0 >= idx {
                return Err(err(
                    idx,
                    format!("operand {operand} does not precede its user"),
                ));
            }
        }
        let tys: Vec<_> = node.inputs.iter().map(|&i| graph.ty(i)).collect();
        // Inputs and parameters carry their own type: nothing to infer, but no operands.
        let inferred = match &node.op {
            Op::Input { .. } | Op::Parameter { .. } if node.inputs.is_empty() => node.ty.clone(),
            _ => infer::infer(&node.op, &tys)
                .map_err(|m| err(idx, format!("{} at `{}`: {m}", node.op.name(), node.path)))?,
        };
        if inferred != node.ty {
            return Err(err(
                idx,
                format!(
                    "{} at `{}`: stored type {} but operands give {}",
                    node.op.name(),
                    node.path,
                    node.ty,
                    inferred
                ),
            ));
        }
        let (table, kind, name) = match &node.op {
            Op::Input { name } => (&mut inputs, "input", name),
            Op::Parameter { name } => (&mut params, "parameter", name),
            _ => continue,
        };
        if let Some(first) = table.insert(name.as_str(), idx) {
            return Err(err(
                idx,
                format!("{kind} `{name}` is also defined by %{first}"),
            ));
        }
    }
    for (id, group) in graph.groups() {
        match graph.nodes().get(id.0) {
            None => {
                return Err(err(
                    id.0,
                    format!("fusion group {group} names a missing node"),
                ))
            }
            Some(n) if n.op.is_source() => {
                return Err(err(
                    id.0,
                    format!("{} cannot be in fusion group {group}", n.op.name()),
                ))
            }
            Some(_) => {}
        }
    }
    if graph.outputs().is_empty() {
        return Err(err(graph.len(), "graph has no outputs".into()));
    }
    for o in graph.outputs() {
        if o.0 >= graph.len() {
            return Err(err(o.0, format!("output {o} does not exist")));
        }
    }
    Ok(())
}
