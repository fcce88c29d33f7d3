//! The text path `context_embedder`: diffusers' `HunyuanVideoTokenRefiner` with its
//! `HunyuanVideoIndividualTokenRefiner` blocks.

use super::attention::{Attention, AttentionKind};
use super::blocks::{Activation, FeedForward, NORM_EPS};
use super::embeddings::ConditionEmbedding;
use hyv_frontend::nn::{LayerNorm, Linear};
use hyv_frontend::{DType, Module, Params, Result, Tensor};

/// `context_embedder.token_refiner.refiner_blocks.i`.
struct RefinerBlock {
    path: String,
    norm1: LayerNorm,
    attn: Attention,
    norm2: LayerNorm,
    ff: FeedForward,
    /// `HunyuanVideoAdaNorm`: `linear(silu(temb))` → `gate_msa, gate_mlp`.
    norm_out: Linear,
}

impl RefinerBlock {
    fn new(p: &Params, heads: usize, head_dim: usize, mlp_dim: usize) -> Result<Self> {
        let d = heads * head_dim;
        let kind = AttentionKind {
            qk_norm: false,
            added: false,
            out: true,
        };
        Ok(RefinerBlock {
            path: p.path().to_string(),
            norm1: LayerNorm::new(&p.sub("norm1"), d, NORM_EPS, true)?,
            attn: Attention::new(&p.sub("attn"), heads, head_dim, kind)?,
            norm2: LayerNorm::new(&p.sub("norm2"), d, NORM_EPS, true)?,
            ff: FeedForward::new(&p.sub("ff"), d, mlp_dim, Activation::Silu)?,
            norm_out: Linear::new(&p.sub("norm_out").sub("linear"), d, 2 * d, true)?,
        })
    }

    fn forward(&self, h: &Tensor, temb: &Tensor, valid: &Tensor) -> Result<Tensor> {
        let _scope = h.ctx().enter(&self.path);
        let a = self.attn.refiner(&self.norm1.forward(h)?, valid)?;
        let gates = self.norm_out.forward(&temb.silu()?)?.chunk(2, 1)?;
        let h = h.add(&a.mul(&gates[0].unsqueeze(1)?)?)?;
        let f = self.ff.forward(&self.norm2.forward(&h)?)?;
        h.add(&f.mul(&gates[1].unsqueeze(1)?)?)
    }
}

/// `context_embedder`: masked mean pooling, its own conditioning, `proj_in`, refiner blocks.
pub(crate) struct TokenRefiner {
    path: String,
    time_text_embed: ConditionEmbedding,
    proj_in: Linear,
    blocks: Vec<RefinerBlock>,
}

impl TokenRefiner {
    pub(crate) fn new(
        p: &Params,
        text_dim: usize,
        heads: usize,
        head_dim: usize,
        layers: usize,
        mlp_dim: usize,
    ) -> Result<Self> {
        let d = heads * head_dim;
        let blocks_p = p.sub("token_refiner").sub("refiner_blocks");
        Ok(TokenRefiner {
            path: p.path().to_string(),
            time_text_embed: ConditionEmbedding::new(
                &p.sub("time_text_embed"),
                d,
                text_dim,
                false,
            )?,
            proj_in: Linear::new(&p.sub("proj_in"), text_dim, d, true)?,
            blocks: (0..layers)
                .map(|i| RefinerBlock::new(&blocks_p.sub(i), heads, head_dim, mlp_dim))
                .collect::<Result<_>>()?,
        })
    }

    /// Text states `e [B, L, E]` (model dtype), `t [B]`, `valid bool[B, L]` → `[B, L, D]`.
    pub(crate) fn forward(&self, e: &Tensor, t: &Tensor, valid: &Tensor) -> Result<Tensor> {
        let _scope = e.ctx().enter(&self.path);
        // Masked mean in f32, cast back (diffusers: `(e * m.float()).sum(1) / m.sum(1)`).
        let m = valid.to_dtype(DType::F32)?.unsqueeze(-1)?; // [B, L, 1]
        let pooled = e
            .to_dtype(DType::F32)?
            .mul(&m)?
            .sum(&[1], false)?
            .div(&m.sum(&[1], false)?)?
            .to_dtype(e.dtype())?;
        let temb = self.time_text_embed.forward(t, &pooled, None)?;
        let mut h = self.proj_in.forward(e)?;
        for block in &self.blocks {
            h = block.forward(&h, &temb, valid)?;
        }
        Ok(h)
    }
}
