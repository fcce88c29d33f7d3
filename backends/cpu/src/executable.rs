//! [`CpuExecutable`]: a compiled graph run node by node with the eager kernels.

use crate::CpuBackend;
use hyv_ir::Graph;
use hyv_runtime::{op_by_op_launches, run_op_by_op, DeviceTensor, Executable, ParamMap, Result};

/// A verified graph whose nodes run in order with the same kernels as eager mode. Each
/// intermediate buffer is dropped right after its last use, so a run holds at most
/// [`Executable::planned_peak_bytes`] of activations (plus what kernels allocate
/// internally). Inputs bind by position, parameters by name, both type-checked.
#[derive(Debug, Clone)]
pub struct CpuExecutable {
    graph: Graph,
    backend: CpuBackend,
    peak: u64,
    launches: usize,
}

impl CpuExecutable {
    /// Verifies `graph` and plans its run on `backend`.
    pub fn new(graph: &Graph, backend: CpuBackend) -> Result<Self> {
        hyv_ir::verify(graph)?;
        Ok(CpuExecutable {
            graph: graph.clone(),
            backend,
            peak: hyv_ir::peak_activation_bytes(graph),
            launches: op_by_op_launches(graph),
        })
    }
}

impl Executable for CpuExecutable {
    fn run(&self, inputs: &[DeviceTensor], params: &ParamMap) -> Result<Vec<DeviceTensor>> {
        self.backend
            .install(|| run_op_by_op(&self.graph, &self.backend, inputs, params))
    }

    /// One kernel per node (no fusion yet).
    fn kernel_launches(&self) -> Option<usize> {
        Some(self.launches)
    }

    /// The activation peak of one run (liveness in node order, parameters excluded).
    fn planned_peak_bytes(&self) -> Option<u64> {
        Some(self.peak)
    }
}
