//! [`run_steps`]: the bookkeeping every graph runner shares: inputs bound by position,
//! parameters by name, values kept until their last use and dropped then, outputs
//! collected.

use crate::binding::{check_inputs, parameter};
use crate::{DeviceTensor, Error, ParamMap, Result};
use hyv_ir::{Graph, Node, NodeId, Op};

/// Runs `steps` of `graph` in order and returns the graph's outputs. `io` gives the node a
/// step produces and the values it reads (a node and its operands, or a fused group's root
/// and its outside operands); a step producing an `input` or `parameter` node binds it,
/// every other step is `run` with its node and operands. Each value is dropped after the
/// last step that reads it (unless it is an output).
pub fn run_steps<'g, S>(
    graph: &'g Graph,
    steps: &'g [S],
    io: impl Fn(&'g S) -> (NodeId, &'g [NodeId]),
    inputs: &[DeviceTensor],
    params: &ParamMap,
    run: impl FnMut(&'g S, &'g Node, &[&DeviceTensor]) -> Result<DeviceTensor>,
) -> Result<Vec<DeviceTensor>> {
    run_steps_releasing(graph, steps, io, inputs, params, run, drop)
}

/// [`run_steps`], handing each value to `release` when its last reader has run (for a
/// backend that reuses the buffers of values no longer needed).
pub fn run_steps_releasing<'g, S>(
    graph: &'g Graph,
    steps: &'g [S],
    io: impl Fn(&'g S) -> (NodeId, &'g [NodeId]),
    inputs: &[DeviceTensor],
    params: &ParamMap,
    mut run: impl FnMut(&'g S, &'g Node, &[&DeviceTensor]) -> Result<DeviceTensor>,
    mut release: impl FnMut(DeviceTensor),
) -> Result<Vec<DeviceTensor>> {
    check_inputs(graph, inputs)?;
    let mut uses = vec![0usize; graph.len()];
    // Ids past the end (an unverified graph) count nothing here and are reported below.
    let used = steps.iter().flat_map(|s| io(s).1).chain(graph.outputs());
    for i in used {
        if let Some(u) = uses.get_mut(i.0) {
            *u += 1;
        }
    }
    let mut values: Vec<Option<DeviceTensor>> = vec![None; graph.len()];
    let mut next_input = inputs.iter();
    for step in steps {
        let (id, operands) = io(step);
        let node = graph.node(id);
        let value = match &node.op {
            Op::Input { .. } => next_input.next().cloned().expect("input count checked"),
            Op::Parameter { .. } => parameter(graph, id, params)?.clone(),
            _ => {
                let args = operands
                    .iter()
                    .map(|i| {
                        values.get(i.0).and_then(Option::as_ref).ok_or_else(|| {
                            Error::Binding(format!(
                                "graph `{}`: operand {i} of node {id} is not computed before it \
                                 (run hyv_ir::verify on the graph)",
                                graph.name
                            ))
                        })
                    })
                    .collect::<Result<Vec<&DeviceTensor>>>()?;
                run(step, node, &args)?
            }
        };
        values[id.0] = Some(value);
        for i in operands {
            uses[i.0] -= 1;
            if uses[i.0] == 0 {
                if let Some(v) = values[i.0].take() {
                    release(v);
                }
            }
        }
    }
    graph
        .outputs()
        .iter()
        .map(|o| {
            values.get(o.0).cloned().flatten().ok_or_else(|| {
                Error::Binding(format!("graph `{}`: output {o} does not exist", graph.name))
            })
        })
        .collect()
}
