//! [`ReferenceBackend`]: the `Backend` implementation over host tensors.

use crate::executable::ReferenceExecutable;
use hyv_ir::{Graph, HostTensor, Op, TensorType};
use hyv_runtime::{Backend, CompileOptions, DeviceTensor, Error, Executable, Result};
use std::sync::Arc;

/// The reference backend: buffers are host tensors (a [`DeviceTensor`] holds an
/// `Arc<HostTensor>`), upload and download copy, every op is interpreted by [`crate::eval`].
/// By default every composite op is run directly (claimed); the
/// [`ReferenceBackend::primitives_only`] variant claims none, so graph mode runs the
/// decompositions — the two are checked against each other.
#[derive(Debug, Clone, Copy)]
pub struct ReferenceBackend {
    claims_composites: bool,
}

impl Default for ReferenceBackend {
    fn default() -> Self {
        Self::new()
    }
}

impl ReferenceBackend {
    /// The backend name used in errors and on the command line.
    pub const NAME: &'static str = "reference";

    /// A reference backend that runs composite ops directly.
    pub fn new() -> Self {
        ReferenceBackend {
            claims_composites: true,
        }
    }

    /// A reference backend that claims no composite op: graph mode decomposes them all
    /// into primitives (eager mode still runs them directly).
    pub fn primitives_only() -> Self {
        ReferenceBackend {
            claims_composites: false,
        }
    }
}

/// Wraps a host tensor as a reference-backend device tensor.
pub(crate) fn wrap(t: HostTensor) -> DeviceTensor {
    DeviceTensor::new(t.ty().clone(), Arc::new(t))
}

/// The host tensor behind a device tensor, or a message when another backend made it.
pub(crate) fn host_of(t: &DeviceTensor) -> std::result::Result<&HostTensor, String> {
    t.buffer::<HostTensor>()
        .ok_or_else(|| format!("tensor {} was not created by the reference backend", t.ty()))
}

/// A backend error with the reference backend's name.
pub(crate) fn backend_error(message: String) -> Error {
    Error::Backend {
        backend: ReferenceBackend::NAME.into(),
        message,
    }
}

impl Backend for ReferenceBackend {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn upload(&self, tensor: &HostTensor) -> Result<DeviceTensor> {
        Ok(wrap(tensor.clone()))
    }

    fn download(&self, tensor: &DeviceTensor) -> Result<HostTensor> {
        host_of(tensor).cloned().map_err(backend_error)
    }

    fn execute(
        &self,
        op: &Op,
        out: &TensorType,
        inputs: &[&DeviceTensor],
        path: &str,
    ) -> Result<DeviceTensor> {
        let context = |m: String| backend_error(format!("{} at `{path}`: {m}", op.name()));
        let hosts = inputs
            .iter()
            .map(|t| host_of(t))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(context)?;
        crate::eval(op, out, &hosts).map(wrap).map_err(context)
    }

    fn claims_composite(&self, op: &Op) -> bool {
        self.claims_composites && op.is_composite()
    }

    fn compile(&self, graph: &Graph, _options: &CompileOptions) -> Result<Box<dyn Executable>> {
        Ok(Box::new(ReferenceExecutable::new(graph)?))
    }
}
