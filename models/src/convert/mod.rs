//! Conversions of official (Tencent) HunyuanVideo checkpoints to the diffusers layout that
//! hyv loads.

mod transformer;

pub use transformer::convert_transformer;
