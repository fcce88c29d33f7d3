//! [`LlamaTextEncoder`]: transformers' `LlamaModel` forward up to the hidden state
//! HunyuanVideo uses, with parameter paths equal to the checkpoint keys
//! (`embed_tokens.weight`, `layers.N.self_attn.q_proj.weight`, …, `norm.weight`).

use super::config::LlamaConfig;
use super::rope::{inv_freq, rope_tables};
use hyv_frontend::nn::{Embedding, Linear};
use hyv_frontend::{AttentionOptions, DType, Error, Init, Model, Module, Params, Result, Tensor};

/// Options of [`LlamaTextEncoder`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LlamaOptions {
    /// Which hidden state to return, counted from the end of transformers'
    /// `hidden_states` tuple: `hidden_states[-(skip + 1)]`. 0 is the final-normed output,
    /// `k > 0` the output of decoder layer `num_hidden_layers - k` (0 = the embeddings),
    /// without the final norm. HunyuanVideo uses 2.
    pub hidden_state_skip_layer: usize,
    /// Parameter and activation dtype (f32, bf16 or f16). RMS-norm statistics and the
    /// rotary embedding are computed in f32; the output is f32 whatever the dtype.
    pub dtype: DType,
}

impl Default for LlamaOptions {
    /// HunyuanVideo's skip of 2, f32.
    fn default() -> Self {
        LlamaOptions {
            hidden_state_skip_layer: 2,
            dtype: DType::F32,
        }
    }
}

/// transformers' `LlamaModel` as a [`Model`] named `text_encoder`.
///
/// Inputs: `input_ids` i64 `[B, L]` and `attention_mask` i64 `[B, L]` (1 valid, 0 padding;
/// any integer type works). Output: `hidden_states` f32 `[B, L, hidden_size]`, the entry
/// [`LlamaOptions::hidden_state_skip_layer`] of transformers' `hidden_states` counted from
/// the end; only the decoder layers that entry needs are built and run.
///
/// Attention is causal with the padded keys hidden, as transformers' mask: query `i` sees
/// keys `j ≤ i` with `attention_mask[j] = 1`. Positions are `0..L` whatever the mask (as
/// transformers without explicit `position_ids`). With right padding a padded query still
/// sees every valid key, so padded positions are computed exactly as transformers does too
/// (they are garbage for the user either way: they attend to a prompt they are not part of).
#[derive(Debug, Clone)]
pub struct LlamaTextEncoder {
    config: LlamaConfig,
    options: LlamaOptions,
}

/// The input names, in order.
pub const LLAMA_INPUT_NAMES: &[&str] = &["input_ids", "attention_mask"];

impl LlamaTextEncoder {
    /// An encoder of `config` with `options`; errors when the skip exceeds the layer count
    /// or the dtype is not a float type.
    pub fn new(config: LlamaConfig, options: LlamaOptions) -> Result<Self> {
        if options.hidden_state_skip_layer > config.num_hidden_layers {
            return Err(Error::Usage(format!(
                "hidden_state_skip_layer {} exceeds the {} layers of the Llama model",
                options.hidden_state_skip_layer, config.num_hidden_layers
            )));
        }
        check_float(options.dtype, "Llama text encoder")?;
        Ok(LlamaTextEncoder { config, options })
    }

    /// The configuration.
    pub fn config(&self) -> &LlamaConfig {
        &self.config
    }

    /// The options.
    pub fn options(&self) -> LlamaOptions {
        self.options
    }

    /// How many decoder layers run: all of them for skip 0, else `layers - skip`.
    pub fn layers_run(&self) -> usize {
        match self.options.hidden_state_skip_layer {
            0 => self.config.num_hidden_layers,
            skip => self.config.num_hidden_layers - skip,
        }
    }

    /// The checkpoint name prefixes the model reads (the embeddings, the layers it runs and,
    /// for skip 0, the final norm), for [`super::open_weights`].
    pub fn weight_prefixes(&self) -> Vec<String> {
        let mut p = vec!["embed_tokens.".to_string()];
        p.extend((0..self.layers_run()).map(|i| format!("layers.{i}.")));
        if self.options.hidden_state_skip_layer == 0 {
            p.push("norm.".to_string());
        }
        p
    }

    /// The checkpoint renames [`super::open_weights`] may need: `model.` before every name
    /// (a checkpoint saved from `LlamaForCausalLM`).
    pub const WEIGHT_RENAMES: &'static [(&'static str, &'static str)] = &[("model.", "")];
}

/// Errors unless `dtype` is f32, bf16 or f16.
pub(crate) fn check_float(dtype: DType, what: &str) -> Result<()> {
    if matches!(dtype, DType::F32 | DType::BF16 | DType::F16) {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "{what} dtype must be f32, bf16 or f16, got {dtype}"
        )))
    }
}

