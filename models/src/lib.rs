//! `hyv-models`: model definitions written in the hyv DSL (`hyv-frontend`).
//!
//! [`examples`] holds small models that exercise the DSL end to end; [`example`] looks one
//! up by name for the command line (`hyv dump --example mlp`).

pub mod convert;
mod diffusers_config;
pub mod examples;
pub mod hunyuan_vae;
pub mod hunyuan_video;
pub mod pipeline;
pub mod sampling;
pub mod text_encoders;

pub use examples::{example, Example, EXAMPLE_NAMES};
