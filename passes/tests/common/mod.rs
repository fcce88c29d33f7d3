//! Helpers shared by the pass tests: graph building shorthands, a small constant evaluator
//! and a checked pass runner.

#![allow(dead_code)]

use hyv_ir::{verify, BinaryOp, DType, Graph, HostTensor, Node, NodeId, Op, TensorType};
use hyv_passes::{ConstEvaluator, Pass, PassReport};

/// Appends an `input` node.
pub fn input(g: &mut Graph, name: &str, dtype: DType, dims: &[usize]) -> NodeId {
    g.push(Node {
        op: Op::Input { name: name.into() },
        inputs: vec![],
        ty: TensorType::new(dtype, dims),
        path: String::new(),
    })
}

/// Appends a `parameter` node.
pub fn param(g: &mut Graph, name: &str, dtype: DType, dims: &[usize]) -> NodeId {
    g.push(Node {
        op: Op::Parameter { name: name.into() },
        inputs: vec![],
        ty: TensorType::new(dtype, dims),
        path: String::new(),
    })
}

/// Appends a constant of `dims` with every element `value`.
pub fn full(g: &mut Graph, value: f64, dtype: DType, dims: &[usize]) -> NodeId {
    let value = HostTensor::full(&TensorType::new(dtype, dims), value);
    g.add(Op::Constant { value }, &[], "").unwrap()
}

/// Appends an f32 constant.
pub fn constant(g: &mut Graph, dims: &[usize], values: Vec<f32>) -> NodeId {
    let value = HostTensor::from_f32(dims, values).unwrap();
    g.add(Op::Constant { value }, &[], "").unwrap()
}

/// Appends `op` at the top level.
pub fn op(g: &mut Graph, op: Op, inputs: &[NodeId]) -> NodeId {
    g.add(op, inputs, "").unwrap()
}

/// Appends a binary op.
pub fn bin(g: &mut Graph, b: BinaryOp, x: NodeId, y: NodeId) -> NodeId {
    op(g, Op::Binary(b), &[x, y])
}

/// Runs `pass`, checks that the result verifies and keeps the output types, and returns it.
pub fn run(pass: &dyn Pass, g: Graph) -> (Graph, PassReport) {
    verify(&g).expect("test graph verifies");
    let out_tys: Vec<TensorType> = g.outputs().iter().map(|&o| g.ty(o).clone()).collect();
    let (out, report) = pass.run(g).expect("pass succeeds");
    verify(&out).expect("pass output verifies");
    let now: Vec<TensorType> = out.outputs().iter().map(|&o| out.ty(o).clone()).collect();
    assert_eq!(now, out_tys, "output types changed");
    assert_eq!(report.nodes_after, out.len());
    (out, report)
}

/// The op mnemonics of a graph, in order.
pub fn names(g: &Graph) -> Vec<&'static str> {
    g.nodes().iter().map(|n| n.op.name()).collect()
}

/// A constant evaluator for tests: f32 elementwise binary ops, `iota`, comparisons and
/// `reshape`; everything else is refused.
pub struct TestEvaluator;

impl ConstEvaluator for TestEvaluator {
    fn eval(
        &self,
        op: &Op,
        out: &TensorType,
        inputs: &[&HostTensor],
    ) -> Result<HostTensor, String> {
        let vals: Vec<Vec<f64>> = inputs.iter().map(|t| t.to_f64_vec()).collect();
        let r: Vec<f64> = match op {
            Op::Iota { shape, axis, .. } => {
                let strides = shape.strides();
                (0..shape.numel())
                    .map(|i| ((i / strides[*axis]) % shape.dims()[*axis]) as f64)
                    .collect()
            }
            Op::Binary(b) => {
                let f = |x: f64, y: f64| match b {
                    BinaryOp::Add => Ok(x + y),
                    BinaryOp::Sub => Ok(x - y),
                    BinaryOp::Mul => Ok(x * y),
                    BinaryOp::Div => Ok(x / y),
                    _ => Err(format!("test evaluator does not do {}", op.name())),
                };
                vals[0]
                    .iter()
                    .zip(&vals[1])
                    .map(|(&x, &y)| f(x, y))
                    .collect::<Result<_, _>>()?
            }
            Op::Compare(c) => vals[0]
                .iter()
                .zip(&vals[1])
                .map(|(x, y)| {
                    let t = match c {
                        hyv_ir::CmpOp::Eq => x == y,
                        hyv_ir::CmpOp::Ne => x != y,
                        hyv_ir::CmpOp::Lt => x < y,
                        hyv_ir::CmpOp::Le => x <= y,
                        hyv_ir::CmpOp::Gt => x > y,
                        hyv_ir::CmpOp::Ge => x >= y,
                    };
                    t as u8 as f64
                })
                .collect(),
            Op::Reshape { .. } => vals[0].clone(),
            _ => return Err(format!("test evaluator does not do {}", op.name())),
        };
        HostTensor::from_f64(out, r).map_err(|e| e.to_string())
    }
}
