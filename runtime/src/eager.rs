//! Eager execution of a whole graph: every node dispatched on its own through
//! [`Backend::execute`], exactly as the frontend's eager mode runs model code. Used to
//! replay dumped graphs and as the "unoptimised" side of differential tests.

use crate::steps::run_steps;
use crate::{Backend, DeviceTensor, ParamMap, Result};
use hyv_ir::{Graph, NodeId, Op};

/// Runs `graph` node by node on `backend` and returns its outputs. The graph should be
/// verified; an operand used before it is computed is reported as an error.
pub fn run_op_by_op(
    graph: &Graph,
    backend: &dyn Backend,
    inputs: &[DeviceTensor],
    params: &ParamMap,
) -> Result<Vec<DeviceTensor>> {
    let ids: Vec<NodeId> = graph.ids().collect();
    let io = |id: &NodeId| (*id, graph.node(*id).inputs.as_slice());
    // Operands are freed after their last use, as a real eager program would.
    run_steps(graph, &ids, io, inputs, params, |_, node, args| {
        backend.execute(&node.op, &node.ty, args, &node.path)
    })
}

/// The kernel launches of one [`run_op_by_op`] of `graph`: one [`Backend::execute`] per
/// node that is not an input or a parameter.
pub fn op_by_op_launches(graph: &Graph) -> usize {
    graph
        .nodes()
        .iter()
        .filter(|n| !matches!(n.op, Op::Input { .. } | Op::Parameter { .. }))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CompileOptions, Error, Executable};
    use hyv_ir::{DType, Graph, HostTensor, Node, NodeId, TensorType, UnaryOp};
    use std::sync::Arc;

    /// A backend that negates on `execute` and never compiles (enough for eager replay).
    struct Negate;

    impl Backend for Negate {
        fn name(&self) -> &'static str {
            "negate"
        }
        fn upload(&self, t: &HostTensor) -> Result<DeviceTensor> {
            Ok(DeviceTensor::new(t.ty().clone(), Arc::new(t.clone())))
        }
        fn download(&self, t: &DeviceTensor) -> Result<HostTensor> {
            Ok(t.buffer::<HostTensor>().expect("host buffer").clone())
        }
        fn execute(
            &self,
            _op: &Op,
            out: &TensorType,
            inputs: &[&DeviceTensor],
            _path: &str,
        ) -> Result<DeviceTensor> {
            let x = self.download(inputs[0])?.to_f64_vec();
            self.upload(&HostTensor::from_f64(out, x.iter().map(|v| -v).collect())?)
        }
        fn claims_composite(&self, _op: &Op) -> bool {
            false
        }
        fn compile(&self, _g: &Graph, _o: &CompileOptions) -> Result<Box<dyn Executable>> {
            Err(Error::Binding("not compiled".into()))
        }
    }

    fn graph_with_forward_reference() -> Graph {
        let ty = TensorType::new(DType::F32, [2]);
        let mut g = Graph::new("bad");
        g.push(Node {
            op: Op::Input { name: "x".into() },
            inputs: vec![],
            ty: ty.clone(),
            path: String::new(),
        });
        g.push(Node {
            op: Op::Unary(UnaryOp::Neg),
            inputs: vec![NodeId(2)],
            ty: ty.clone(),
            path: String::new(),
        });
        g.push(Node {
            op: Op::Unary(UnaryOp::Neg),
            inputs: vec![NodeId(0)],
            ty,
            path: String::new(),
        });
        g.set_outputs(vec![NodeId(1)]);
        g
    }

    #[test]
    fn runs_a_chain_and_reports_a_forward_reference() {
        let x = Negate
            .upload(&HostTensor::from_f32([2], vec![1.0, -2.0]).unwrap())
            .unwrap();
        let g = graph_with_forward_reference();
        let err = run_op_by_op(&g, &Negate, std::slice::from_ref(&x), &ParamMap::new())
            .unwrap_err()
            .to_string();
        assert!(err.contains("operand %2 of node %1"), "{err}");

        let mut ok = Graph::new("ok");
        let ty = TensorType::new(DType::F32, [2]);
        let input = ok.push(Node {
            op: Op::Input { name: "x".into() },
            inputs: vec![],
            ty,
            path: String::new(),
        });
        let y = ok.add(Op::Unary(UnaryOp::Neg), &[input], "").unwrap();
        ok.set_outputs(vec![y, NodeId(9)]);
        let err = run_op_by_op(&ok, &Negate, std::slice::from_ref(&x), &ParamMap::new())
            .unwrap_err()
            .to_string();
        assert!(err.contains("output %9 does not exist"), "{err}");
        ok.set_outputs(vec![y]);
        // The input is bound, not launched: one launch for the negation.
        assert_eq!(op_by_op_launches(&ok), 1);
        let out = run_op_by_op(&ok, &Negate, &[x], &ParamMap::new()).unwrap();
        assert_eq!(
            Negate.download(&out[0]).unwrap().to_f32_vec(),
            vec![-1.0, 2.0]
        );
    }
}
