//! A Cranelift JIT for elementwise expression kernels (the code fused elementwise groups
//! lower to).
//!
//! * [`program`]: the input, an SSA expression [`Program`] over N inputs and M outputs
//!   (f32/f16/bf16; contiguous, broadcast-scalar or strided inputs).
//! * [`reference`](mod@reference): the scalar interpreter that defines the semantics (and the fallback).
//! * `codegen`: the kernel `fn(inputs, outputs, start, end)` as Cranelift IR, an f32x4 loop
//!   and a one-element tail (the x64 backend rejects wider vectors).
//! * `math`: vectorised exp, log, tanh, erf, sin, cos, pow and the activations built on
//!   them, with their measured error bounds; `convert`: f16/bf16 ↔ f32 in integer SIMD;
//!   `simd`: IR building blocks.
//! * [`JitCompiler`] / [`JitKernel`]: compile (cached per program) and run, serially or
//!   over rayon.
//!
//! The generated IR passes Cranelift's verifier before code generation, on every compile.

mod codegen;
mod convert;
mod kernel;
mod math;
pub mod program;
pub mod reference;
mod simd;

pub use kernel::{JitCompiler, JitKernel};
pub use program::{Access, BinaryFn, CmpFn, ElemType, Input, Inst, Output, Program, UnaryFn};
