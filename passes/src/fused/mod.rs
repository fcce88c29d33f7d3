//! Fused programs: the backend-neutral form of a fusion group (see [`crate::Fuse`]), shared
//! by every backend that runs groups as single kernels.
//!
//! * [`FusedProgram`] (module `program`): a group's elementwise ops in node order as
//!   register instructions over the group's iteration space, its reshapes and broadcasts
//!   folded into strided loads ([`InputAccess`]) of the outside operands, and a [`Tail`]
//!   that stores the result or reduces each row. [`build`] makes one from a group.
//! * [`plan`] (module `groups`): a compiled graph's steps, a fused program for every group
//!   that can be one and a plain node for everything else.
//! * [`single_op`] (module `single`): the one-op program of an eager elementwise op, row
//!   reduction, broadcast or permute, so that a backend generates its eager kernels with
//!   its fused-kernel code; [`one_op_graph`], the graph of one op (for a backend that runs
//!   an eager composite as its compiled decomposition).
//!
//! The CPU backend interprets and JIT-compiles these programs; the CUDA backend generates
//! CUDA C from them.

mod groups;
mod program;
mod single;

pub use groups::{plan, Step};
pub use program::{build, FusedProgram, InputAccess, Instr, Reg, Tail};
pub use single::{one_op_graph, single_op};
