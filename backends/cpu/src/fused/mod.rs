//! Fused kernels: one kernel per fusion group (see `hyv_passes::Fuse`).
//!
//! When a graph is compiled, each group becomes a [`FusedProgram`]: the group's elementwise
//! ops in node order as register instructions over the group's iteration space, its
//! reshapes and broadcasts folded into strided loads of the outside operands, and a tail
//! that stores the result or reduces each row. Running one evaluates chunks of a few
//! thousand elements in parallel with a chunk-sized buffer per register, so no intermediate
//! tensor is ever materialised. f16/bf16 values are loaded exactly into f32 and every
//! 16-bit node rounds its result as the eager kernels do, with the same scalar functions,
//! so fused and eager results agree bit for bit. A group this backend cannot express (e.g.
//! integer values, a reshape of a broadcast) runs node by node instead.

mod eval;
mod program;

pub use program::{build, FusedProgram};
