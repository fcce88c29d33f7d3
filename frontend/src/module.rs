//! The `Module` trait for blocks with one tensor in and one out.

use crate::{Result, Tensor};

/// A building block with a single-tensor forward, like `torch.nn.Module.forward(x)`.
///
/// A module is constructed from a [`crate::Params`] sub-tree (declaring its parameters under
/// that path) and remembers the path. Its `forward` enters that path as the module scope
/// (`let _scope = x.ctx().enter(&self.path);`), so every node it creates is attributed to
/// it, in eager and graph mode alike. Blocks with several inputs or outputs follow the same
/// pattern with their own `forward` signature.
pub trait Module {
    /// Runs the module on `x`.
    fn forward(&self, x: &Tensor) -> Result<Tensor>;
}
