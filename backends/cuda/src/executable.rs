//! [`CudaExecutable`]: a compiled graph: one generated kernel per fusion group, the eager
//! kernels for every other node.
//!
//! Not yet verified on a GPU (see the crate docs).

use crate::backend::{buffer, has_kernel, wrap, CudaBackend};
use crate::codegen::{fused_kernel, KernelSource};
use crate::error::cuda_error;
use crate::kernels::Arg;
use hyv_ir::{Graph, TensorType};
use hyv_passes::fused::{plan, Step};
use hyv_runtime::{run_steps, Backend, DeviceTensor, Executable, ParamMap, Result};
use std::collections::BTreeMap;

/// A verified graph run in node order on a [`CudaBackend`]: fusion groups as generated
/// kernels (built when the executable is), other nodes through [`Backend::execute`]. Each
/// value is dropped after its last use.
pub struct CudaExecutable {
    plan: Plan,
    backend: CudaBackend,
}

impl CudaExecutable {
    /// Verifies `graph` and generates its fused kernels; an error naming the ops the
    /// backend has no kernel for yet (see [`missing_kernels`]), before anything runs.
    pub fn new(graph: &Graph, backend: CudaBackend) -> Result<Self> {
        Ok(CudaExecutable {
            plan: Plan::new(graph)?,
            backend,
        })
    }
}

/// The steps of a graph's run, independent of the backend that runs them (so that the
/// backend can cache plans of its eager composites without holding itself).
pub(crate) struct Plan {
    graph: Graph,
    /// The steps, each fused one with its kernel.
    steps: Vec<(Step, Option<KernelSource>)>,
}

impl Plan {
    /// Verifies `graph` and generates its fused kernels; an error naming the ops the
    /// backend has no kernel for yet (see [`missing_kernels`]).
    pub(crate) fn new(graph: &Graph) -> Result<Self> {
        hyv_ir::verify(graph)?;
        let missing = missing_kernels(graph);
        if !missing.is_empty() {
            let list: Vec<String> = missing.iter().map(|(op, n)| format!("{op} ×{n}")).collect();
            return Err(cuda_error(format!(
                "cannot run graph `{}` yet: no CUDA kernel for {}",
                graph.name,
                list.join(", ")
            )));
        }
        let steps = plan(graph)
            .into_iter()
            .map(|step| {
                let kernel = match &step {
                    Step::Fused { root, program, .. } => {
                        let op = graph.node(*root).op.name();
                        let kernel = fused_kernel(program, &format!("fused_{op}"));
                        Some(kernel.ok_or_else(|| {
                            cuda_error(format!(
                                "no kernel for the fused group ending in {op} at node {root}"
                            ))
                        })?)
                    }
                    Step::Node(_) => None,
                };
                Ok((step, kernel))
            })
            .collect::<Result<_>>()?;
        Ok(Plan {
            graph: graph.clone(),
            steps,
        })
    }

    /// Runs the steps on `backend`.
    pub(crate) fn run(
        &self,
        backend: &CudaBackend,
        inputs: &[DeviceTensor],
        params: &ParamMap,
    ) -> Result<Vec<DeviceTensor>> {
        let graph = &self.graph;
        run_steps(
            graph,
            &self.steps,
            |(step, _)| step.io(graph),
            inputs,
            params,
            |(_, kernel), node, args| {
                let Some(kernel) = kernel else {
                    return backend.execute(&node.op, &node.ty, args, &node.path);
                };
                let context = |m: String| {
                    cuda_error(format!(
                        "fused group ending in {} at `{}`: {m}",
                        node.op.name(),
                        node.path
                    ))
                };
                let buffers = args
                    .iter()
                    .map(|t| buffer(t))
                    .collect::<std::result::Result<Vec<_>, _>>()
                    .map_err(context)?;
                let result = backend.alloc(&node.ty)?;
                let mut kargs: Vec<Arg> = buffers.into_iter().map(Arg::Buffer).collect();
                kargs.push(Arg::Buffer(&result));
                backend.launch(kernel, &kargs)?;
                Ok(wrap(node.ty.clone(), result))
            },
        )
    }
}

impl Executable for CudaExecutable {
    fn run(&self, inputs: &[DeviceTensor], params: &ParamMap) -> Result<Vec<DeviceTensor>> {
        self.plan.run(&self.backend, inputs, params)
    }

    /// One launch per fused group plus one per other node (inputs and parameters excluded).
    fn kernel_launches(&self) -> Option<usize> {
        let plan = &self.plan;
        Some(
            plan.steps
                .iter()
                .filter(|(s, _)| s.launches(&plan.graph))
                .count(),
        )
    }
}

/// The ops of a compiled graph's unfused nodes that the CUDA backend has no kernel for,
/// with how often each occurs (empty when it can run the graph).
pub fn missing_kernels(graph: &Graph) -> BTreeMap<&'static str, usize> {
    let mut missing = BTreeMap::new();
    for step in plan(graph) {
        let Step::Node(id) = step else { continue };
        let node = graph.node(id);
        let types: Vec<TensorType> = node.inputs.iter().map(|&i| graph.ty(i).clone()).collect();
        if !has_kernel(&node.op, &node.ty, &types) {
            *missing.entry(node.op.name()).or_insert(0) += 1;
        }
    }
    missing
}

/// The ops of `graph` that eager mode cannot run on the CUDA backend (every node executed
/// on its own, composites as their [`composite_graph`](crate::composite_graph)), with how
/// often each occurs.
pub fn missing_eager_kernels(graph: &Graph) -> BTreeMap<&'static str, usize> {
    let mut missing = BTreeMap::new();
    for node in graph.nodes() {
        let types: Vec<TensorType> = node.inputs.iter().map(|&i| graph.ty(i).clone()).collect();
        if !has_kernel(&node.op, &node.ty, &types) {
            *missing.entry(node.op.name()).or_insert(0) += 1;
        }
    }
    missing
}
