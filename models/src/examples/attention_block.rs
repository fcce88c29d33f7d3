//! An example transformer block in diffusers style: RMS-normed self-attention with QK norm,
//! interleaved rotary embedding and a key mask, then a gated (SwiGLU) feed-forward; plus a
//! masked mean pooling of the result.

use super::Example;
use hyv_frontend::nn::{LayerNorm, Linear, RmsNorm};
use hyv_frontend::{
    concat, randn_host, AttentionOptions, Ctx, DType, HostTensor, Model, Module, Params, Result,
    Tensor, TensorData, TensorType,
};

/// Sizes of [`AttentionBlock`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AttentionBlockConfig {
    /// Model width.
    pub dim: usize,
    /// Attention heads (divides `dim`; `dim / heads` is even for the rotary embedding).
    pub heads: usize,
    /// Hidden features of the feed-forward.
    pub ff_hidden: usize,
    /// Rotary embedding base.
    pub rope_theta: f64,
}

/// Self-attention with parameters `to_q`, `to_k`, `to_v`, `norm_q`, `norm_k`, `to_out.0`.
struct SelfAttention {
    path: String,
    heads: usize,
    to_q: Linear,
    to_k: Linear,
    to_v: Linear,
    norm_q: RmsNorm,
    norm_k: RmsNorm,
    to_out: Linear,
}

impl SelfAttention {
    fn new(p: &Params, cfg: &AttentionBlockConfig) -> Result<Self> {
        let (d, head_dim) = (cfg.dim, cfg.dim / cfg.heads.max(1));
        Ok(SelfAttention {
            path: p.path().to_string(),
            heads: cfg.heads,
            to_q: Linear::new(&p.sub("to_q"), d, d, true)?,
            to_k: Linear::new(&p.sub("to_k"), d, d, true)?,
            to_v: Linear::new(&p.sub("to_v"), d, d, true)?,
            norm_q: RmsNorm::new(&p.sub("norm_q"), head_dim, 1e-6, true)?,
            norm_k: RmsNorm::new(&p.sub("norm_k"), head_dim, 1e-6, true)?,
            to_out: Linear::new(&p.sub("to_out").sub(0), d, d, true)?,
        })
    }

    /// `x [B,S,D]`, `cos`/`sin [S, D/heads]`, `key_mask bool[B,S]` → `[B,S,D]`.
    fn forward(&self, x: &Tensor, rope: &(Tensor, Tensor), key_mask: &Tensor) -> Result<Tensor> {
        let _scope = x.ctx().enter(&self.path);
        let (b, s, d) = (x.dims()[0], x.dims()[1], x.dims()[2]);
        // [B,S,D] → [B,H,S,D/H]
        let heads = |t: Tensor| {
            t.reshape([b, s, self.heads, d / self.heads])?
                .permute(&[0, 2, 1, 3])
        };
        let q = self.norm_q.forward(&heads(self.to_q.forward(x)?)?)?;
        let k = self.norm_k.forward(&heads(self.to_k.forward(x)?)?)?;
        let v = heads(self.to_v.forward(x)?)?;
        let q = q.rope(&rope.0, &rope.1, true)?;
        let k = k.rope(&rope.0, &rope.1, true)?;
        let o = q.attention(&k, &v, Some(key_mask), AttentionOptions::default())?;
        let o = o.transpose(1, 2)?.reshape([b as i64, s as i64, -1])?;
        self.to_out.forward(&o)
    }
}

/// The gated feed-forward `net.2(silu(a) * g)` with `[a, g] = chunk(net.0.proj(x), 2)`.
struct FeedForward {
    path: String,
    proj_in: Linear,
    proj_out: Linear,
}

impl FeedForward {
    fn new(p: &Params, dim: usize, hidden: usize) -> Result<Self> {
        Ok(FeedForward {
            path: p.path().to_string(),
            proj_in: Linear::new(&p.sub("net.0.proj"), dim, 2 * hidden, true)?,
            proj_out: Linear::new(&p.sub("net.2"), hidden, dim, true)?,
        })
    }
}

impl Module for FeedForward {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let _scope = x.ctx().enter(&self.path);
        let parts = self.proj_in.forward(x)?.chunk(2, -1)?;
        self.proj_out.forward(&(&parts[0].silu()? * &parts[1])?)
    }
}

/// A pre-norm transformer block: `norm1`, `attn`, `norm2`, `ff`.
pub struct AttentionBlock {
    path: String,
    cfg: AttentionBlockConfig,
    norm1: RmsNorm,
    attn: SelfAttention,
    norm2: LayerNorm,
    ff: FeedForward,
}

