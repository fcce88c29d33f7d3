//! The HunyuanVideo diffusion transformer, mirroring diffusers'
//! `HunyuanVideoTransformer3DModel` (reference/hunyuanvideo_spec.md §1): struct and field
//! names follow diffusers so parameter paths equal the checkpoint keys.
//!
//! ```text
//! let cfg = TransformerConfig::from_json_file("transformer/config.json")?;
//! let model = HunyuanVideoTransformer3DModel::new(cfg, TransformerOptions::default())?;
//! let out = runner.run(&model, &weights, &inputs)?; // inputs named by `input_names`
//! ```

mod attention;
mod block_model;
mod blocks;
mod config;
mod embeddings;
mod parts;
mod refiner;
mod transformer;

pub use block_model::{BlockKind, BlockModel, BLOCK_KINDS};
pub use config::{TransformerConfig, PRESETS};
pub use parts::{
    prelude_input_names, select_weights, TransformerHead, TransformerPrelude, HEAD_INPUT_NAMES,
    PRELUDE_OUTPUT_NAMES,
};
pub use transformer::{
    input_names, input_types, output_names, HunyuanVideoTransformer3DModel, TransformerOptions,
    INPUT_NAMES, INTERMEDIATE_NAMES, RESIDUAL_NAME,
};
