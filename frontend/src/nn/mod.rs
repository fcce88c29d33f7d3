//! Building blocks named like their torch counterparts, so parameter paths match
//! checkpoint keys (`<path>.weight`, `<path>.bias`).

mod conv;
mod embedding;
mod linear;
mod norm;

pub use conv::Conv;
pub use embedding::Embedding;
pub use linear::Linear;
pub use norm::{GroupNorm, LayerNorm, RmsNorm};
