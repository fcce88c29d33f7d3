//! `hyv-backend-cpu`: hyv's CPU backend.
//!
//! * Contractions (`matmul`, `linear`, `conv` as im2col in bands of output positions + a
//!   product) run on the backend's own blocked sgemm on AVX2 + FMA CPUs and on the `gemm`
//!   crate's AVX-512 kernels elsewhere (`kernels::gemm`).
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
//! over chunks (`HYV_CPU_JIT=0` or [`CpuBackend::with_jit`] interprets every group).
//! Values are freed after their last use and, within a run, their f32 buffers reused by
//! later kernels (module `pool`).

mod backend;
mod executable;
mod fused;
pub mod jit;
mod kernels;
mod pool;
mod tensor;

pub use backend::CpuBackend;
pub use executable::CpuExecutable;
