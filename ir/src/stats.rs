//! Graph statistics for `hyv dump --stats`: node counts, parameters and FLOPs.
//!
//! FLOP conventions (one multiply-add = 2 FLOPs, like the papers' and PyTorch's counters):
//! matmul `2·B·m·n·k`; linear `2·numel(out)·in_features`; conv `2·numel(out)·(C/groups)·∏k`;
//! attention `2·B·H·Sq·Sk·(D + Dv)` (scores plus weighted sum). Every other op counts one
//! FLOP per output element (elementwise work, reductions, norms), reported separately.

use crate::{Graph, Op};
use std::collections::BTreeMap;
use std::fmt;

/// Counts and FLOPs of one graph.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GraphStats {
    /// Total number of nodes.
    pub nodes: usize,
    /// Number of nodes per op mnemonic.
    pub ops: BTreeMap<&'static str, usize>,
    /// Number of `parameter` nodes (weight tensors).
    pub parameter_tensors: usize,
    /// Total elements of all parameters.
    pub parameters: u64,
    /// Total bytes of all parameters in their stored dtypes.
    pub parameter_bytes: u64,
    /// FLOPs of matmuls, linears and convolutions.
    pub contraction_flops: u64,
    /// FLOPs of attention (scores and weighted sums).
    pub attention_flops: u64,
    /// One FLOP per output element of every other compute op.
    pub other_flops: u64,
    /// Planned peak of live activations in node order ([`crate::peak_activation_bytes`]).
    pub peak_activation_bytes: u64,
}

impl GraphStats {
    /// Collects the statistics of `graph`.
    pub fn of(graph: &Graph) -> Self {
        let mut s = GraphStats {
            nodes: graph.len(),
            peak_activation_bytes: crate::peak_activation_bytes(graph),
            ..Default::default()
        };
        for node in graph.nodes() {
            *s.ops.entry(node.op.name()).or_default() += 1;
            let out = node.ty.shape.numel() as u64;
            let dims = |i: usize| graph.ty(node.inputs[i]).shape.dims();
            match &node.op {
                Op::Parameter { .. } => {
                    s.parameter_tensors += 1;
                    s.parameters += out;
                    s.parameter_bytes += node.ty.size_in_bytes() as u64;
                }
                Op::Input { .. } | Op::Constant { .. } => {}
                Op::MatMul | Op::Linear { .. } => {
                    let k = *dims(0).last().unwrap_or(&1) as u64;
                    s.contraction_flops += 2 * out * k;
                }
                Op::Conv { .. } => {
                    // The weight is [O, C/groups, k...]: each output sums C/groups·∏k products.
                    let w = dims(1);
                    let per_out: u64 = w[1..].iter().map(|&d| d as u64).product();
                    s.contraction_flops += 2 * out * per_out;
                }
                Op::Attention { .. } => {
                    let (q, k, v) = (dims(0), dims(1), dims(2));
                    let scores = (q[0] * q[1] * q[2] * k[2]) as u64;
                    s.attention_flops += 2 * scores * (q[3] + v[3]) as u64;
                }
                _ => s.other_flops += out,
            }
        }
        s
    }

    /// All FLOPs together.
    pub fn total_flops(&self) -> u64 {
        self.contraction_flops + self.attention_flops + self.other_flops
    }
}

/// The model FLOPs of `graph`: matmuls, linears, convolutions and attention, with the
/// conventions above (what GFLOP/s figures are computed from, like the papers' counts).
/// Elementwise work is left out.
pub fn flops(graph: &Graph) -> u64 {
    let s = GraphStats::of(graph);
    s.contraction_flops + s.attention_flops
}

impl fmt::Display for GraphStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "nodes              {}", self.nodes)?;
        writeln!(f, "parameter tensors  {}", self.parameter_tensors)?;
        writeln!(
            f,
            "parameters         {} ({} bytes)",
            self.parameters, self.parameter_bytes
        )?;
        writeln!(f, "FLOPs contractions {}", self.contraction_flops)?;
        writeln!(f, "FLOPs attention    {}", self.attention_flops)?;
        writeln!(f, "FLOPs other        {}", self.other_flops)?;
        writeln!(f, "FLOPs total        {}", self.total_flops())?;
        writeln!(
            f,
            "peak activations   {} bytes (planned, node order)",
            self.peak_activation_bytes
        )?;
        write!(f, "ops               ")?;
        for (name, n) in &self.ops {
            write!(f, " {name}={n}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DType, Node, NodeId, TensorType, UnaryOp, F64};

    fn source(g: &mut Graph, op: Op, dims: &[usize]) -> NodeId {
        g.push(Node {
            op,
            inputs: vec![],
            ty: TensorType::new(DType::F32, dims.to_vec()),
            path: String::new(),
        })
    }

    fn input(g: &mut Graph, name: &str, dims: &[usize]) -> NodeId {
        source(g, Op::Input { name: name.into() }, dims)
    }

    #[test]
    fn a_linear_counts_two_flops_per_multiply_add() {
        let mut g = Graph::new("linear");
        let x = input(&mut g, "x", &[2, 3, 8]);
        let w = source(&mut g, Op::Parameter { name: "w".into() }, &[16, 8]);
        let b = source(&mut g, Op::Parameter { name: "b".into() }, &[16]);
        let y = g
            .add(Op::Linear { has_bias: true }, &[x, w, b], "")
            .unwrap();
        let z = g.add(Op::Unary(UnaryOp::Tanh), &[y], "").unwrap();
        g.set_outputs(vec![z]);
        // 2·3 rows × 16 outputs × 8 products × 2; the tanh is not a model FLOP.
        assert_eq!(flops(&g), 2 * 3 * 16 * 8 * 2);
        assert_eq!(GraphStats::of(&g).other_flops, 2 * 3 * 16);
    }

    #[test]
    fn attention_counts_scores_and_the_weighted_sum() {
        let mut g = Graph::new("attention");
        let q = input(&mut g, "q", &[1, 2, 5, 4]);
        let k = input(&mut g, "k", &[1, 2, 7, 4]);
        let v = input(&mut g, "v", &[1, 2, 7, 6]);
        let op = Op::Attention {
            scale: F64(0.5),
            causal: false,
            has_mask: false,
        };
        let o = g.add(op, &[q, k, v], "").unwrap();
        g.set_outputs(vec![o]);
        // B·H·Sq·Sk = 70 scores: q·k (4 products) and the sum over v (6), 2 FLOPs each.
        assert_eq!(flops(&g), 70 * (4 + 6) * 2);
    }
}
