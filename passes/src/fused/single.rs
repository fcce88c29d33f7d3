//! [`single_op`]: the fused program of one eager op.

use super::program::{build, FusedProgram};
use hyv_ir::{Graph, Node, NodeId, Op, TensorType};

/// The program computing `op` (output type `out`) from operands of types `inputs`, as a
/// group of one node: for elementwise ops on floats and bools and reductions of a float
/// over the last axis. `None` for every other op (and for integer operands).
pub fn single_op(op: &Op, out: &TensorType, inputs: &[TensorType]) -> Option<FusedProgram> {
    let mut graph = Graph::new("single op");
    let args: Vec<NodeId> = inputs
        .iter()
        .enumerate()
        .map(|(i, ty)| {
            graph.push(Node {
                op: Op::Input {
                    name: format!("x{i}"),
                },
                inputs: Vec::new(),
                ty: ty.clone(),
                path: String::new(),
            })
        })
        .collect();
    let id = graph.push(Node {
        op: op.clone(),
        inputs: args,
        ty: out.clone(),
        path: String::new(),
    });
    build(&graph, &[id], &mut Vec::new())
}
