//! `hyv-ir`: the intermediate representation of hyv.
//!
//! A [`Graph`] is a typed SSA list of [`Node`]s in topological order. Each node applies an
//! [`Op`] to earlier nodes and carries its output [`TensorType`] (dtype + static shape) and
//! the module path of the model code that created it. [`infer`] computes output types,
//! [`verify`] checks a whole graph, and [`text`], [`dot`] and [`ron_format`] dump graphs
//! (the text format parses back to an identical graph).

mod atomic_file;
pub mod dot;
mod dtype;
mod error;
mod graph;
mod host_tensor;
pub mod infer;
mod liveness;
mod op;
pub mod random;
pub mod ron_format;
mod shape;
mod stats;
#[cfg(feature = "testing")]
pub mod testing;
pub mod text;
mod verify;

pub use atomic_file::write_atomic;
pub use dtype::DType;
pub use error::IrError;
pub use graph::{Graph, Node, NodeId};
pub use host_tensor::{HostTensor, TensorData};
pub use liveness::{peak_activation_bytes, peak_scheduled_bytes};
pub use op::{BinaryOp, CmpOp, CommGroup, Op, PadMode, ReduceOp, UnaryOp, F64};
pub use shape::{Shape, TensorType};
pub use stats::{flops, GraphStats};
pub use verify::verify;
