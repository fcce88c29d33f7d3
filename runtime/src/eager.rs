//! Eager execution of a whole graph: every node dispatched on its own through
//! [`Backend::execute`], exactly as the frontend's eager mode runs model code. Used to
//! replay dumped graphs and as the "unoptimised" side of differential tests.

use crate::binding::{check_inputs, parameter};
use crate::{Backend, DeviceTensor, ParamMap, Result};
use hyv_ir::{Graph, Op};

/// Runs `graph` node by node on `backend` and returns its outputs.
pub fn run_op_by_op(
    graph: &Graph,
    backend: &dyn Backend,
    inputs: &[DeviceTensor],
    params: &ParamMap,
) -> Result<Vec<DeviceTensor>> {
    check_inputs(graph, inputs)?;
    let mut uses = graph.use_counts();
    let mut values: Vec<Option<DeviceTensor>> = vec![None; graph.len()];
    let mut next_input = inputs.iter();
    for id in graph.ids() {
        let node = graph.node(id);
        let value = match &node.op {
            Op::Input { .. } => next_input.next().cloned().expect("input count checked"),
            Op::Parameter { .. } => parameter(graph, id, params)?.clone(),
            op => {
                let operands: Vec<&DeviceTensor> = node
                    .inputs
                    .iter()
                    .map(|i| values[i.0].as_ref().expect("operand computed and live"))
                    .collect();
                backend.execute(op, &node.ty, &operands, &node.path)?
            }
        };
        values[id.0] = Some(value);
        // Free operands after their last use, as a real eager program would.
        for i in &node.inputs {
            uses[i.0] -= 1;
            if uses[i.0] == 0 {
                values[i.0] = None;
            }
        }
    }
    Ok(graph
        .outputs()
        .iter()
        .map(|o| values[o.0].clone().expect("outputs stay live"))
        .collect())
}
