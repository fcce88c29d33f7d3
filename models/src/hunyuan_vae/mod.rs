//! The HunyuanVideo causal 3-D VAE, mirroring diffusers' `AutoencoderKLHunyuanVideo`
//! (reference/hunyuanvideo_spec.md §2), untiled: struct and field names follow diffusers so
//! parameter paths equal the checkpoint keys (`encoder.down_blocks.0.resnets.0.conv1.conv.weight`,
//! `quant_conv.weight`, ...).
//!
//! The encoder and the decoder are separate [`hyv_frontend::Model`]s (one input, one output
//! each) that both load from one full VAE checkpoint:
//!
//! ```text
//! let cfg = VaeConfig::from_json_file("vae/config.json")?;
//! let encoder = HunyuanVideoVaeEncoder::new(cfg.clone(), VaeOptions::default())?;
//! let weights = HunyuanVideoVaeEncoder::weights(WeightStore::open("vae/diffusion_pytorch_model.safetensors")?);
//! let moments = runner.run(&encoder, &weights, &[("sample".into(), video)])?.outputs.remove(0);
//! let latent = DiagonalGaussian::from_moments(&moments)?.mode(); // × scaling_factor for the DiT
//! ```

mod autoencoder;
mod blocks;
mod causal_conv;
mod config;
mod decoder;
mod encoder;
mod mid_block;
mod norm;
mod posterior;
mod resnet;
mod sampling;
pub mod tiling;

pub use autoencoder::{HunyuanVideoVaeDecoder, HunyuanVideoVaeEncoder, VaeOptions};
pub use config::{VaeConfig, VAE_PRESETS};
pub use posterior::DiagonalGaussian;
