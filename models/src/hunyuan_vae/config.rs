//! `VaeConfig`: the fields of diffusers' `AutoencoderKLHunyuanVideo` config (`config.json`),
//! with diffusers' defaults, validation, named presets and the frame/space mapping.

use crate::diffusers_config;
use hyv_frontend::{Error, Result};
use serde::Deserialize;
use std::path::Path;

/// The only down-block type diffusers' HunyuanVideo encoder accepts.
const DOWN_BLOCK: &str = "HunyuanVideoDownBlock3D";
/// The only up-block type diffusers' HunyuanVideo decoder accepts.
const UP_BLOCK: &str = "HunyuanVideoUpBlock3D";

/// The configuration of the HunyuanVideo VAE ([`super::HunyuanVideoVaeEncoder`],
/// [`super::HunyuanVideoVaeDecoder`]), field for field as in diffusers' `config.json` (unknown
/// keys such as `_class_name` are ignored; missing keys take diffusers' defaults, the
/// released "884-16c-hy" VAE).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default)]
pub struct VaeConfig {
    /// Video channels into the encoder.
    pub in_channels: usize,
    /// Video channels out of the decoder.
    pub out_channels: usize,
    /// Latent channels (the encoder emits twice as many: mean and log-variance).
    pub latent_channels: usize,
    /// One `"HunyuanVideoDownBlock3D"` per entry of `block_out_channels`.
    pub down_block_types: Vec<String>,
    /// One `"HunyuanVideoUpBlock3D"` per entry of `block_out_channels`.
    pub up_block_types: Vec<String>,
    /// Channels of each encoder block (the decoder uses them reversed).
    pub block_out_channels: Vec<usize>,
    /// ResNet blocks per encoder block (the decoder's up blocks have one more).
    pub layers_per_block: usize,
    /// Activation; `"silu"` (or its alias `"swish"`) is supported.
    pub act_fn: String,
    /// Groups of every GroupNorm (divides every entry of `block_out_channels`).
    pub norm_num_groups: usize,
    /// Latent scale: pipelines encode to `mean · scaling_factor` and decode
    /// `latent / scaling_factor`.
    pub scaling_factor: f64,
    /// Pixels per latent pixel along height and width (a power of two).
    pub spatial_compression_ratio: usize,
    /// Frames per latent frame after the first (only 4 is supported, as in diffusers'
    /// decoder).
    pub temporal_compression_ratio: usize,
    /// Whether the mid blocks have their frame-causal self-attention.
    pub mid_block_add_attention: bool,
}

impl Default for VaeConfig {
    /// diffusers' defaults (the released HunyuanVideo VAE, reference/hunyuanvideo_spec.md §2.1).
    fn default() -> Self {
        VaeConfig {
            in_channels: 3,
            out_channels: 3,
            latent_channels: 16,
            down_block_types: vec![DOWN_BLOCK.into(); 4],
            up_block_types: vec![UP_BLOCK.into(); 4],
            block_out_channels: vec![128, 256, 512, 512],
            layers_per_block: 2,
            act_fn: "silu".into(),
            norm_num_groups: 32,
            scaling_factor: 0.476986,
            spatial_compression_ratio: 8,
            temporal_compression_ratio: 4,
            mid_block_add_attention: true,
        }
    }
}

/// Names accepted by [`VaeConfig::preset`].
pub const VAE_PRESETS: &[&str] = &["hunyuan-video", "tiny", "small"];

impl VaeConfig {
    /// Parses a diffusers `config.json` text and validates it.
    pub fn from_json_str(text: &str) -> Result<Self> {
        diffusers_config::parse(text, "config", "VAE", Self::validate)
    }

    /// Reads and validates a diffusers `config.json` file of `AutoencoderKLHunyuanVideo`.
    pub fn from_json_file(path: impl AsRef<Path>) -> Result<Self> {
        diffusers_config::read(path.as_ref(), "VAE", Self::validate)
    }

    /// A named preset (see [`VAE_PRESETS`]):
    /// * `hunyuan-video` — the released VAE (channels 128/256/512/512, 2 resnets per block,
    ///   32 norm groups, 16 latent channels; 100.3M encoder + 146.1M decoder parameters);
    /// * `tiny` — diffusers' test config (channels 8 ×4, 1 resnet per block, 4 groups, 4
    ///   latent channels; 29k + 42k parameters);
    /// * `small` — a CPU demo config (channels 32/32/64/64, 1 resnet per block, 8 groups, 16
    ///   latent channels, as the DiT presets take; 1.19M + 1.88M parameters, about 1/50 of
    ///   the released VAE's compute per pixel).
    pub fn preset(name: &str) -> Result<Self> {
        let base = VaeConfig::default();
        let cfg = match name {
            "hunyuan-video" => base,
            "tiny" => VaeConfig {
                latent_channels: 4,
                block_out_channels: vec![8; 4],
                layers_per_block: 1,
                norm_num_groups: 4,
                ..base
            },
            "small" => VaeConfig {
                block_out_channels: vec![32, 32, 64, 64],
                layers_per_block: 1,
                norm_num_groups: 8,
                ..base
            },
            _ => {
                return Err(Error::Usage(format!(
                    "unknown VAE preset `{name}` (expected one of {})",
                    VAE_PRESETS.join(", ")
                )))
            }
        };
        Ok(cfg)
    }

