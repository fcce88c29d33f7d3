//! [`ClipTextEncoder`]: transformers' `CLIPTextModel` (token + position embeddings,
//! pre-LN encoder layers under a causal mask, final layer norm, EOS pooling), with
//! parameter paths equal to the checkpoint keys (`text_model.embeddings.token_embedding.weight`,
//! `text_model.encoder.layers.N.self_attn.q_proj.weight`, …).

use super::config::ClipTextConfig;
use super::llama::{check_float, check_ids};
use hyv_frontend::nn::{Embedding, LayerNorm, Linear};
use hyv_frontend::{AttentionOptions, DType, Error, Model, Module, Params, Result, Tensor};

/// The input names, in order; `attention_mask` is optional.
pub const CLIP_INPUT_NAMES: &[&str] = &["input_ids", "attention_mask"];

/// The output names, in order.
pub const CLIP_OUTPUT_NAMES: &[&str] = &["last_hidden_state", "pooler_output"];

/// transformers' `CLIPTextModel` as a [`Model`] named `text_encoder_2`.
///
/// Inputs: `input_ids` i64 `[B, L]` (`L ≤ max_position_embeddings`) and, optionally,
/// `attention_mask` i64 `[B, L]` (1 valid, 0 padding). Attention is causal, and with a mask
/// the padded keys are hidden too, as transformers does. diffusers' HunyuanVideo pipeline
/// passes no mask (the official code does): the pooled output is the same either way,
/// because the EOS position never sees the padding after it; `last_hidden_state` differs at
/// the padded positions only.
///
/// Outputs (f32 whatever the dtype): `last_hidden_state [B, L, hidden]` (after the final
/// layer norm) and `pooler_output [B, hidden]`, its row at the EOS position: with the legacy
/// `eos_token_id == 2` the position of the largest id (OpenAI CLIP's `<|endoftext|>` has the
/// largest id), else the first position holding `eos_token_id` (position 0 if none), exactly
/// transformers' rule.
#[derive(Debug, Clone)]
pub struct ClipTextEncoder {
    config: ClipTextConfig,
    dtype: DType,
}

impl ClipTextEncoder {
    /// An encoder of `config` computing in `dtype` (f32, bf16 or f16; layer-norm statistics
    /// are the backend's f32).
    pub fn new(config: ClipTextConfig, dtype: DType) -> Result<Self> {
        check_float(dtype, "CLIP text encoder")?;
        Ok(ClipTextEncoder { config, dtype })
    }

    /// The configuration.
    pub fn config(&self) -> &ClipTextConfig {
        &self.config
    }

    /// The checkpoint name prefix the model reads (`text_projection` of a
    /// `CLIPTextModelWithProjection` checkpoint is ignored), for [`super::open_weights`].
    pub fn weight_prefixes(&self) -> Vec<String> {
        vec!["text_model.".to_string()]
    }

    /// The checkpoint renames [`super::open_weights`] may need: no `text_model.` prefix (a
    /// `CLIPTextModel` saved by transformers 5).
    pub const WEIGHT_RENAMES: &'static [(&'static str, &'static str)] = &[("", "text_model.")];
}

/// `CLIPAttention`: biased q/k/v/out projections, scale `head_dim^-0.5`.
struct ClipAttention {
    path: String,
    heads: usize,
    q_proj: Linear,
    k_proj: Linear,
    v_proj: Linear,
    out_proj: Linear,
}

impl ClipAttention {
    fn new(p: &Params, d: usize, heads: usize) -> Result<Self> {
        Ok(ClipAttention {
            path: p.path().to_string(),
            heads,
            q_proj: Linear::new(&p.sub("q_proj"), d, d, true)?,
            k_proj: Linear::new(&p.sub("k_proj"), d, d, true)?,
            v_proj: Linear::new(&p.sub("v_proj"), d, d, true)?,
            out_proj: Linear::new(&p.sub("out_proj"), d, d, true)?,
        })
    }

    fn forward(&self, x: &Tensor, key_mask: Option<&Tensor>) -> Result<Tensor> {
        let _scope = x.ctx().enter(&self.path);
        let (b, l, d) = (x.dims()[0], x.dims()[1], x.dims()[2]);
        let hd = d / self.heads;
        let split = |t: Tensor| t.reshape([b, l, self.heads, hd])?.permute(&[0, 2, 1, 3]);
        let q = split(self.q_proj.forward(x)?)?;
        let k = split(self.k_proj.forward(x)?)?;
        let v = split(self.v_proj.forward(x)?)?;
        let options = AttentionOptions {
            scale: Some(1.0 / (hd as f64).sqrt()),
            causal: true,
        };
        let o = q.attention(&k, &v, key_mask, options)?;
        self.out_proj
            .forward(&o.transpose(1, 2)?.reshape([b, l, d])?)
    }
}

