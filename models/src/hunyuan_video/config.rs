//! `TransformerConfig`: the fields of diffusers' `HunyuanVideoTransformer3DModel` config
//! (`config.json`), with diffusers' defaults, validation and named presets.

use crate::diffusers_config;
use hyv_frontend::{Error, Result};
use serde::Deserialize;
use std::path::Path;

/// The configuration of [`super::HunyuanVideoTransformer3DModel`], field for field as in
/// diffusers' `config.json` (unknown keys such as `_class_name` are ignored; missing keys
/// take diffusers' defaults).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default)]
pub struct TransformerConfig {
    /// Latent channels in.
    pub in_channels: usize,
    /// Latent channels out.
    pub out_channels: usize,
    /// Attention heads.
    pub num_attention_heads: usize,
    /// Channels per head.
    pub attention_head_dim: usize,
    /// Dual-stream blocks (`transformer_blocks`).
    pub num_layers: usize,
    /// Single-stream blocks (`single_transformer_blocks`).
    pub num_single_layers: usize,
    /// Token-refiner blocks.
    pub num_refiner_layers: usize,
    /// Feed-forward width over model width.
    pub mlp_ratio: f64,
    /// Spatial patch size.
    pub patch_size: usize,
    /// Temporal patch size.
    pub patch_size_t: usize,
    /// Query/key normalisation; only `"rms_norm"` is supported.
    pub qk_norm: String,
    /// Whether a guidance embedder exists (and `guidance` is an input).
    pub guidance_embeds: bool,
    /// Width of the text-encoder hidden states.
    pub text_embed_dim: usize,
    /// Width of the pooled (CLIP) text projection.
    pub pooled_projection_dim: usize,
    /// Rotary base.
    pub rope_theta: f64,
    /// Rotary channels per axis (t, h, w); they sum to `attention_head_dim`.
    pub rope_axes_dim: Vec<usize>,
    /// Image conditioning of the I2V variants; only `None` (text-to-video) is supported.
    pub image_condition_type: Option<String>,
}

impl Default for TransformerConfig {
    /// diffusers' defaults (the released 13B model).
    fn default() -> Self {
        TransformerConfig {
            in_channels: 16,
            out_channels: 16,
            num_attention_heads: 24,
            attention_head_dim: 128,
            num_layers: 20,
            num_single_layers: 40,
            num_refiner_layers: 2,
            mlp_ratio: 4.0,
            patch_size: 2,
            patch_size_t: 1,
            qk_norm: "rms_norm".into(),
            guidance_embeds: true,
            text_embed_dim: 4096,
            pooled_projection_dim: 768,
            rope_theta: 256.0,
            rope_axes_dim: vec![16, 56, 56],
            image_condition_type: None,
        }
    }
}

/// Names accepted by [`TransformerConfig::preset`].
pub const PRESETS: &[&str] = &["hunyuan-video-13b", "tiny", "small"];

impl TransformerConfig {
    /// Parses a diffusers `config.json` text and validates it.
    pub fn from_json_str(text: &str) -> Result<Self> {
        diffusers_config::parse(text, "config", "transformer", Self::validate)
    }

    /// Reads and validates a diffusers `config.json` file.
    pub fn from_json_file(path: impl AsRef<Path>) -> Result<Self> {
        diffusers_config::read(path.as_ref(), "transformer", Self::validate)
    }

