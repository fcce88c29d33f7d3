//! [`KernelCache`]: generated kernels compiled (NVRTC, PTX cache), loaded into the context
//! and launched.
//!
//! Not yet run on a GPU: this file is written against cudarc's API and builds, but only
//! kernel compilation is tested on machines without one.

use crate::codegen::{KernelSource, Launch};
use crate::device::CudaBuffer;
use crate::error::cuda_error;
use crate::nvrtc::{compile, NvrtcOptions};
use crate::ptx_cache::PtxCache;
use cudarc::driver::{CudaContext, CudaFunction, CudaStream, LaunchConfig, PushKernelArg};
use cudarc::nvrtc::Ptx;
use hyv_runtime::Result;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Threads per block of the elementwise kernels (their `__launch_bounds__`).
const ELEMENTWISE_THREADS: u32 = 256;
/// The most blocks an elementwise launch uses (the kernels loop over the rest).
const MAX_BLOCKS: u64 = 1 << 16;

/// Compiled kernels by name (a name identifies its source, see
/// [`fused_kernel`](crate::codegen::fused_kernel)).
pub struct KernelCache {
    ctx: Arc<CudaContext>,
    options: NvrtcOptions,
    ptx: PtxCache,
    loaded: Mutex<HashMap<String, CudaFunction>>,
}

/// One kernel argument.
pub enum Arg<'a> {
    /// A device buffer (a pointer argument).
    Buffer(&'a CudaBuffer),
    /// A null pointer.
    Null,
    /// An `int`.
    Int(i32),
    /// A `float`.
    Float(f32),
}

impl KernelCache {
    /// An empty cache for `ctx`.
    pub fn new(ctx: Arc<CudaContext>, options: NvrtcOptions, ptx: PtxCache) -> Self {
        KernelCache {
            ctx,
            options,
            ptx,
            loaded: Mutex::new(HashMap::new()),
        }
    }

    /// The loaded function of `kernel`, compiling and loading it on first use.
    fn function(&self, kernel: &KernelSource) -> Result<CudaFunction> {
        let mut loaded = self
            .loaded
            .lock()
            .map_err(|_| cuda_error("the kernel cache lock is poisoned"))?;
        if let Some(f) = loaded.get(&kernel.name) {
            return Ok(f.clone());
        }
        let ptx = compile(kernel, &self.options, &self.ptx)?;
        let context = |e: cudarc::driver::DriverError| {
            cuda_error(format!("cannot load kernel `{}`: {e}", kernel.name))
        };
        let module = self.ctx.load_module(Ptx::from_src(ptx)).map_err(context)?;
        let f = module.load_function(&kernel.name).map_err(context)?;
        loaded.insert(kernel.name.clone(), f.clone());
        Ok(f)
    }

    /// Launches `kernel` on `stream` with `args` (in the kernel's parameter order).
    pub fn launch(
        &self,
        stream: &Arc<CudaStream>,
        kernel: &KernelSource,
        args: &[Arg],
    ) -> Result<()> {
        let f = self.function(kernel)?;
        let null = 0u64;
        let mut builder = stream.launch_builder(&f);
        for a in args {
            match a {
                Arg::Buffer(b) => builder.arg(&*b.0),
                Arg::Null => builder.arg(&null),
                Arg::Int(v) => builder.arg(v),
                Arg::Float(v) => builder.arg(v),
            };
        }
        // SAFETY: the arguments match the generated kernel's parameters (the callers pass
        // them in the order the code generator declares them) and every buffer holds the
        // elements the kernel's static shape reads or writes.
        unsafe { builder.launch(config(kernel.launch)) }
            .map(|_| ())
            .map_err(|e| cuda_error(format!("launching kernel `{}`: {e}", kernel.name)))
    }
}

/// The grid and block of a launch.
fn config(launch: Launch) -> LaunchConfig {
    let (grid_dim, block_dim) = match launch {
        Launch::Elementwise { items, .. } => {
            let blocks = items
                .div_ceil(u64::from(ELEMENTWISE_THREADS))
                .clamp(1, MAX_BLOCKS);
            ((blocks as u32, 1, 1), (ELEMENTWISE_THREADS, 1, 1))
        }
        Launch::Rows { rows, threads } => ((rows.max(1) as u32, 1, 1), (threads, 1, 1)),
        Launch::Attention {
            query_tiles,
            batch_heads,
        } => (
            (query_tiles.max(1), batch_heads.max(1), 1),
            ((crate::codegen::ATTENTION_BLOCK_Q * 32) as u32, 1, 1),
        ),
    };
    LaunchConfig {
        grid_dim,
        block_dim,
        shared_mem_bytes: 0,
    }
}