/// Checks that `inputs` are `count` integer tensors of one shape `[B, L]`; returns `(B, L)`.
pub(crate) fn check_ids(inputs: &[Tensor], names: &[&str], what: &str) -> Result<(usize, usize)> {
    if inputs.is_empty() || inputs.len() > names.len() {
        return Err(Error::Usage(format!(
            "the {what} takes inputs {}, got {} inputs",
            names.join(", "),
            inputs.len()
        )));
    }
    let dims = inputs[0].dims().to_vec();
    for (t, name) in inputs.iter().zip(names) {
        if t.rank() != 2
            || t.dims() != dims.as_slice()
            || t.dtype().is_float()
            || t.dtype() == DType::Bool
        {
            return Err(Error::Usage(format!(
                "{what} input `{name}`: expected an integer [B, L] tensor like `{}` {:?}, got {}",
                names[0],
                dims,
                t.ty()
            )));
        }
    }
    Ok((dims[0], dims[1]))
}

/// transformers' `LlamaRMSNorm`: statistics in f32, `weight · x̂` in the input dtype.
struct LlamaRmsNorm {
    path: String,
    weight: Tensor,
    eps: f64,
}

impl LlamaRmsNorm {
    fn new(p: &Params, dim: usize, eps: f64) -> Result<Self> {
        Ok(LlamaRmsNorm {
            path: p.path().to_string(),
            weight: p.get("weight", &[dim], Init::Constant(1.0))?,
            eps,
        })
    }
}

impl Module for LlamaRmsNorm {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let _scope = x.ctx().enter(&self.path);
        x.to_dtype(DType::F32)?
            .rms_norm(None, self.eps)?
            .to_dtype(x.dtype())?
            .mul(&self.weight)
    }
}

/// `LlamaAttention` with grouped-query attention.
struct LlamaAttention {
    path: String,
    heads: usize,
    kv_heads: usize,
    head_dim: usize,
    q_proj: Linear,
    k_proj: Linear,
    v_proj: Linear,
    o_proj: Linear,
}

/// `[B, L, H·Dh]` → `[B, H, L, Dh]`.
fn split_heads(x: &Tensor, heads: usize, head_dim: usize) -> Result<Tensor> {
    let (b, l) = (x.dims()[0], x.dims()[1]);
    x.reshape([b, l, heads, head_dim])?.permute(&[0, 2, 1, 3])
}

/// Rotary embedding (`rotate_half`) of `x [B, H, L, Dh]` in f32, back in `x`'s dtype.
fn apply_rope(x: &Tensor, rope: &(Tensor, Tensor)) -> Result<Tensor> {
    x.to_dtype(DType::F32)?
        .rope(&rope.0, &rope.1, false)?
        .to_dtype(x.dtype())
}

impl LlamaAttention {
    fn new(p: &Params, c: &LlamaConfig) -> Result<Self> {
        let (d, hd) = (c.hidden_size, c.head_dim);
        let bias = c.attention_bias;
        Ok(LlamaAttention {
            path: p.path().to_string(),
            heads: c.num_attention_heads,
            kv_heads: c.num_key_value_heads,
            head_dim: hd,
            q_proj: Linear::new(&p.sub("q_proj"), d, c.num_attention_heads * hd, bias)?,
            k_proj: Linear::new(&p.sub("k_proj"), d, c.num_key_value_heads * hd, bias)?,
            v_proj: Linear::new(&p.sub("v_proj"), d, c.num_key_value_heads * hd, bias)?,
            o_proj: Linear::new(&p.sub("o_proj"), c.num_attention_heads * hd, d, bias)?,
        })
    }

    /// `repeat_kv`: `[B, Hkv, L, Dh]` → `[B, H, L, Dh]`, each key/value head serving
    /// `H / Hkv` consecutive query heads.
    fn repeat_kv(&self, x: &Tensor) -> Result<Tensor> {
        let rep = self.heads / self.kv_heads;
        if rep == 1 {
            return Ok(x.clone());
        }
        let (b, l) = (x.dims()[0], x.dims()[2]);
        x.unsqueeze(2)?
            .broadcast_to(&[b, self.kv_heads, rep, l, self.head_dim])?
            .reshape([b, self.heads, l, self.head_dim])
    }

    fn forward(&self, x: &Tensor, key_mask: &Tensor, rope: &(Tensor, Tensor)) -> Result<Tensor> {
        let _scope = x.ctx().enter(&self.path);
        let (b, l) = (x.dims()[0], x.dims()[1]);
        let q = split_heads(&self.q_proj.forward(x)?, self.heads, self.head_dim)?;
        let k = split_heads(&self.k_proj.forward(x)?, self.kv_heads, self.head_dim)?;
        let v = split_heads(&self.v_proj.forward(x)?, self.kv_heads, self.head_dim)?;
        let (q, k) = (apply_rope(&q, rope)?, apply_rope(&k, rope)?);
        let (k, v) = (self.repeat_kv(&k)?, self.repeat_kv(&v)?);
        let options = AttentionOptions {
            scale: Some(1.0 / (self.head_dim as f64).sqrt()),
            causal: true,
        };
        let o = q.attention(&k, &v, Some(key_mask), options)?;
        let o = o
            .transpose(1, 2)?
            .reshape([b, l, self.heads * self.head_dim])?;
        self.o_proj.forward(&o)
    }
}

