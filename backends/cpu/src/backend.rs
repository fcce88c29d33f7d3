//! [`CpuBackend`]: the `Backend` implementation over host memory.

use crate::executable::CpuExecutable;
use crate::kernels;
use crate::tensor::{Arg, CpuBuffer};
use hyv_ir::{Graph, HostTensor, Op, TensorData, TensorType};
use hyv_runtime::{Backend, CompileOptions, DeviceTensor, Error, Executable, Result};
use std::sync::Arc;

/// The CPU backend. Buffers are shared row-major host arrays; every op runs a native kernel
/// (gemm contractions, im2col convolutions, a tiled online-softmax attention, parallel
/// loops for the rest). Every composite op is claimed: linear, softmax, the norms, GELU,
/// SiLU, attention, rotary embedding and nearest upsampling all have kernels of their own,
/// which read their operands once instead of materialising a decomposition. Graph mode
/// runs the fusion pass ([`Backend::fuses`]) and each fusion group as one fused kernel.
///
/// Threads come from rayon's global pool, or from a pool of the backend's own
/// ([`CpuBackend::with_threads`]).
///
/// Fused groups the JIT can express run as Cranelift-compiled kernels, the others on the
/// fused-program interpreter. The JIT is on unless the environment variable `HYV_CPU_JIT`
/// is `0` when the backend is created, or [`CpuBackend::with_jit`] turns it off (then every
/// group is interpreted, bit-identical to the eager kernels).
#[derive(Debug, Clone)]
pub struct CpuBackend {
    pool: Option<Arc<rayon::ThreadPool>>,
    jit: bool,
}

impl Default for CpuBackend {
    fn default() -> Self {
        CpuBackend::new()
    }
}

impl CpuBackend {
    /// The backend name used in errors and on the command line.
    pub const NAME: &'static str = "cpu";

    /// A CPU backend on rayon's global thread pool.
    pub fn new() -> Self {
        CpuBackend {
            pool: None,
            jit: jit_from_env(),
        }
    }

    /// A CPU backend with a pool of `threads` worker threads of its own (0: one per core).
    pub fn with_threads(threads: usize) -> Result<Self> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| backend_error(format!("cannot start {threads} threads: {e}")))?;
        Ok(CpuBackend {
            pool: Some(Arc::new(pool)),
            jit: jit_from_env(),
        })
    }

    /// This backend with JIT-compiled fused groups on or off (see the type's docs).
    pub fn with_jit(mut self, on: bool) -> Self {
        self.jit = on;
        self
    }

    /// Whether compiled graphs run the fused groups they can on the JIT.
    pub fn jit(&self) -> bool {
        self.jit
    }

    /// Number of worker threads the kernels use.
    pub fn threads(&self) -> usize {
        self.install(rayon::current_num_threads)
    }

    /// Runs `f` on the backend's thread pool.
    pub(crate) fn install<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        match &self.pool {
            Some(pool) => pool.install(f),
            None => f(),
        }
    }
}

/// The JIT setting from the environment: off when `HYV_CPU_JIT` is `0`.
fn jit_from_env() -> bool {
    std::env::var_os("HYV_CPU_JIT").is_none_or(|v| v != "0")
}

/// A backend error with the CPU backend's name.
pub(crate) fn backend_error(message: String) -> Error {
    Error::Backend {
        backend: CpuBackend::NAME.into(),
        message,
    }
}

/// Wraps storage as a CPU device tensor of type `ty`.
pub(crate) fn wrap(ty: TensorType, data: Arc<TensorData>) -> DeviceTensor {
    DeviceTensor::new(ty, Arc::new(CpuBuffer(data)))
}

/// The kernel operand behind a device tensor, or a message when another backend made it.
pub(crate) fn arg_of(t: &DeviceTensor) -> std::result::Result<Arg<'_>, String> {
    let buffer = t
        .buffer::<CpuBuffer>()
        .ok_or_else(|| format!("tensor {} was not created by the CPU backend", t.ty()))?;
    Ok(Arg {
        ty: t.ty(),
        data: &buffer.0,
    })
}

impl Backend for CpuBackend {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn upload(&self, tensor: &HostTensor) -> Result<DeviceTensor> {
        Ok(wrap(tensor.ty().clone(), Arc::new(tensor.data().clone())))
    }

    fn download(&self, tensor: &DeviceTensor) -> Result<HostTensor> {
        let arg = arg_of(tensor).map_err(backend_error)?;
        HostTensor::new(arg.ty.shape.clone(), (**arg.data).clone()).map_err(Error::from)
    }

    fn execute(
        &self,
        op: &Op,
        out: &TensorType,
        inputs: &[&DeviceTensor],
        path: &str,
    ) -> Result<DeviceTensor> {
        let context = |m: String| backend_error(format!("{} at `{path}`: {m}", op.name()));
        let args = inputs
            .iter()
            .map(|t| arg_of(t))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(context)?;
        let data = self
            .install(|| kernels::eval(op, out, &args))
            .map_err(context)?;
        Ok(wrap(out.clone(), data))
    }

    /// Every composite runs natively except the elementwise activations (GELU, SiLU): in
    /// graph mode their decompositions fuse with their neighbours and run on the JIT's
    /// vectorised exp, several times faster than the scalar libm calls of the native
    /// kernels (which eager mode still uses).
    fn claims_composite(&self, op: &Op) -> bool {
        op.is_composite() && !matches!(op, Op::Gelu { .. } | Op::Silu)
    }

    /// Fusion groups run as fused kernels (see [`CpuExecutable`]).
    fn fuses(&self) -> bool {
        true
    }

    fn compile(&self, graph: &Graph, options: &CompileOptions) -> Result<Box<dyn Executable>> {
        let backend = if options.threads == 0 {
            self.clone()
        } else {
            CpuBackend::with_threads(options.threads)?.with_jit(self.jit)
        };
        Ok(Box::new(CpuExecutable::new(graph, backend)?))
    }
}
