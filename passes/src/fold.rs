//! Constant folding through a caller-supplied evaluator.

use crate::{Pass, PassReport, Rewriter};
use hyv_ir::{Graph, HostTensor, IrError, Node, NodeId, Op, TensorType};
use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::sync::Arc;

/// Default largest folded result, in elements (1 Mi).
pub const DEFAULT_FOLD_LIMIT: usize = 1 << 20;

/// Evaluates one op on host tensors (the runtime plugs in the compile backend's kernels, so
/// folded values are bit-identical to what the backend computes).
pub trait ConstEvaluator {
    /// Computes `op` on `inputs`, producing a tensor of type `out`.
    fn eval(&self, op: &Op, out: &TensorType, inputs: &[&HostTensor])
        -> Result<HostTensor, String>;
}

/// Replaces nodes whose operands are all constant (`constant` or `iota` nodes) by a
/// `constant` holding their value.
///
/// Not folded: sources themselves (`iota` stays compact), collectives (they need a
/// communicator), `broadcast` (a broadcast constant is cheaper to keep as is, and the
/// simplifier recognises splats through it), results larger than the limit, and nodes the
/// evaluator rejects (e.g. an out-of-range gather index stays a run-time error).
#[derive(Clone)]
pub struct Fold {
    evaluator: Arc<dyn ConstEvaluator>,
    limit: usize,
}

impl Fold {
    /// A folding pass using `evaluator`, with the default size limit.
    pub fn new(evaluator: Arc<dyn ConstEvaluator>) -> Self {
        Fold {
            evaluator,
            limit: DEFAULT_FOLD_LIMIT,
        }
    }

    /// Sets the largest folded result, in elements.
    pub fn with_limit(mut self, elements: usize) -> Self {
        self.limit = elements;
        self
    }

    fn foldable(&self, node: &Node) -> bool {
        !node.op.is_source()
            && !node.op.is_collective()
            && !matches!(node.op, Op::Broadcast { .. })
            && node.ty.shape.numel() <= self.limit
    }
}

impl Pass for Fold {
    fn name(&self) -> &'static str {
        "fold"
    }

    fn run(&self, graph: Graph) -> Result<(Graph, PassReport), IrError> {
        let mut rw = Rewriter::new(&graph);
        // Values of constant-valued nodes of the new graph, computed on demand.
        let mut values: HashMap<NodeId, HostTensor> = HashMap::new();
        let (mut folded, mut rejected) = (0, 0);
        for id in graph.ids() {
            let node = graph.node(id);
            let inputs = rw.operands(id)?;
            let constant_operands = !inputs.is_empty()
                && inputs.iter().all(|&i| {
                    matches!(rw.graph().node(i).op, Op::Constant { .. } | Op::Iota { .. })
                });
            if !constant_operands || !self.foldable(node) {
                rw.copy(id)?;
                continue;
            }
            for &i in &inputs {
                if let Entry::Vacant(slot) = values.entry(i) {
                    let n = rw.graph().node(i);
                    let v = match &n.op {
                        Op::Constant { value } => value.clone(),
                        op => self
                            .evaluator
                            .eval(op, &n.ty, &[])
                            .map_err(|m| IrError::Op {
                                op: op.name().into(),
                                path: n.path.clone(),
                                message: format!("constant evaluation failed: {m}"),
                            })?,
                    };
                    slot.insert(v);
                }
            }
            let args: Vec<&HostTensor> = inputs.iter().map(|i| &values[i]).collect();
            match self.evaluator.eval(&node.op, &node.ty, &args) {
                Ok(value) if value.ty() == &node.ty => {
                    let new = rw.add(Op::Constant { value }, &[], node.path.clone())?;
                    rw.replace(id, new);
                    folded += 1;
                }
                Ok(value) => {
                    return Err(IrError::Op {
                        op: node.op.name().into(),
                        path: node.path.clone(),
                        message: format!(
                            "constant evaluator returned {} instead of {}",
                            value.ty(),
                            node.ty
                        ),
                    })
                }
                Err(_) => {
                    rw.copy(id)?;
                    rejected += 1;
                }
            }
        }
        let out = rw.finish()?;
        let mut summary = format!("folded {folded} nodes");
        if rejected > 0 {
            summary += &format!(" ({rejected} left for run time: evaluation failed)");
        }
        let report = PassReport::new(self.name(), folded > 0, graph.len(), out.len(), summary);
        Ok((out, report))
    }
}