    /// A named preset (see [`PRESETS`]): `hunyuan-video-13b` (the released T2V model),
    /// `tiny` (diffusers' test config) or `small` (a CPU benchmark config).
    pub fn preset(name: &str) -> Result<Self> {
        let base = TransformerConfig::default();
        let cfg = match name {
            "hunyuan-video-13b" => base,
            "tiny" => TransformerConfig {
                in_channels: 4,
                out_channels: 4,
                num_attention_heads: 2,
                attention_head_dim: 10,
                num_layers: 1,
                num_single_layers: 1,
                num_refiner_layers: 1,
                patch_size: 1,
                patch_size_t: 1,
                text_embed_dim: 16,
                pooled_projection_dim: 8,
                rope_axes_dim: vec![2, 4, 4],
                ..base
            },
            "small" => TransformerConfig {
                num_attention_heads: 8,
                attention_head_dim: 64,
                num_layers: 2,
                num_single_layers: 4,
                num_refiner_layers: 2,
                text_embed_dim: 512,
                pooled_projection_dim: 256,
                rope_axes_dim: vec![16, 24, 24],
                ..base
            },
            _ => {
                return Err(Error::Usage(format!(
                    "unknown transformer preset `{name}` (expected one of {})",
                    PRESETS.join(", ")
                )))
            }
        };
        Ok(cfg)
    }

    /// The default latent input `(frames, height, width)` and text length of a preset:
    /// 13B 33×68×120 (544×960, 129 frames) with 256 tokens, `small` 5×32×32 with 64
    /// tokens, `tiny` 1×16×16 with 12 tokens.
    pub fn preset_input(name: &str) -> Result<((usize, usize, usize), usize)> {
        match name {
            "hunyuan-video-13b" => Ok(((33, 68, 120), 256)),
            "tiny" => Ok(((1, 16, 16), 12)),
            "small" => Ok(((5, 32, 32), 64)),
            _ => Err(Error::Usage(format!(
                "unknown transformer preset `{name}` (expected one of {})",
                PRESETS.join(", ")
            ))),
        }
    }

    /// Model width: heads × head size.
    pub fn inner_dim(&self) -> usize {
        self.num_attention_heads * self.attention_head_dim
    }

    /// Hidden width of the feed-forwards, `int(inner_dim * mlp_ratio)` as diffusers.
    pub fn mlp_dim(&self) -> usize {
        (self.inner_dim() as f64 * self.mlp_ratio) as usize
    }

    /// Checks the fields the model relies on; the error names the field.
    pub fn validate(&self) -> std::result::Result<(), String> {
        let positive = [
            ("in_channels", self.in_channels),
            ("out_channels", self.out_channels),
            ("num_attention_heads", self.num_attention_heads),
            ("attention_head_dim", self.attention_head_dim),
            ("patch_size", self.patch_size),
            ("patch_size_t", self.patch_size_t),
            ("text_embed_dim", self.text_embed_dim),
            ("pooled_projection_dim", self.pooled_projection_dim),
        ];
        for (field, value) in positive {
            if value == 0 {
                return Err(format!("field `{field}` must be positive, got 0"));
            }
        }
        if !(self.mlp_ratio.is_finite() && self.mlp_ratio > 0.0) || self.mlp_dim() == 0 {
            return Err(format!(
                "field `mlp_ratio` must be positive, got {}",
                self.mlp_ratio
            ));
        }
        if !(self.rope_theta.is_finite() && self.rope_theta > 0.0) {
            return Err(format!(
                "field `rope_theta` must be positive, got {}",
                self.rope_theta
            ));
        }
        if self.qk_norm != "rms_norm" {
            return Err(format!(
                "field `qk_norm`: only \"rms_norm\" is supported, got {:?}",
                self.qk_norm
            ));
        }
        if let Some(kind) = &self.image_condition_type {
            return Err(format!(
                "field `image_condition_type`: only null (text-to-video) is supported, got {kind:?}"
            ));
        }
        if self.rope_axes_dim.len() != 3 || self.rope_axes_dim.iter().any(|d| d % 2 != 0) {
            return Err(format!(
                "field `rope_axes_dim` must hold 3 even sizes (t, h, w), got {:?}",
                self.rope_axes_dim
            ));
        }
        let sum: usize = self.rope_axes_dim.iter().sum();
        if sum != self.attention_head_dim {
            return Err(format!(
                "field `rope_axes_dim` {:?} sums to {sum}, but `attention_head_dim` is {}",
                self.rope_axes_dim, self.attention_head_dim
            ));
        }
        Ok(())
    }
}
