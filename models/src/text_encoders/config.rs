//! [`LlamaConfig`] and [`ClipTextConfig`]: the fields of transformers' `config.json` the text
//! encoders use, with transformers' defaults and errors that name the file and the field.

use super::activation::Activation;
use super::json::{parse_object, read_object, Fields};
use hyv_frontend::Result;
use serde_json::Value;
use std::path::Path;

/// Rotary frequency scaling (`rope_scaling` in transformers 4.x configs, `rope_parameters`
/// in 5.x).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RopeScaling {
    /// `rope_type: "default"` (or no scaling): `inv_freq_i = θ^(-2i/d)`.
    None,
    /// `rope_type: "llama3"` (Llama 3.1 and later): long wavelengths divided by `factor`,
    /// a smooth blend between `low_freq_factor` and `high_freq_factor`.
    Llama3 {
        /// Divisor of the low frequencies.
        factor: f64,
        /// Wavelengths above `original_max_position_embeddings / low_freq_factor` are scaled.
        low_freq_factor: f64,
        /// Wavelengths below `original_max_position_embeddings / high_freq_factor` are kept.
        high_freq_factor: f64,
        /// The context length the model was pre-trained with.
        original_max_position_embeddings: f64,
    },
}

/// The configuration of transformers' `LlamaModel` (`config.json`), as
/// [`super::LlamaTextEncoder`] needs it. Missing keys take `LlamaConfig`'s defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct LlamaConfig {
    /// Vocabulary size (rows of `embed_tokens`).
    pub vocab_size: usize,
    /// Model width.
    pub hidden_size: usize,
    /// Feed-forward width.
    pub intermediate_size: usize,
    /// Decoder layers.
    pub num_hidden_layers: usize,
    /// Query heads.
    pub num_attention_heads: usize,
    /// Key/value heads (grouped-query attention when fewer than the query heads).
    pub num_key_value_heads: usize,
    /// Channels per head (`head_dim`, default `hidden_size / num_attention_heads`).
    pub head_dim: usize,
    /// `hidden_act` of the MLP.
    pub hidden_act: Activation,
    /// Longest supported sequence.
    pub max_position_embeddings: usize,
    /// Epsilon of the RMS norms.
    pub rms_norm_eps: f64,
    /// Rotary base θ.
    pub rope_theta: f64,
    /// Rotary frequency scaling.
    pub rope_scaling: RopeScaling,
    /// Whether `q/k/v/o_proj` have biases.
    pub attention_bias: bool,
    /// Whether `gate/up/down_proj` have biases.
    pub mlp_bias: bool,
}

impl LlamaConfig {
    /// Reads a transformers Llama `config.json`.
    pub fn from_json_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        Self::from_value(&read_object(path)?, &path.display().to_string())
    }

    /// Parses a transformers Llama `config.json` text.
    pub fn from_json_str(text: &str) -> Result<Self> {
        Self::from_value(&parse_object(text, "config")?, "config")
    }

    fn from_value(value: &Value, origin: &str) -> Result<Self> {
        let f = Fields::new(value, origin)?;
        let hidden_size = f.positive("hidden_size", 4096)?;
        let num_attention_heads = f.positive("num_attention_heads", 32)?;
        let num_key_value_heads = f.positive("num_key_value_heads", num_attention_heads)?;
        if num_attention_heads % num_key_value_heads != 0 {
            return Err(f.error(
                "num_key_value_heads",
                format!("{num_key_value_heads} does not divide num_attention_heads {num_attention_heads}"),
            ));
        }
        let head_dim = match f.opt_positive("head_dim")? {
            Some(d) => d,
            None if hidden_size % num_attention_heads == 0 => hidden_size / num_attention_heads,
            None => {
                return Err(f.error(
                    "num_attention_heads",
                    format!("{num_attention_heads} does not divide hidden_size {hidden_size} (and no head_dim is given)"),
                ))
            }
        };
        if head_dim % 2 != 0 {
            return Err(f.error(
                "head_dim",
                format!("must be even for rotary embedding, got {head_dim}"),
            ));
        }
        let act = f.string("hidden_act", "silu")?;
        let hidden_act = Activation::parse(&act).map_err(|e| f.error("hidden_act", e))?;
        let (rope_theta, rope_scaling) = rope(&f)?;
        Ok(LlamaConfig {
            vocab_size: f.positive("vocab_size", 32000)?,
            hidden_size,
            intermediate_size: f.positive("intermediate_size", 11008)?,
            num_hidden_layers: f.positive("num_hidden_layers", 32)?,
            num_attention_heads,
            num_key_value_heads,
            head_dim,
            hidden_act,
            max_position_embeddings: f.positive("max_position_embeddings", 2048)?,
            rms_norm_eps: f.positive_f64("rms_norm_eps", 1e-6)?,
            rope_theta,
            rope_scaling,
            attention_bias: f.bool("attention_bias", false)?,
            mlp_bias: f.bool("mlp_bias", false)?,
        })
    }
}

