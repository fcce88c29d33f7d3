//! [`ReferenceExecutable`]: a compiled graph, interpreted node by node.

use crate::ReferenceBackend;
use hyv_ir::Graph;
use hyv_runtime::{op_by_op_launches, run_op_by_op, DeviceTensor, Executable, ParamMap, Result};

/// A verified graph run by interpreting its nodes in order with the same kernels as eager
/// mode (the reference backend has nothing to compile: graph mode differs from eager mode
/// only by the passes that ran before). Inputs are bound by position, parameters by name,
/// both type-checked; parameters the graph does not use are ignored.
#[derive(Debug, Clone)]
pub struct ReferenceExecutable {
    graph: Graph,
}

impl ReferenceExecutable {
    /// Verifies `graph` and prepares it for running.
    pub fn new(graph: &Graph) -> Result<Self> {
        hyv_ir::verify(graph)?;
        Ok(ReferenceExecutable {
            graph: graph.clone(),
        })
    }
}

impl Executable for ReferenceExecutable {
    fn run(&self, inputs: &[DeviceTensor], params: &ParamMap) -> Result<Vec<DeviceTensor>> {
        run_op_by_op(&self.graph, &ReferenceBackend::new(), inputs, params)
    }

    /// One kernel per node: the interpreter never fuses.
    fn kernel_launches(&self) -> Option<usize> {
        Some(op_by_op_launches(&self.graph))
    }
}
