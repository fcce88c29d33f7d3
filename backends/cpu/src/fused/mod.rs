//! Fused kernels: one kernel per fusion group (see `hyv_passes::Fuse`).
//!
//! When a graph is compiled, each group becomes a
//! [`FusedProgram`](hyv_passes::fused::FusedProgram) (`hyv_passes::fused`,
//! shared with the other backends that fuse): the group's elementwise
//! ops in node order as register instructions over the group's iteration space, its
//! reshapes and broadcasts folded into strided loads of the outside operands, and a tail
//! that stores the result or reduces each row. A group the backend cannot express (e.g.
//! integer values, a reshape of a broadcast) runs node by node instead.
//!
//! A program runs one of two ways:
//!
//! * JIT-compiled (module `native`, through `lower`): a store-tail program whose reads and
//!   instructions the Cranelift JIT ([`crate::jit`]) expresses becomes one native f32x4
//!   kernel, compiled when the graph is. Its exp/log/tanh/erf/sin/cos are polynomial
//!   approximations (a few ulp, see the JIT's `math`), so results are close to, not bit
//!   identical with, the eager kernels'. A 16-bit node inside the chain rounds its value in
//!   registers (round to nearest even, exactly as a store would).
//! * Interpreted (module `eval`; row reductions, bool values, multi-axis broadcasts, or
//!   with the JIT disabled, see
//!   [`CpuBackend::with_jit`](crate::CpuBackend::with_jit)): chunks of a few thousand
//!   elements in parallel with a chunk-sized buffer per register, so no intermediate tensor
//!   is ever materialised. f16/bf16 values are loaded exactly into f32 and every 16-bit
//!   node rounds its result as the eager kernels do, with the same scalar functions, so
//!   interpreted and eager results agree bit for bit.

pub mod eval;
mod lower;
pub mod native;

pub use hyv_passes::fused::{plan, Step};
