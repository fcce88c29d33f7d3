//! `hyv-backend-cuda`: hyv's CUDA backend, loaded at run time.
//!
//! cudarc with dynamic loading: the crate builds with no CUDA installed, and
//! [`CudaBackend::new`] checks for the driver (`libcuda.so`) and NVRTC (`libnvrtc.so.13`)
//! before any use and returns an error, never cudarc's panic, when either is missing.
//!
//! * [`codegen`]: CUDA C generation. Every fused program (`hyv_passes::fused`, shared with
//!   the CPU backend) becomes one `extern "C" __global__` kernel: a grid-stride
//!   elementwise kernel with 8-wide vector loads and stores where the sizes allow, or a
//!   block-per-row reduction; eager elementwise ops and reductions go through the same
//!   generator as one-op programs. A SIMT flash-attention kernel (online softmax over
//!   tiles of keys, f32 accumulation, key mask, causal) covers attention.
//! * [`nvrtc`]: compilation to PTX with NVRTC (arch `sm_90` unless `HYV_CUDA_ARCH`),
//!   cached on disk by [`ptx_cache::PtxCache`].
//! * [`CudaBackend`] / [`CudaExecutable`]: device tensors, kernel launches, eager and
//!   graph mode. **Not yet verified on a GPU**: only the code generation and its
//!   compilation to PTX are tested on machines without one (`tests/ptx.rs`). Matmul runs
//!   on cuBLAS (cuBLASLt epilogues are future work), convolution as im2col + GEMM;
//!   eager composites run as their fused decompositions
//!   ([`missing_kernels`] lists what a graph lacks).

mod backend;
pub mod codegen;
mod composite;
mod conv;
mod device;
mod error;
mod executable;
mod kernels;
mod matmul;
pub mod nvrtc;
pub mod ptx_cache;
pub mod testing;

pub use backend::claims_composite;
pub use backend::CudaBackend;
pub use composite::composite_graph;
pub use device::CudaBuffer;
pub use error::{driver_present, nvrtc_present};
pub use executable::{missing_eager_kernels, missing_kernels, CudaExecutable};
