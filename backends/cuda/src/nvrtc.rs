//! Compiling kernel sources to PTX with NVRTC, through the on-disk PTX cache.

use crate::codegen::{fnv1a, KernelSource};
use crate::error::{cuda_error, no_nvrtc, nvrtc_present};
use crate::ptx_cache::PtxCache;
use cudarc::nvrtc::{compile_ptx_with_opts, CompileError, CompileOptions};
use hyv_runtime::Result;

/// The GPU architecture kernels are compiled for unless `HYV_CUDA_ARCH` says otherwise
/// (Hopper; PTX for it also JIT-compiles for later GPUs).
pub const DEFAULT_ARCH: &str = "sm_90";

/// How kernels are compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NvrtcOptions {
    /// `--gpu-architecture`, e.g. `sm_90` or `compute_90`.
    pub arch: String,
}

impl Default for NvrtcOptions {
    /// [`DEFAULT_ARCH`], or `HYV_CUDA_ARCH` when set.
    fn default() -> Self {
        NvrtcOptions {
            arch: std::env::var("HYV_CUDA_ARCH").unwrap_or_else(|_| DEFAULT_ARCH.into()),
        }
    }
}

impl NvrtcOptions {
    /// The NVRTC command-line options.
    fn args(&self) -> Vec<String> {
        vec![format!("--gpu-architecture={}", self.arch)]
    }
}

/// NVRTC's version, `(major, minor)`; an error when NVRTC cannot be loaded.
pub fn nvrtc_version() -> Result<(i32, i32)> {
    if !nvrtc_present() {
        return Err(no_nvrtc());
    }
    let (mut major, mut minor) = (0, 0);
    // SAFETY: NVRTC is loadable (checked above); both pointers are valid for writes.
    let status = unsafe { cudarc::nvrtc::sys::nvrtcVersion(&mut major, &mut minor) };
    if status != cudarc::nvrtc::sys::nvrtcResult::NVRTC_SUCCESS {
        return Err(cuda_error(format!("nvrtcVersion failed: {status:?}")));
    }
    Ok((major, minor))
}

/// Compiles `kernel` to PTX text: from the PTX cache when it holds this (source, options,
/// NVRTC version), else with NVRTC (then cached). Errors name the kernel and carry NVRTC's
/// log; a cache that cannot be written is not an error.
pub fn compile(kernel: &KernelSource, options: &NvrtcOptions, cache: &PtxCache) -> Result<String> {
    let (major, minor) = nvrtc_version()?;
    let args = options.args();
    let key = fnv1a(&[
        kernel.source.as_bytes(),
        args.join(" ").as_bytes(),
        format!("nvrtc {major}.{minor}").as_bytes(),
    ]);
    if let Some(ptx) = cache.load(&kernel.name, key) {
        return Ok(ptx);
    }
    let opts = CompileOptions {
        options: args,
        name: Some(format!("{}.cu", kernel.name)),
        ..Default::default()
    };
    let ptx = compile_ptx_with_opts(&kernel.source, opts)
        .map_err(|e| compile_error(&kernel.name, e))?
        .to_src();
    cache.store(&kernel.name, key, &ptx);
    Ok(ptx)
}

/// The error of a failed compilation, naming the kernel, with NVRTC's log.
fn compile_error(name: &str, e: CompileError) -> hyv_runtime::Error {
    match e {
        CompileError::CompileError {
            nvrtc,
            options,
            log,
        } => cuda_error(format!(
            "NVRTC could not compile kernel `{name}` ({nvrtc:?}, options {}):\n{}",
            options.join(" "),
            log.to_string_lossy().trim_end()
        )),
        other => cuda_error(format!("NVRTC failed on kernel `{name}`: {other:?}")),
    }
}
