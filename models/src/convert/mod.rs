//! Conversions of official (Tencent) HunyuanVideo checkpoints to the diffusers layout that
//! hyv loads.

mod transformer;
mod vae;

pub use transformer::convert_transformer;
pub use vae::convert_vae;
