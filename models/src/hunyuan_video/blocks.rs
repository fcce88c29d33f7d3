//! The transformer blocks of diffusers' `transformer_hunyuan_video.py`:
//! `HunyuanVideoTransformerBlock` (dual-stream) and `HunyuanVideoSingleTransformerBlock`,
//! with `AdaLayerNormZero(Single)` modulation and `FeedForward`.

use super::attention::{Attention, AttentionKind};
use hyv_frontend::nn::{LayerNorm, Linear};
use hyv_frontend::{concat, Module, Params, Result, Tensor};

/// Epsilon of every LayerNorm of the blocks.
pub(crate) const NORM_EPS: f64 = 1e-6;

/// The activation between the two linears of a [`FeedForward`].
#[derive(Clone, Copy)]
pub(crate) enum Activation {
    /// `gelu-approximate` (dual-stream blocks).
    GeluTanh,
    /// `linear-silu` (refiner blocks).
    Silu,
}

/// diffusers' `FeedForward`: `net.2(act(net.0.proj(x)))`.
pub(crate) struct FeedForward {
    path: String,
    proj: Linear,
    out: Linear,
    activation: Activation,
}

impl FeedForward {
    pub(crate) fn new(
        p: &Params,
        dim: usize,
        hidden: usize,
        activation: Activation,
    ) -> Result<Self> {
        Ok(FeedForward {
            path: p.path().to_string(),
            proj: Linear::new(&p.sub("net.0.proj"), dim, hidden, true)?,
            out: Linear::new(&p.sub("net.2"), hidden, dim, true)?,
            activation,
        })
    }
}

impl Module for FeedForward {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let _scope = x.ctx().enter(&self.path);
        let h = self.proj.forward(x)?;
        let h = match self.activation {
            Activation::GeluTanh => h.gelu_tanh()?,
            Activation::Silu => h.silu()?,
        };
        self.out.forward(&h)
    }
}

/// `x · (1 + scale[:, None]) + shift[:, None]` for `x [B, S, D]`, `shift, scale [B, D]`.
pub(crate) fn modulate(x: &Tensor, shift: &Tensor, scale: &Tensor) -> Result<Tensor> {
    x.mul(&scale.add_scalar(1.0)?.unsqueeze(1)?)?
        .add(&shift.unsqueeze(1)?)
}

/// `linear(silu(temb))` split into `chunks` pieces `[B, D]` (the modulation of
/// `AdaLayerNormZero`, `AdaLayerNormZeroSingle` and `AdaLayerNormContinuous`).
pub(crate) struct Modulation {
    path: String,
    linear: Linear,
    chunks: usize,
}

impl Modulation {
    pub(crate) fn new(p: &Params, dim: usize, chunks: usize) -> Result<Self> {
        Ok(Modulation {
            path: p.path().to_string(),
            linear: Linear::new(&p.sub("linear"), dim, chunks * dim, true)?,
            chunks,
        })
    }

    pub(crate) fn forward(&self, temb: &Tensor) -> Result<Vec<Tensor>> {
        let _scope = temb.ctx().enter(&self.path);
        self.linear.forward(&temb.silu()?)?.chunk(self.chunks, 1)
    }
}

/// The dual-stream block `transformer_blocks.i`.
pub(crate) struct DualBlock {
    path: String,
    norm1: Modulation,
    norm1_context: Modulation,
    /// The LayerNorms without parameters: `norm1.norm`, `norm1_context.norm`, `norm2`,
    /// `norm2_context`.
    norms: [LayerNorm; 4],
    attn: Attention,
    ff: FeedForward,
    ff_context: FeedForward,
}

impl DualBlock {
    pub(crate) fn new(p: &Params, heads: usize, head_dim: usize, mlp_dim: usize) -> Result<Self> {
        let d = heads * head_dim;
        let kind = AttentionKind {
            qk_norm: true,
            added: true,
            out: true,
        };
        Ok(DualBlock {
            path: p.path().to_string(),
            norm1: Modulation::new(&p.sub("norm1"), d, 6)?,
            norm1_context: Modulation::new(&p.sub("norm1_context"), d, 6)?,
            norms: [
                LayerNorm::new(&p.sub("norm1.norm"), d, NORM_EPS, false)?,
                LayerNorm::new(&p.sub("norm1_context.norm"), d, NORM_EPS, false)?,
                LayerNorm::new(&p.sub("norm2"), d, NORM_EPS, false)?,
                LayerNorm::new(&p.sub("norm2_context"), d, NORM_EPS, false)?,
            ],
            attn: Attention::new(&p.sub("attn"), heads, head_dim, kind)?,
            ff: FeedForward::new(&p.sub("ff"), d, mlp_dim, Activation::GeluTanh)?,
            ff_context: FeedForward::new(&p.sub("ff_context"), d, mlp_dim, Activation::GeluTanh)?,
        })
    }

