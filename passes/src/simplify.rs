//! Algebraic simplification: identities that hold bit for bit (up to the sign of zero for
//! `x ± 0`), never ones that change NaN/inf behaviour (`x * 0` is kept).

use crate::{Pass, PassReport, Rewriter};
use hyv_ir::{BinaryOp, Graph, IrError, Node, NodeId, Op, TensorData, UnaryOp};

/// Rewrites, applied in one forward sweep (so chains collapse at once):
/// * `x + 0`, `0 + x`, `x - 0`, `x * 1`, `1 * x`, `x / 1` → `x`, where the constant is a splat
///   of exactly that value (a `constant` with all elements equal, possibly through
///   `reshape`/`broadcast`) of the same type as `x`;
/// * `neg(neg(x))` → `x`;
/// * `reshape(reshape(x))` → one reshape; `permute(permute(x))` → one permute;
///   `broadcast(broadcast(x))` → one broadcast;
/// * identity `reshape`, `permute`, `broadcast`, `slice`, `pad`, `cast` and one-operand
///   `concat` → their operand.
///
/// Nodes made dead are left for [`crate::Dce`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Simplify;

impl Pass for Simplify {
    fn name(&self) -> &'static str {
        "simplify"
    }

    fn run(&self, graph: Graph) -> Result<(Graph, PassReport), IrError> {
        let mut rw = Rewriter::new(&graph);
        let mut rewrites = 0;
        for id in graph.ids() {
            let node = graph.node(id);
            let inputs = rw.operands(id)?;
            match rewrite(rw.graph(), node, &inputs) {
                Some(Rewrite::Forward(x)) => rw.replace(id, x),
                Some(Rewrite::Replace(op, x)) => {
                    let new = rw.add(op, &[x], node.path.clone())?;
                    rw.replace(id, new);
                }
                None => {
                    rw.copy(id)?;
                    continue;
                }
            }
            rewrites += 1;
        }
        let out = rw.finish()?;
        let report = PassReport::new(
            self.name(),
            rewrites > 0,
            graph.len(),
            out.len(),
            format!("applied {rewrites} rewrites"),
        );
        Ok((out, report))
    }
}

/// What replaces a node.
enum Rewrite {
    /// An existing new node.
    Forward(NodeId),
    /// A new unary op on an existing new node.
    Replace(Op, NodeId),
}

/// The rewrite of old node `node`, whose operands are now the new nodes `inputs` of `g`.
fn rewrite(g: &Graph, node: &Node, inputs: &[NodeId]) -> Option<Rewrite> {
    let forward = |x: NodeId| (g.ty(x) == &node.ty).then_some(Rewrite::Forward(x));
    let producer = |x: NodeId| &g.node(x).op;
    match (&node.op, inputs) {
        (Op::Binary(op), &[a, b]) => {
            let (sa, sb) = (splat_value(g, a), splat_value(g, b));
            match op {
                BinaryOp::Add if sb == Some(0.0) => forward(a),
                BinaryOp::Add if sa == Some(0.0) => forward(b),
                BinaryOp::Sub if sb == Some(0.0) => forward(a),
                BinaryOp::Mul if sb == Some(1.0) => forward(a),
                BinaryOp::Mul if sa == Some(1.0) => forward(b),
                BinaryOp::Div if sb == Some(1.0) => forward(a),
                _ => None,
            }
        }
        (Op::Unary(UnaryOp::Neg), &[x]) => match (producer(x), g.node(x).inputs.as_slice()) {
            (Op::Unary(UnaryOp::Neg), &[inner]) => forward(inner),
            _ => None,
        },
        (Op::Reshape { shape }, &[x]) => {
            if g.ty(x).shape == *shape {
                return forward(x);
            }
            match (producer(x), g.node(x).inputs.as_slice()) {
                (Op::Reshape { .. }, &[inner]) if g.ty(inner).shape == *shape => forward(inner),
                (Op::Reshape { .. }, &[inner]) => Some(Rewrite::Replace(node.op.clone(), inner)),
                _ => None,
            }
        }
        (Op::Permute { perm }, &[x]) => {
            if perm.iter().enumerate().all(|(i, &p)| i == p) {
                return forward(x);
            }
            match (producer(x), g.node(x).inputs.as_slice()) {
                (Op::Permute { perm: inner_perm }, &[inner]) => {
                    let composed: Vec<usize> = perm.iter().map(|&p| inner_perm[p]).collect();
                    if composed.iter().enumerate().all(|(i, &p)| i == p) {
                        forward(inner)
                    } else {
                        Some(Rewrite::Replace(Op::Permute { perm: composed }, inner))
                    }
                }
                _ => None,
            }
        }
        (Op::Broadcast { shape }, &[x]) => {
            if g.ty(x).shape == *shape {
                return forward(x);
            }
            match (producer(x), g.node(x).inputs.as_slice()) {
                (Op::Broadcast { .. }, &[inner]) => Some(Rewrite::Replace(node.op.clone(), inner)),
                _ => None,
            }
        }
        (Op::Slice { start, end, step }, &[x]) => {
            let dims = g.ty(x).shape.dims();
            let identity = start.iter().all(|&s| s == 0)
                && step.iter().all(|&s| s == 1)
                && end.as_slice() == dims;
            identity.then(|| forward(x)).flatten()
        }
        (Op::Pad { low, high, .. }, &[x]) => {
            let identity = low.iter().chain(high).all(|&p| p == 0);
            identity.then(|| forward(x)).flatten()
        }
        (Op::Cast { to }, &[x]) if g.ty(x).dtype == *to => forward(x),
        (Op::Concat { .. }, &[x]) => forward(x),
        _ => None,
    }
}

/// The value of every element of `x` when it is a splat: a constant whose elements all have
/// the same bits, possibly through `reshape` and `broadcast`.
fn splat_value(g: &Graph, x: NodeId) -> Option<f64> {
    let node = g.node(x);
    match (&node.op, node.inputs.as_slice()) {
        (Op::Constant { value }, _) => {
            let bits = value.data().to_le_bytes();
            let size = value.dtype().size_in_bytes();
            let first = bits.get(..size)?;
            if !bits.chunks(size).all(|c| c == first) {
                return None;
            }
            let v = match value.data() {
                TensorData::F32(v) => v[0] as f64,
                TensorData::F16(v) => v[0].to_f64(),
                TensorData::BF16(v) => v[0].to_f64(),
                TensorData::I32(v) => v[0] as f64,
                TensorData::I64(v) => v[0] as f64,
                TensorData::Bool(_) => return None,
            };
            Some(v)
        }
        (Op::Reshape { .. } | Op::Broadcast { .. }, &[inner]) => splat_value(g, inner),
        _ => None,
    }
}
