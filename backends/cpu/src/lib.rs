//! `hyv-backend-cpu`: hyv's CPU backend.
//!
//! * Contractions run on the `gemm` crate with its AVX-512 kernels (feature `x86-v4`):
//!   `matmul`, `linear` and `conv` (im2col in bands of output positions + gemm).
//! * `attention` is a tiled online-softmax kernel that never materialises the score matrix.
//! * Every other op is a parallel Rust loop over contiguous buffers; data movement shares
//!   one strided-gather kernel.
//! * Floats compute in f32 (f16/bf16 widened exactly, rounded once when stored); sums,
//!   norm statistics and softmax denominators accumulate in f64.
//! * Threads: rayon, the global pool or one of the backend's own.
//!
//! Eager mode ([`hyv_runtime::Backend::execute`]) and compiled graphs ([`CpuExecutable`])
//! share the kernels. In graph mode the fusion pass runs first and every fusion group
//! becomes one fused kernel (module `fused`): compiled to f32x4 native code by the
//! Cranelift [`jit`] when it can express the group, else an interpreted expression program
//! over chunks (`HYV_CPU_JIT=0` or [`CpuBackend::with_jit`] interprets every group). A
//! memory arena is future work.

mod backend;
mod executable;
mod fused;
pub mod jit;
mod kernels;
mod tensor;

pub use backend::CpuBackend;
pub use executable::CpuExecutable;