/// `LlamaMLP`: `down_proj(act(gate_proj(x)) · up_proj(x))`.
struct LlamaMlp {
    path: String,
    act: super::Activation,
    gate_proj: Linear,
    up_proj: Linear,
    down_proj: Linear,
}

impl LlamaMlp {
    fn new(p: &Params, c: &LlamaConfig) -> Result<Self> {
        let (d, m, bias) = (c.hidden_size, c.intermediate_size, c.mlp_bias);
        Ok(LlamaMlp {
            path: p.path().to_string(),
            act: c.hidden_act,
            gate_proj: Linear::new(&p.sub("gate_proj"), d, m, bias)?,
            up_proj: Linear::new(&p.sub("up_proj"), d, m, bias)?,
            down_proj: Linear::new(&p.sub("down_proj"), m, d, bias)?,
        })
    }
}

impl Module for LlamaMlp {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let _scope = x.ctx().enter(&self.path);
        let gate = self.act.apply(&self.gate_proj.forward(x)?)?;
        self.down_proj
            .forward(&gate.mul(&self.up_proj.forward(x)?)?)
    }
}

/// `LlamaDecoderLayer`: pre-norm attention and MLP, each with a residual.
struct LlamaDecoderLayer {
    path: String,
    input_layernorm: LlamaRmsNorm,
    self_attn: LlamaAttention,
    post_attention_layernorm: LlamaRmsNorm,
    mlp: LlamaMlp,
}

impl LlamaDecoderLayer {
    fn new(p: &Params, c: &LlamaConfig) -> Result<Self> {
        Ok(LlamaDecoderLayer {
            path: p.path().to_string(),
            input_layernorm: LlamaRmsNorm::new(
                &p.sub("input_layernorm"),
                c.hidden_size,
                c.rms_norm_eps,
            )?,
            self_attn: LlamaAttention::new(&p.sub("self_attn"), c)?,
            post_attention_layernorm: LlamaRmsNorm::new(
                &p.sub("post_attention_layernorm"),
                c.hidden_size,
                c.rms_norm_eps,
            )?,
            mlp: LlamaMlp::new(&p.sub("mlp"), c)?,
        })
    }

    fn forward(&self, h: &Tensor, key_mask: &Tensor, rope: &(Tensor, Tensor)) -> Result<Tensor> {
        let _scope = h.ctx().enter(&self.path);
        let a = self
            .self_attn
            .forward(&self.input_layernorm.forward(h)?, key_mask, rope)?;
        let h = h.add(&a)?;
        let m = self
            .mlp
            .forward(&self.post_attention_layernorm.forward(&h)?)?;
        h.add(&m)
    }
}

impl Model for LlamaTextEncoder {
    fn name(&self) -> &str {
        "text_encoder"
    }

    fn forward(&self, params: &Params, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        if inputs.len() != 2 {
            return Err(Error::Usage(format!(
                "the Llama text encoder takes inputs {}, got {} inputs",
                LLAMA_INPUT_NAMES.join(", "),
                inputs.len()
            )));
        }
        let (_, l) = check_ids(inputs, LLAMA_INPUT_NAMES, "Llama text encoder")?;
        let c = &self.config;
        if l > c.max_position_embeddings {
            return Err(Error::Usage(format!(
                "Llama text encoder: sequence length {l} exceeds max_position_embeddings {}",
                c.max_position_embeddings
            )));
        }
        let dtype = self.options.dtype;
        let p = params.in_dtype(dtype);
        let embed_tokens = Embedding::new(&p.sub("embed_tokens"), c.vocab_size, c.hidden_size)?;
        let layers = (0..self.layers_run())
            .map(|i| LlamaDecoderLayer::new(&p.sub("layers").sub(i), c))
            .collect::<Result<Vec<_>>>()?;
        let norm = match self.options.hidden_state_skip_layer {
            0 => Some(LlamaRmsNorm::new(
                &p.sub("norm"),
                c.hidden_size,
                c.rms_norm_eps,
            )?),
            _ => None,
        };

        let ids = &inputs[0];
        let ctx = ids.ctx();
        let mask = &inputs[1];
        let key_mask = mask.ne(&mask.scalar_like(0.0)?)?;
        let rope = {
            let _scope = ctx.enter("rotary_emb");
            let (cos, sin) = rope_tables(
                l,
                c.head_dim,
                &inv_freq(c.head_dim, c.rope_theta, c.rope_scaling),
            )?;
            (ctx.constant(&cos)?, ctx.constant(&sin)?)
        };
        let mut h = embed_tokens.forward(ids)?;
        for layer in &layers {
            h = layer.forward(&h, &key_mask, &rope)?;
        }
        if let Some(norm) = &norm {
            h = norm.forward(&h)?;
        }
        Ok(vec![h.to_dtype(DType::F32)?])
    }
}