    /// Checks the fields the model relies on (what diffusers' constructor accepts and gives a
    /// consistent compression); the error names the field.
    pub fn validate(&self) -> std::result::Result<(), String> {
        let positive = [
            ("in_channels", self.in_channels),
            ("out_channels", self.out_channels),
            ("latent_channels", self.latent_channels),
            ("layers_per_block", self.layers_per_block),
            ("norm_num_groups", self.norm_num_groups),
        ];
        for (field, value) in positive {
            if value == 0 {
                return Err(format!("field `{field}` must be positive, got 0"));
            }
        }
        let blocks = self.block_out_channels.len();
        if blocks == 0 || self.block_out_channels.contains(&0) {
            return Err(format!(
                "field `block_out_channels` must hold positive channel counts, got {:?}",
                self.block_out_channels
            ));
        }
        if let Some(&c) = self
            .block_out_channels
            .iter()
            .find(|&&c| !c.is_multiple_of(self.norm_num_groups))
        {
            return Err(format!(
                "field `norm_num_groups` ({}) must divide every entry of `block_out_channels`, \
                 but not {c}",
                self.norm_num_groups
            ));
        }
        for (field, types, want) in [
            ("down_block_types", &self.down_block_types, DOWN_BLOCK),
            ("up_block_types", &self.up_block_types, UP_BLOCK),
        ] {
            if types.len() != blocks || types.iter().any(|t| t != want) {
                return Err(format!(
                    "field `{field}` must be {blocks} × {want:?} (one per `block_out_channels` \
                     entry), got {types:?}"
                ));
            }
        }
        if !matches!(self.act_fn.as_str(), "silu" | "swish") {
            return Err(format!(
                "field `act_fn`: only \"silu\" is supported, got {:?}",
                self.act_fn
            ));
        }
        if !(self.scaling_factor.is_finite() && self.scaling_factor > 0.0) {
            return Err(format!(
                "field `scaling_factor` must be positive, got {}",
                self.scaling_factor
            ));
        }
        if self.temporal_compression_ratio != 4 {
            return Err(format!(
                "field `temporal_compression_ratio`: only 4 is supported (as in diffusers' \
                 decoder), got {}",
                self.temporal_compression_ratio
            ));
        }
        let sr = self.spatial_compression_ratio;
        if !sr.is_power_of_two() || sr.trailing_zeros() as usize > blocks {
            return Err(format!(
                "field `spatial_compression_ratio` must be a power of two of at most 2^{blocks} \
                 (one ×2 per block), got {sr}"
            ));
        }
        if blocks < 3 {
            return Err(format!(
                "field `block_out_channels`: a temporal ratio of 4 needs at least 3 blocks, got \
                 {blocks}"
            ));
        }
        Ok(())
    }

    /// The resampling factors `[t, h, w]` (1 or 2) of block `i`: the strides of encoder down
    /// block `i` and the upsampling factors of decoder up block `i` (diffusers' rule for
    /// temporal ratio 4: space for the first log2(spatial ratio) blocks, time for the two
    /// blocks before the last). `None` when the block does not resample.
    pub(crate) fn resampling(&self, i: usize) -> Option<[usize; 3]> {
        let blocks = self.block_out_channels.len();
        let spatial_layers = self.spatial_compression_ratio.trailing_zeros() as usize;
        let time_layers = self.temporal_compression_ratio.trailing_zeros() as usize;
        let space = i < spatial_layers;
        let time = i + 1 + time_layers >= blocks && i + 1 != blocks;
        let f = |on: bool| if on { 2 } else { 1 };
        (space || time).then(|| [f(time), f(space), f(space)])
    }

    /// The latent extents `[frames, height, width]` of a video of `t` frames of `h`×`w`
    /// pixels: `[(t−1)/4 + 1, h/8, w/8]` for the released ratios. Errors say what is expected
    /// when `t` is not `4k+1` or `h`, `w` are not multiples of the spatial ratio.
    pub fn latent_dims(&self, t: usize, h: usize, w: usize) -> Result<[usize; 3]> {
        let (tr, sr) = (
            self.temporal_compression_ratio,
            self.spatial_compression_ratio,
        );
        if t == 0 || !(t - 1).is_multiple_of(tr) {
            let below = t.saturating_sub(1) / tr * tr + 1;
            let above = below + tr;
            let hint = if t == 0 {
                "try 1".to_string()
            } else {
                format!("try {below} or {above}")
            };
            return Err(Error::Usage(format!(
                "frame count {t} is not {tr}k+1 ({hint})"
            )));
        }
        for (what, v) in [("height", h), ("width", w)] {
            if v == 0 || !v.is_multiple_of(sr) {
                let below = v / sr * sr;
                let hint = if below == 0 {
                    format!("try {sr}")
                } else {
                    format!("try {below} or {}", below + sr)
                };
                return Err(Error::Usage(format!(
                    "{what} {v} is not a positive multiple of {sr} ({hint})"
                )));
            }
        }
        Ok([(t - 1) / tr + 1, h / sr, w / sr])
    }

    /// The video extents `[frames, height, width]` the decoder makes from a latent of `tl`
    /// frames of `hl`×`wl`: `[(tl−1)·4 + 1, hl·8, wl·8]` for the released ratios.
    pub fn sample_dims(&self, tl: usize, hl: usize, wl: usize) -> [usize; 3] {
        let (tr, sr) = (
            self.temporal_compression_ratio,
            self.spatial_compression_ratio,
        );
        [tl.saturating_sub(1) * tr + 1, hl * sr, wl * sr]
    }
}
