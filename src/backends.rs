//! The backends this build of hyv offers, chosen by name with `--backend`.

use anyhow::{bail, Result};
use hyv_backend_cpu::CpuBackend;
use hyv_backend_reference::ReferenceBackend;
use hyv_runtime::Backend;
use std::sync::Arc;

/// Names accepted by `--backend`: `reference` (the oracle interpreter),
/// `reference-primitives` (the same, but graph mode decomposes every composite op), `cpu`
/// (gemm contractions, tiled attention, parallel kernels) and, in builds with the `cuda`
/// feature, `cuda` (device 0; `cuda:N` picks device N).
pub const BACKEND_NAMES: &[&str] = &[
    "reference",
    "reference-primitives",
    "cpu",
    #[cfg(feature = "cuda")]
    "cuda",
];

/// The backend called `name`.
pub fn backend_by_name(name: &str) -> Result<Arc<dyn Backend>> {
    match name {
        "reference" => Ok(Arc::new(ReferenceBackend::new())),
        "reference-primitives" => Ok(Arc::new(ReferenceBackend::primitives_only())),
        "cpu" => Ok(Arc::new(CpuBackend::new())),
        #[cfg(feature = "cuda")]
        cuda if cuda == "cuda" || cuda.starts_with("cuda:") => {
            let device = match cuda.strip_prefix("cuda:") {
                None => 0,
                Some(n) => n.parse().map_err(|_| {
                    anyhow::anyhow!("bad CUDA device `{n}` in `{cuda}` (expected cuda:N)")
                })?,
            };
            Ok(Arc::new(hyv_backend_cuda::CudaBackend::new(device)?))
        }
        other => bail!(
            "unknown backend `{other}` (this build has: {})",
            BACKEND_NAMES.join(", ")
        ),
    }
}

/// The backend called `name` computing on `threads` worker threads where it has a thread
/// pool of its own (`cpu`; 0: one per core), with the number of threads it really uses
/// (1 for the single-threaded reference interpreter).
pub fn backend_with_threads(name: &str, threads: usize) -> Result<(Arc<dyn Backend>, usize)> {
    match name {
        "cpu" => {
            let cpu = CpuBackend::with_threads(threads)?;
            let used = cpu.threads();
            Ok((Arc::new(cpu), used))
        }
        other => Ok((backend_by_name(other)?, 1)),
    }
}
