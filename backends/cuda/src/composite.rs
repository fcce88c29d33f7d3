//! Eager composites (linear, softmax, the norms, GELU, SiLU, rotary embedding, nearest
//! upsampling): each signature is decomposed into primitives, fused and planned once, then
//! runs as that plan's kernels, so eager mode shares graph mode's generated kernels.
//!
//! Not yet run on a GPU (see the crate docs).

use crate::backend::{claims_composite, CudaBackend};
use crate::error::cuda_error;
use crate::executable::Plan;
use hyv_ir::{Graph, Op, TensorType};
use hyv_passes::fused::one_op_graph;
use hyv_passes::{Canonicalize, Decompose, Fuse, Pass};
use hyv_runtime::{DeviceTensor, ParamMap, Result};
use std::sync::Arc;

/// The graph eager mode runs for composite `op` (output `out`, operands `inputs`): the op
/// decomposed (attention kept), canonicalised and fused.
pub fn composite_graph(op: &Op, out: &TensorType, inputs: &[TensorType]) -> Result<Graph> {
    let (graph, _) = one_op_graph(op, out, inputs);
    let graph = Decompose::new(claims_composite).run(graph)?.0;
    let graph = Canonicalize::new(None).run(graph)?.0;
    Ok(Fuse.run(graph)?.0)
}

/// The plan running composite `op` as its [`composite_graph`].
pub(crate) fn composite_plan(op: &Op, out: &TensorType, inputs: &[TensorType]) -> Result<Plan> {
    Plan::new(&composite_graph(op, out, inputs)?)
}

impl CudaBackend {
    /// Runs composite `op` eagerly through its cached plan.
    pub(crate) fn composite(
        &self,
        op: &Op,
        out: &TensorType,
        inputs: &[&DeviceTensor],
    ) -> Result<DeviceTensor> {
        let types: Vec<TensorType> = inputs.iter().map(|t| t.ty().clone()).collect();
        let plan = self.composite_cached(op, out, &types)?;
        let args: Vec<DeviceTensor> = inputs.iter().map(|&t| t.clone()).collect();
        plan.run(self, &args, &ParamMap::new())?
            .into_iter()
            .next()
            .ok_or_else(|| cuda_error(format!("the decomposition of {} has no output", op.name())))
    }

    /// The plan of this composite signature, made on first use.
    fn composite_cached(
        &self,
        op: &Op,
        out: &TensorType,
        types: &[TensorType],
    ) -> Result<Arc<Plan>> {
        let key = format!("{op:?} {out} {types:?}");
        let mut cache = self
            .composites()
            .lock()
            .map_err(|_| cuda_error("the composite plan cache lock is poisoned"))?;
        if let Some(plan) = cache.get(&key) {
            return Ok(plan.clone());
        }
        let plan = Arc::new(composite_plan(op, out, types)?);
        cache.insert(key, plan.clone());
        Ok(plan)
    }
}