/// `CLIPEncoderLayer`: `x + attn(ln1(x))`, then `x + fc2(act(fc1(ln2(x))))`.
struct ClipEncoderLayer {
    path: String,
    act: super::Activation,
    layer_norm1: LayerNorm,
    self_attn: ClipAttention,
    layer_norm2: LayerNorm,
    fc1: Linear,
    fc2: Linear,
}

impl ClipEncoderLayer {
    fn new(p: &Params, c: &ClipTextConfig) -> Result<Self> {
        let (d, eps) = (c.hidden_size, c.layer_norm_eps);
        Ok(ClipEncoderLayer {
            path: p.path().to_string(),
            act: c.hidden_act,
            layer_norm1: LayerNorm::new(&p.sub("layer_norm1"), d, eps, true)?,
            self_attn: ClipAttention::new(&p.sub("self_attn"), d, c.num_attention_heads)?,
            layer_norm2: LayerNorm::new(&p.sub("layer_norm2"), d, eps, true)?,
            fc1: Linear::new(&p.sub("mlp").sub("fc1"), d, c.intermediate_size, true)?,
            fc2: Linear::new(&p.sub("mlp").sub("fc2"), c.intermediate_size, d, true)?,
        })
    }

    fn forward(&self, x: &Tensor, key_mask: Option<&Tensor>) -> Result<Tensor> {
        let _scope = x.ctx().enter(&self.path);
        let x = x.add(
            &self
                .self_attn
                .forward(&self.layer_norm1.forward(x)?, key_mask)?,
        )?;
        let m = self.fc1.forward(&self.layer_norm2.forward(&x)?)?;
        x.add(&self.fc2.forward(&self.act.apply(&m)?)?)
    }
}

/// The one-hot `bool [B, L]` of the pooled position (see [`ClipTextEncoder`]). Keys are
/// computed in f32 (exact: they stay below 2^24 for any CLIP vocabulary and length) so that
/// the maximum is unique and is the first position torch's `argmax` picks.
fn eos_one_hot(ids: &Tensor, eos_token_id: i64) -> Result<Tensor> {
    let ctx = ids.ctx();
    let (b, l) = (ids.dims()[0], ids.dims()[1]);
    // (L - 1 - position): larger for earlier positions, below L.
    let earlier = ctx
        .iota(&[b, l], 1, DType::F32)?
        .neg()?
        .add_scalar((l - 1) as f64)?;
    let primary = if eos_token_id == 2 {
        ids.to_dtype(DType::F32)?
    } else {
        let is_eos = ids.eq(&ids.scalar_like(eos_token_id as f64)?)?;
        is_eos.to_dtype(DType::F32)?
    };
    let key = primary.mul_scalar(l as f64)?.add(&earlier)?;
    key.eq(&key.max(&[1], true)?)
}

impl Model for ClipTextEncoder {
    fn name(&self) -> &str {
        "text_encoder_2"
    }

    fn forward(&self, params: &Params, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        let (b, l) = check_ids(inputs, CLIP_INPUT_NAMES, "CLIP text encoder")?;
        let c = &self.config;
        if l > c.max_position_embeddings {
            return Err(Error::Usage(format!(
                "CLIP text encoder: sequence length {l} exceeds max_position_embeddings {}",
                c.max_position_embeddings
            )));
        }
        let p = params.in_dtype(self.dtype).sub("text_model");
        let d = c.hidden_size;
        let emb = p.sub("embeddings");
        let token_embedding = Embedding::new(&emb.sub("token_embedding"), c.vocab_size, d)?;
        let position_embedding =
            Embedding::new(&emb.sub("position_embedding"), c.max_position_embeddings, d)?;
        let layers = (0..c.num_hidden_layers)
            .map(|i| ClipEncoderLayer::new(&p.sub("encoder").sub("layers").sub(i), c))
            .collect::<Result<Vec<_>>>()?;
        let final_layer_norm =
            LayerNorm::new(&p.sub("final_layer_norm"), d, c.layer_norm_eps, true)?;

        let ids = &inputs[0];
        let ctx = ids.ctx();
        let key_mask = match inputs.get(1) {
            Some(m) => Some(m.ne(&m.scalar_like(0.0)?)?),
            None => None,
        };
        let positions = ctx.iota(&[1, l], 1, DType::I64)?;
        let mut h = token_embedding
            .forward(ids)?
            .add(&position_embedding.forward(&positions)?)?;
        for layer in &layers {
            h = layer.forward(&h, key_mask.as_ref())?;
        }
        let last = final_layer_norm.forward(&h)?.to_dtype(DType::F32)?;
        let pooled = {
            let _scope = ctx.enter("pooler");
            let pick = eos_one_hot(ids, c.eos_token_id)?.unsqueeze(-1)?;
            pick.where_(&last, &last.scalar_like(0.0)?)?
                .sum(&[1], false)?
        };
        debug_assert_eq!(pooled.dims(), &[b, d]);
        Ok(vec![last, pooled])
    }
}
