//! [`CpuExecutable`]: a compiled graph run step by step: fused kernels for fusion groups,
//! the eager kernels for every other node.

use crate::backend::{arg_of, backend_error, wrap};
use crate::fused::{eval, native, plan, Step};
use crate::jit::JitKernel;
use crate::tensor::CpuBuffer;
use crate::CpuBackend;
use hyv_ir::Graph;
use hyv_ir::TensorData;
use hyv_runtime::{run_steps_releasing, Backend, DeviceTensor, Executable, ParamMap, Result};
use std::sync::Arc;

/// A verified graph run in node order: each fusion group (contiguous members, the root
/// last, as `hyv_passes::Fuse` leaves them) as one fused kernel, every other node with the
/// same kernel as eager mode. A group the fused kernels cannot express runs node by node.
/// Fused groups are JIT-compiled when the executable is built, where the backend's JIT is
/// on and the JIT expresses them, and interpreted otherwise ([`CpuExecutable::jit_groups`],
/// [`CpuExecutable::interpreted_groups`]).
/// Each value is released right after its last use, so a run holds at most
/// [`Executable::planned_peak_bytes`] of activations (plus what kernels allocate
/// internally); released f32 buffers nothing else holds are reused by later kernels of
/// the same run ([`crate::pool`]). Inputs bind by position, parameters by name, both type-checked.
#[derive(Debug, Clone)]
pub struct CpuExecutable {
    graph: Graph,
    backend: CpuBackend,
    /// The run's steps, each fused step with its JIT kernel where there is one.
    steps: Vec<(Step, Option<JitKernel>)>,
    peak: u64,
}

impl CpuExecutable {
    /// Verifies `graph` and plans its run on `backend`.
    pub fn new(graph: &Graph, backend: CpuBackend) -> Result<Self> {
        hyv_ir::verify(graph)?;
        let steps = jit_kernels(graph, plan(graph), backend.jit());
        let io: Vec<_> = steps.iter().map(|(s, _)| s.io(graph)).collect();
        Ok(CpuExecutable {
            peak: hyv_ir::peak_scheduled_bytes(graph, &io),
            graph: graph.clone(),
            backend,
            steps,
        })
    }

    /// Fused groups that run as JIT kernels.
    pub fn jit_groups(&self) -> usize {
        self.fused_groups(true)
    }

    /// Fused groups that run on the interpreter (the JIT is off, cannot express the group,
    /// or failed to compile it).
    pub fn interpreted_groups(&self) -> usize {
        self.fused_groups(false)
    }

    fn fused_groups(&self, jit: bool) -> usize {
        self.steps
            .iter()
            .filter(|(s, kernel)| matches!(s, Step::Fused { .. }) && kernel.is_some() == jit)
            .count()
    }

    fn run_steps(&self, inputs: &[DeviceTensor], params: &ParamMap) -> Result<Vec<DeviceTensor>> {
        let graph = &self.graph;
        run_steps_releasing(
            graph,
            &self.steps,
            |(step, _)| step.io(graph),
            inputs,
            params,
            |(step, kernel), node, args| {
                let program = match step {
                    Step::Node(_) => {
                        return self.backend.execute(&node.op, &node.ty, args, &node.path)
                    }
                    Step::Fused { program, .. } => program,
                };
                let context = |m: String| {
                    backend_error(format!(
                        "fused group ending in {} at `{}`: {m}",
                        node.op.name(),
                        node.path
                    ))
                };
                let data = args
                    .iter()
                    .map(|t| arg_of(t).map(|a| &**a.data))
                    .collect::<std::result::Result<Vec<_>, _>>()
                    .map_err(context)?;
                let out = match kernel {
                    Some(k) => native::run(k, program, &data),
                    None => eval::run(program, &data),
                }
                .map_err(context)?;
                Ok(wrap(node.ty.clone(), Arc::new(out)))
            },
            recycle,
        )
    }
}

/// Returns the f32 storage of a value no longer needed to the run's pool, when nothing
/// else (a reshape of it, the caller) still holds it.
fn recycle(value: DeviceTensor) {
    let data = value
        .into_buffer::<CpuBuffer>()
        .and_then(|b| Arc::try_unwrap(b).ok())
        .and_then(|CpuBuffer(data)| Arc::try_unwrap(data).ok());
    if let Some(TensorData::F32(v)) = data {
        crate::pool::release(v);
    }
}

/// `steps` with the JIT kernel of every fused step, where `jit` is on and the JIT
/// expresses the step's program.
fn jit_kernels(graph: &Graph, steps: Vec<Step>, jit: bool) -> Vec<(Step, Option<JitKernel>)> {
    steps
        .into_iter()
        .map(|step| {
            let kernel = match &step {
                // Named by the root's op only, so identical groups share one cached kernel.
                Step::Fused { root, program, .. } if jit => {
                    native::compile(program, &format!("fused {}", graph.node(*root).op.name()))
                }
                _ => None,
            };
            (step, kernel)
        })
        .collect()
}

impl Executable for CpuExecutable {
    fn run(&self, inputs: &[DeviceTensor], params: &ParamMap) -> Result<Vec<DeviceTensor>> {
        self.backend
            .install(|| crate::pool::scoped(|| self.run_steps(inputs, params)))
    }

    /// One launch per fused group plus one per other node (inputs and parameters excluded).
    fn kernel_launches(&self) -> Option<usize> {
        Some(
            self.steps
                .iter()
                .filter(|(s, _)| s.launches(&self.graph))
                .count(),
        )
    }

    /// The activation peak of one run (liveness over the steps, parameters excluded; the
    /// intermediates of fused groups never exist and do not count).
    fn planned_peak_bytes(&self) -> Option<u64> {
        Some(self.peak)
    }
}