/// The rotary base and scaling: transformers 5.x `rope_parameters {rope_type, rope_theta,
/// ...}`, or 4.x top-level `rope_theta` plus `rope_scaling {rope_type | type, ...}`.
fn rope(f: &Fields) -> Result<(f64, RopeScaling)> {
    let (params, field) = match f.object("rope_parameters")? {
        Some(p) => (Some(p), "rope_parameters"),
        None => (f.object("rope_scaling")?, "rope_scaling"),
    };
    let theta = match params.as_ref().and_then(|p| p.get("rope_theta")) {
        Some(_) => params
            .as_ref()
            .expect("checked")
            .positive_f64("rope_theta", 10000.0)?,
        None => f.positive_f64("rope_theta", 10000.0)?,
    };
    let Some(p) = params else {
        return Ok((theta, RopeScaling::None));
    };
    let kind = match p.get("rope_type") {
        Some(_) => p.string("rope_type", "default")?,
        None => p.string("type", "default")?,
    };
    let scaling = match kind.as_str() {
        "default" => RopeScaling::None,
        "llama3" => {
            let need = |name: &str| {
                p.opt_positive_f64(name)?
                    .ok_or_else(|| p.error(name, "required by rope type \"llama3\""))
            };
            RopeScaling::Llama3 {
                factor: need("factor")?,
                low_freq_factor: need("low_freq_factor")?,
                high_freq_factor: need("high_freq_factor")?,
                original_max_position_embeddings: need("original_max_position_embeddings")?,
            }
        }
        other => {
            return Err(f.error(
                field,
                format!("unsupported rope type {other:?} (supported: \"default\", \"llama3\")"),
            ))
        }
    };
    Ok((theta, scaling))
}

/// The configuration of transformers' `CLIPTextModel` (`config.json` of a `CLIPTextConfig`,
/// or the `text_config` of a full `CLIPConfig`), as [`super::ClipTextEncoder`] needs it.
/// Missing keys take `CLIPTextConfig`'s defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipTextConfig {
    /// Vocabulary size.
    pub vocab_size: usize,
    /// Model width.
    pub hidden_size: usize,
    /// Feed-forward width.
    pub intermediate_size: usize,
    /// Encoder layers.
    pub num_hidden_layers: usize,
    /// Attention heads.
    pub num_attention_heads: usize,
    /// Rows of the position embedding: the longest sequence.
    pub max_position_embeddings: usize,
    /// `hidden_act` of the MLP (`quick_gelu` for OpenAI CLIP).
    pub hidden_act: Activation,
    /// Epsilon of the layer norms.
    pub layer_norm_eps: f64,
    /// The end-of-text id the pooled output is taken at; `2` is the legacy value, which
    /// selects the position of the largest id instead (see [`super::ClipTextEncoder`]).
    pub eos_token_id: i64,
}

impl ClipTextConfig {
    /// Reads a transformers CLIP text `config.json`.
    pub fn from_json_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        Self::from_value(&read_object(path)?, &path.display().to_string())
    }

    /// Parses a transformers CLIP text `config.json` text.
    pub fn from_json_str(text: &str) -> Result<Self> {
        Self::from_value(&parse_object(text, "config")?, "config")
    }

    fn from_value(value: &Value, origin: &str) -> Result<Self> {
        let top = Fields::new(value, origin)?;
        let f = top.object("text_config")?.unwrap_or(top);
        let hidden_size = f.positive("hidden_size", 512)?;
        let num_attention_heads = f.positive("num_attention_heads", 8)?;
        if hidden_size % num_attention_heads != 0 {
            return Err(f.error(
                "num_attention_heads",
                format!("{num_attention_heads} does not divide hidden_size {hidden_size}"),
            ));
        }
        let act = f.string("hidden_act", "quick_gelu")?;
        Ok(ClipTextConfig {
            vocab_size: f.positive("vocab_size", 49408)?,
            hidden_size,
            intermediate_size: f.positive("intermediate_size", 2048)?,
            num_hidden_layers: f.positive("num_hidden_layers", 12)?,
            num_attention_heads,
            max_position_embeddings: f.positive("max_position_embeddings", 77)?,
            hidden_act: Activation::parse(&act).map_err(|e| f.error("hidden_act", e))?,
            layer_norm_eps: f.positive_f64("layer_norm_eps", 1e-5)?,
            eos_token_id: f.opt_int("eos_token_id")?.unwrap_or(2),
        })
    }

    /// Channels per head.
    pub fn head_dim(&self) -> usize {
        self.hidden_size / self.num_attention_heads
    }
}