    /// Image `x [B, N, D]`, text `c [B, L, D]`, `temb [B, D]` → updated `(x, c)`.
    pub(crate) fn forward(
        &self,
        x: &Tensor,
        c: &Tensor,
        temb: &Tensor,
        key_mask: &Tensor,
        rope: &(Tensor, Tensor),
    ) -> Result<(Tensor, Tensor)> {
        let _scope = x.ctx().enter(&self.path);
        // shift_msa, scale_msa, gate_msa, shift_mlp, scale_mlp, gate_mlp
        let m = self.norm1.forward(temb)?;
        let mc = self.norm1_context.forward(temb)?;
        let nx = modulate(&self.norms[0].forward(x)?, &m[0], &m[1])?;
        let nc = modulate(&self.norms[1].forward(c)?, &mc[0], &mc[1])?;
        let (ax, ac) = self.attn.joint(&nx, &nc, key_mask, rope)?;
        let x = x.add(&ax.mul(&m[2].unsqueeze(1)?)?)?;
        let c = c.add(&ac.mul(&mc[2].unsqueeze(1)?)?)?;
        let nx = modulate(&self.norms[2].forward(&x)?, &m[3], &m[4])?;
        let nc = modulate(&self.norms[3].forward(&c)?, &mc[3], &mc[4])?;
        let x = x.add(&m[5].unsqueeze(1)?.mul(&self.ff.forward(&nx)?)?)?;
        let c = c.add(&mc[5].unsqueeze(1)?.mul(&self.ff_context.forward(&nc)?)?)?;
        Ok((x, c))
    }
}

/// The single-stream block `single_transformer_blocks.i`.
pub(crate) struct SingleBlock {
    path: String,
    norm: Modulation,
    layer_norm: LayerNorm,
    attn: Attention,
    proj_mlp: Linear,
    proj_out: Linear,
}

impl SingleBlock {
    pub(crate) fn new(p: &Params, heads: usize, head_dim: usize, mlp_dim: usize) -> Result<Self> {
        let d = heads * head_dim;
        let kind = AttentionKind {
            qk_norm: true,
            added: false,
            out: false,
        };
        Ok(SingleBlock {
            path: p.path().to_string(),
            norm: Modulation::new(&p.sub("norm"), d, 3)?,
            layer_norm: LayerNorm::new(&p.sub("norm.norm"), d, NORM_EPS, false)?,
            attn: Attention::new(&p.sub("attn"), heads, head_dim, kind)?,
            proj_mlp: Linear::new(&p.sub("proj_mlp"), d, mlp_dim, true)?,
            proj_out: Linear::new(&p.sub("proj_out"), d + mlp_dim, d, true)?,
        })
    }

    /// Image `x [B, N, D]`, text `c [B, L, D]`, `temb [B, D]` → updated `(x, c)`.
    pub(crate) fn forward(
        &self,
        x: &Tensor,
        c: &Tensor,
        temb: &Tensor,
        key_mask: &Tensor,
        rope: &(Tensor, Tensor),
    ) -> Result<(Tensor, Tensor)> {
        let _scope = x.ctx().enter(&self.path);
        let (n, l) = (x.dims()[1], c.dims()[1]);
        let s = concat(&[x, c], 1)?;
        // shift, scale, gate
        let m = self.norm.forward(temb)?;
        let ns = modulate(&self.layer_norm.forward(&s)?, &m[0], &m[1])?;
        let mlp = self.proj_mlp.forward(&ns)?.gelu_tanh()?;
        let a = self.attn.single(&ns, n, key_mask, rope)?;
        let out = self.proj_out.forward(&concat(&[&a, &mlp], 2)?)?;
        let s = m[2].unsqueeze(1)?.mul(&out)?.add(&s)?;
        Ok((s.narrow(1, 0, n)?, s.narrow(1, n, l)?))
    }
}
