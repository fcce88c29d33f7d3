//! The `Backend` trait: eager op execution, graph compilation, host ↔ device transfer.

use crate::Result;
use hyv_ir::{Graph, HostTensor, Op, TensorType};
use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// A tensor owned by a backend (host memory for the reference and CPU backends, device
/// memory for accelerators). Cheap to clone: the buffer is shared and never mutated.
#[derive(Clone)]
pub struct DeviceTensor {
    ty: TensorType,
    buffer: Arc<dyn Any + Send + Sync>,
}

impl DeviceTensor {
    /// Wraps a backend's buffer with its type.
    pub fn new(ty: TensorType, buffer: Arc<dyn Any + Send + Sync>) -> Self {
        DeviceTensor { ty, buffer }
    }

    /// The tensor's type.
    pub fn ty(&self) -> &TensorType {
        &self.ty
    }

    /// The backend buffer, downcast to the backend's own buffer type.
    pub fn buffer<T: Any>(&self) -> Option<&T> {
        self.buffer.downcast_ref::<T>()
    }

    /// The backend buffer itself, downcast (`None` when another backend made it).
    pub fn into_buffer<T: Any + Send + Sync>(self) -> Option<Arc<T>> {
        self.buffer.downcast::<T>().ok()
    }
}

impl fmt::Debug for DeviceTensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeviceTensor({})", self.ty)
    }
}

/// Weights bound to a compiled graph, by parameter name.
pub type ParamMap = HashMap<String, DeviceTensor>;

/// Options that change how a graph is compiled (part of the executable cache key).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct CompileOptions {
    /// Worker threads (0: all cores).
    pub threads: usize,
}

/// A compiled graph, ready to run many times.
pub trait Executable: Send + Sync {
    /// Runs the graph on `inputs` (in the order of the graph's `input` nodes) with weights
    /// `params`, returning the graph outputs in order.
    fn run(&self, inputs: &[DeviceTensor], params: &ParamMap) -> Result<Vec<DeviceTensor>>;

    /// Kernel launches of one [`Executable::run`] (`hyv bench` prints them beside the op
    /// count; fusion makes them fewer than the ops). `None` when the backend does not say.
    fn kernel_launches(&self) -> Option<usize> {
        None
    }

    /// The planned peak of activation memory of one run, in bytes, when the backend plans
    /// it (`None` otherwise).
    fn planned_peak_bytes(&self) -> Option<u64> {
        None
    }
}

/// A compute backend. Eager mode calls [`Backend::execute`] op by op; graph mode calls
/// [`Backend::compile`] once on the optimised graph.
pub trait Backend: Send + Sync {
    /// Short name (`reference`, `cpu`, `cuda`, `ascend`).
    fn name(&self) -> &'static str;

    /// Copies a host tensor to the backend.
    fn upload(&self, tensor: &HostTensor) -> Result<DeviceTensor>;

    /// Copies a backend tensor to the host.
    fn download(&self, tensor: &DeviceTensor) -> Result<HostTensor>;

    /// Runs one op (eager mode). `out` is the inferred output type; `path` is the module
    /// path, for error messages.
    fn execute(
        &self,
        op: &Op,
        out: &TensorType,
        inputs: &[&DeviceTensor],
        path: &str,
    ) -> Result<DeviceTensor>;

    /// Whether the backend runs composite `op` natively in graph mode; composites it does
    /// not claim are decomposed into primitives before [`Backend::compile`].
    fn claims_composite(&self, op: &Op) -> bool;

    /// Whether graph mode runs the fusion pass (`hyv_passes::Fuse`) for this backend, so
    /// that [`Backend::compile`] gets a graph with fusion groups to run as single kernels.
    /// Backends that run node by node keep the default, `false`.
    fn fuses(&self) -> bool {
        false
    }

    /// Compiles an optimised graph.
    fn compile(&self, graph: &Graph, options: &CompileOptions) -> Result<Box<dyn Executable>>;
}