impl AttentionBlock {
    /// Declares the parameters under `p`.
    pub fn new(p: &Params, cfg: AttentionBlockConfig) -> Result<Self> {
        Ok(AttentionBlock {
            path: p.path().to_string(),
            cfg,
            norm1: RmsNorm::new(&p.sub("norm1"), cfg.dim, 1e-6, true)?,
            attn: SelfAttention::new(&p.sub("attn"), &cfg)?,
            norm2: LayerNorm::new(&p.sub("norm2"), cfg.dim, 1e-6, false)?,
            ff: FeedForward::new(&p.sub("ff"), cfg.dim, cfg.ff_hidden)?,
        })
    }

    /// `hidden_states [B,S,D]` with `key_mask bool[B,S]` → `[B,S,D]`.
    pub fn forward(&self, x: &Tensor, key_mask: &Tensor) -> Result<Tensor> {
        let _scope = x.ctx().enter(&self.path);
        let head_dim = self.cfg.dim / self.cfg.heads.max(1);
        let rope = rope_tables(x.ctx(), x.dims()[1], head_dim, self.cfg.rope_theta)?;
        let x = (x + &self
            .attn
            .forward(&self.norm1.forward(x)?, &rope, key_mask)?)?;
        &x + &self.ff.forward(&self.norm2.forward(&x)?)?
    }
}

/// Interleaved rotary tables `cos, sin [seq, head_dim]`: pair `i` at position `p` turns by
/// `p · theta^(-2i/head_dim)`, each angle repeated for both members of the pair.
fn rope_tables(ctx: &Ctx, seq: usize, head_dim: usize, theta: f64) -> Result<(Tensor, Tensor)> {
    let half = head_dim / 2;
    let freqs: Vec<f32> = (0..half)
        .map(|i| theta.powf(-2.0 * i as f64 / head_dim as f64) as f32)
        .collect();
    let inv_freq = ctx.constant(&HostTensor::new([1, half], TensorData::F32(freqs))?)?;
    let pos = ctx.arange(seq, DType::F32)?.unsqueeze(-1)?;
    let angles = (&pos * &inv_freq)?.unsqueeze(-1)?; // [S, half, 1]
    let pairwise = |t: Tensor| concat(&[&t, &t], -1)?.reshape([seq, head_dim]);
    Ok((pairwise(angles.cos()?)?, pairwise(angles.sin()?)?))
}

/// Mean of `x [B,S,D]` over the positions whose `mask [B,S]` is true → `[B,D]`.
fn masked_mean(x: &Tensor, mask: &Tensor) -> Result<Tensor> {
    let m = mask.to_dtype(x.dtype())?.unsqueeze(-1)?; // [B,S,1]
    &x.mul(&m)?.sum(&[1], false)? / &m.sum(&[1], false)?
}

/// [`AttentionBlock`] as a runnable model named `attention`, parameters at the root:
/// inputs `hidden_states [B,S,D]`, `key_mask bool[B,S]`; outputs the block's result and its
/// masked mean over the sequence `[B,D]`.
pub struct AttentionExample(pub AttentionBlockConfig);

impl Model for AttentionExample {
    fn name(&self) -> &str {
        "attention"
    }

    fn forward(&self, params: &Params, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        let [x, mask] = inputs else {
            return Err(hyv_frontend::Error::Usage(format!(
                "the attention example takes 2 inputs (hidden_states, key_mask), got {}",
                inputs.len()
            )));
        };
        let block = AttentionBlock::new(params, self.0)?;
        let y = block.forward(x, mask)?;
        let pooled = masked_mean(&y, mask)?;
        Ok(vec![y, pooled])
    }
}

/// The registry entry: width 32, 4 heads, hidden 48; inputs `hidden_states f32[2,6,32]`
/// and `key_mask bool[2,6]` (the second sequence has its last two keys masked).
pub(super) fn example() -> Example {
    let cfg = AttentionBlockConfig {
        dim: 32,
        heads: 4,
        ff_hidden: 48,
        rope_theta: 10_000.0,
    };
    let (b, s) = (2, 6);
    Example {
        name: "attention",
        description:
            "transformer block: RMS norm, QK-normed attention with rope and key mask, SwiGLU",
        model: Box::new(AttentionExample(cfg)),
        inputs: vec![
            (
                "hidden_states".into(),
                TensorType::new(DType::F32, [b, s, cfg.dim]),
            ),
            ("key_mask".into(), TensorType::new(DType::Bool, [b, s])),
        ],
        sample: |inputs, seed| {
            inputs
                .iter()
                .map(|(n, ty)| {
                    let value = if ty.dtype == DType::Bool {
                        let (b, s) = (ty.shape.dims()[0], ty.shape.dims()[1]);
                        let keep = (0..b * s).map(|i| i / s == 0 || i % s < s - 2).collect();
                        HostTensor::new(ty.shape.clone(), TensorData::Bool(keep))
                            .expect("one flag per element")
                    } else {
                        randn_host(ty, seed, 1.0)
                    };
                    (n.clone(), value)
                })
                .collect()
        },
    }
}
