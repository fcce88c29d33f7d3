//! Tensor ops, one family per file. Every op returns `Result<Tensor>`; errors name the op,
//! the module path and the operand types.

mod broadcast;
mod elementwise;
mod linalg;
mod nn;
mod reduce;
mod shape;
mod sources;

pub use nn::{AttentionOptions, ConvOptions};
pub use shape::{concat, ReshapeDims};
pub use sources::randn_host;
