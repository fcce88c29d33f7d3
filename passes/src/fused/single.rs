//! [`single_op`]: the fused program of one eager op; [`one_op_graph`]: the graph of one op.

use super::program::{build, merged, FusedProgram, InputAccess, Instr, Tail};
use hyv_ir::{DType, Graph, Node, NodeId, Op, TensorType};

/// The program computing `op` (output type `out`) from operands of types `inputs`, as a
/// group of one node: elementwise ops on floats and bools, reductions of a float over the
/// last axis, and `broadcast` and `permute` of floats and bools (a strided copy). `None`
/// for every other op (and for integer operands).
pub fn single_op(op: &Op, out: &TensorType, inputs: &[TensorType]) -> Option<FusedProgram> {
    match (op, inputs) {
        (Op::Broadcast { .. }, [x]) => {
            let strides = x.shape.strides();
            let strides = x.shape.dims().iter().zip(&strides).zip(out.shape.dims());
            copy(
                out,
                x.dtype,
                strides
                    .map(|((&from, &s), &to)| if from == to { s } else { 0 })
                    .collect(),
            )
        }
        (Op::Permute { perm }, [x]) => {
            let strides = x.shape.strides();
            copy(
                out,
                x.dtype,
                perm.iter()
                    .map(|&p| strides.get(p).copied())
                    .collect::<Option<_>>()?,
            )
        }
        _ => one_node(op, out, inputs),
    }
}

/// The program storing operand 0 read with `strides` over `out`'s shape.
fn copy(out: &TensorType, dtype: DType, strides: Vec<usize>) -> Option<FusedProgram> {
    (dtype.is_float() || dtype == DType::Bool).then(|| FusedProgram {
        shape: out.shape.dims().to_vec(),
        inputs: vec![merged(InputAccess {
            operand: 0,
            dtype,
            dims: out.shape.dims().to_vec(),
            strides,
        })],
        instrs: vec![Instr::Load(0)],
        result: 0,
        tail: Tail::Store,
        out_dtype: out.dtype,
    })
}

/// The program of `op` built as a fusion group of one node.
fn one_node(op: &Op, out: &TensorType, inputs: &[TensorType]) -> Option<FusedProgram> {
    let (graph, id) = one_op_graph(op, out, inputs);
    build(&graph, &[id], &mut Vec::new())
}

/// A graph of one `op` (output type `out`) on `input` nodes `x0, x1, ...` of types
/// `inputs`, its output the op's; with the op's id. Unverified (see [`hyv_ir::verify`]).
pub fn one_op_graph(op: &Op, out: &TensorType, inputs: &[TensorType]) -> (Graph, NodeId) {
    let mut graph = Graph::new(format!("one {}", op.name()));
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
    graph.set_outputs(vec![id]);
    (graph, id)
}
