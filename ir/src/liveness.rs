//! Liveness of values over a graph's node order, and the peak memory it implies.
//!
//! Each value is allocated when its node runs and freed after its last use; graph outputs
//! live to the end. Parameters (weights) are resident for the whole run and reported
//! separately, so the peak here is the activation memory of one run in node order, as a
//! liveness-based arena would plan it without fragmentation. Composite ops count only their
//! output: a backend that lowers attention to a flash kernel needs no more.

use crate::{Graph, NodeId, Op};

/// The largest total size, in bytes, of the values live at once while `graph` runs in
/// node order (inputs, constants and intermediates; parameters excluded).
pub fn peak_activation_bytes(graph: &Graph) -> u64 {
    let steps: Vec<(NodeId, &[NodeId])> = graph
        .ids()
        .map(|id| (id, graph.node(id).inputs.as_slice()))
        .collect();
    peak_scheduled_bytes(graph, &steps)
}

/// [`peak_activation_bytes`] of a schedule of kernels over `graph`: each step is the node
/// whose value it produces and the values it reads, in run order. A fused kernel is one step
/// (its root and the group's outside operands), so its intermediates never count.
pub fn peak_scheduled_bytes(graph: &Graph, steps: &[(NodeId, &[NodeId])]) -> u64 {
    let mut last_use: Vec<Option<usize>> = vec![None; graph.len()];
    for (i, (_, operands)) in steps.iter().enumerate() {
        for operand in *operands {
            last_use[operand.0] = Some(i);
        }
    }
    for o in graph.outputs() {
        last_use[o.0] = Some(usize::MAX);
    }
    let mut live: u64 = 0;
    let mut peak: u64 = 0;
    let mut frees: Vec<Vec<NodeId>> = vec![Vec::new(); steps.len()];
    for (i, &(id, _)) in steps.iter().enumerate() {
        let node = graph.node(id);
        if !matches!(node.op, Op::Parameter { .. }) {
            // A value nobody uses is freed right after it is produced.
            match last_use[id.0] {
                Some(usize::MAX) => {}
                Some(step) => frees[step].push(id),
                None => frees[i].push(id),
            }
            live += node.ty.size_in_bytes() as u64;
            peak = peak.max(live);
        }
        for &dead in &frees[i] {
            live -= graph.node(dead).ty.size_in_bytes() as u64;
        }
    }
    peak
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DType, Graph, Node, Op, TensorType, UnaryOp};

    fn input(g: &mut Graph, name: &str, n: usize) -> crate::NodeId {
        g.push(Node {
            op: Op::Input { name: name.into() },
            inputs: vec![],
            ty: TensorType::new(DType::F32, [n]),
            path: String::new(),
        })
    }

    #[test]
    fn a_chain_holds_two_values_at_a_time() {
        let mut g = Graph::new("chain");
        let x = input(&mut g, "x", 100);
        let a = g.add(Op::Unary(UnaryOp::Exp), &[x], "").unwrap();
        let b = g.add(Op::Unary(UnaryOp::Tanh), &[a], "").unwrap();
        let c = g.add(Op::Unary(UnaryOp::Sin), &[b], "").unwrap();
        g.set_outputs(vec![c]);
        // x+a, then a+b, then b+c: 2 × 400 bytes.
        assert_eq!(peak_activation_bytes(&g), 800);
    }

    #[test]
    fn a_value_used_late_stays_live() {
        let mut g = Graph::new("skip");
        let x = input(&mut g, "x", 10);
        let a = g.add(Op::Unary(UnaryOp::Exp), &[x], "").unwrap();
        let b = g.add(Op::Unary(UnaryOp::Tanh), &[a], "").unwrap();
        let c = g
            .add(Op::Binary(crate::BinaryOp::Add), &[x, b], "")
            .unwrap();
        g.set_outputs(vec![c]);
        // At `c`: x, b and c are live (a died at b): 3 × 40 bytes; at `b`: x, a, b.
        assert_eq!(peak_activation_bytes(&g), 120);
    }

    #[test]
    fn parameters_are_not_activations() {
        let mut g = Graph::new("param");
        let w = g.push(Node {
            op: Op::Parameter { name: "w".into() },
            inputs: vec![],
            ty: TensorType::new(DType::F32, [1000]),
            path: String::new(),
        });
        let y = g.add(Op::Unary(UnaryOp::Neg), &[w], "").unwrap();
        g.set_outputs(vec![y]);
        assert_eq!(peak_activation_bytes(&g), 4000);
    }
}
