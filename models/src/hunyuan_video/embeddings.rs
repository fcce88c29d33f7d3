//! Embeddings of diffusers' `transformer_hunyuan_video.py` / `embeddings.py`: the patch
//! embedding, the sinusoidal timestep projection, `TimestepEmbedding`,
//! `PixArtAlphaTextProjection`, `HunyuanVideoConditionEmbedding` and the 3D rotary tables.

use hyv_frontend::nn::{Conv, Linear};
use hyv_frontend::{concat, ConvOptions, Ctx, DType, Module, Params, Result, Tensor};

/// `HunyuanVideoPatchEmbed`: `proj` = Conv3d(kernel = stride = (pt, p, p)), flattened to
/// tokens `[B, T'·H'·W', D]` (t slowest, w fastest).
pub(crate) struct PatchEmbed {
    path: String,
    proj: Conv,
}

impl PatchEmbed {
    pub(crate) fn new(
        p: &Params,
        patch: [usize; 3],
        in_channels: usize,
        dim: usize,
    ) -> Result<Self> {
        let mut options = ConvOptions::new(3);
        options.stride = patch.to_vec();
        Ok(PatchEmbed {
            path: p.path().to_string(),
            proj: Conv::new(&p.sub("proj"), in_channels, dim, &patch, options, true)?,
        })
    }

    /// `[B, C, T, H, W]` → `[B, N, D]`.
    pub(crate) fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let _scope = x.ctx().enter(&self.path);
        self.proj.forward(x)?.flatten(2, -1)?.transpose(1, 2)
    }
}

/// diffusers' `Timesteps(256, flip_sin_to_cos=True, downscale_freq_shift=0)` of `t [B]`,
/// in f32: `[cos(t·ω), sin(t·ω)]` with `ω_j = exp(-ln(10000)·j/128)` → `[B, 256]`.
pub(crate) fn timestep_sinusoid(t: &Tensor, channels: usize) -> Result<Tensor> {
    let half = channels / 2;
    let ctx = t.ctx();
    let exponent = ctx
        .arange(half, DType::F32)?
        .mul_scalar(-(10_000f64.ln()))?
        .div_scalar(half as f64)?;
    let freqs = exponent.exp()?.unsqueeze(0)?; // [1, half]
    let args = t.to_dtype(DType::F32)?.unsqueeze(-1)?.mul(&freqs)?; // [B, half]
    concat(&[&args.cos()?, &args.sin()?], -1)
}

/// `TimestepEmbedding` / `PixArtAlphaTextProjection(act="silu")`: `linear_2(silu(linear_1(x)))`.
pub(crate) struct MlpEmbedder {
    path: String,
    linear_1: Linear,
    linear_2: Linear,
}

impl MlpEmbedder {
    pub(crate) fn new(p: &Params, in_features: usize, dim: usize) -> Result<Self> {
        Ok(MlpEmbedder {
            path: p.path().to_string(),
            linear_1: Linear::new(&p.sub("linear_1"), in_features, dim, true)?,
            linear_2: Linear::new(&p.sub("linear_2"), dim, dim, true)?,
        })
    }
}

impl Module for MlpEmbedder {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let _scope = x.ctx().enter(&self.path);
        self.linear_2.forward(&self.linear_1.forward(x)?.silu()?)
    }
}

/// Sinusoid channels of every timestep embedder.
const TIMESTEP_CHANNELS: usize = 256;

/// `CombinedTimestepTextProjEmbeddings` (refiner) and `HunyuanVideoConditionEmbedding`
/// (main): `timestep_embedder(sin(t)) + text_embedder(pooled) [+ guidance_embedder(sin(g))]`.
pub(crate) struct ConditionEmbedding {
    path: String,
    timestep_embedder: MlpEmbedder,
    text_embedder: MlpEmbedder,
    guidance_embedder: Option<MlpEmbedder>,
}

impl ConditionEmbedding {
    pub(crate) fn new(p: &Params, dim: usize, pooled_dim: usize, guidance: bool) -> Result<Self> {
        Ok(ConditionEmbedding {
            path: p.path().to_string(),
            timestep_embedder: MlpEmbedder::new(
                &p.sub("timestep_embedder"),
                TIMESTEP_CHANNELS,
                dim,
            )?,
            text_embedder: MlpEmbedder::new(&p.sub("text_embedder"), pooled_dim, dim)?,
            guidance_embedder: if guidance {
                Some(MlpEmbedder::new(
                    &p.sub("guidance_embedder"),
                    TIMESTEP_CHANNELS,
                    dim,
                )?)
            } else {
                None
            },
        })
    }

    /// `t [B]`, `pooled [B, P]` (model dtype), `guidance [B]` when the embedder exists →
    /// `[B, D]`; sinusoids are computed in f32 and cast to the pooled input's dtype.
    pub(crate) fn forward(
        &self,
        t: &Tensor,
        pooled: &Tensor,
        guidance: Option<&Tensor>,
    ) -> Result<Tensor> {
        let _scope = t.ctx().enter(&self.path);
        let dtype = pooled.dtype();
        let t_emb = self
            .timestep_embedder
            .forward(&timestep_sinusoid(t, TIMESTEP_CHANNELS)?.to_dtype(dtype)?)?;
        let cond = t_emb.add(&self.text_embedder.forward(pooled)?)?;
        match (&self.guidance_embedder, guidance) {
            (Some(embedder), Some(g)) => {
                let g = timestep_sinusoid(g, TIMESTEP_CHANNELS)?.to_dtype(dtype)?;
                cond.add(&embedder.forward(&g)?)
            }
            _ => Ok(cond),
        }
    }
}

/// The 3D rotary tables of `HunyuanVideoRotaryPosEmbed`, built in-graph in f32 for the
/// post-patch grid `(t, h, w)`: `cos, sin [t·h·w, Σ axes]`, axes in order t, h, w, each
/// angle repeated for both members of its pair.
pub(crate) fn rope_tables(
    ctx: &Ctx,
    grid: [usize; 3],
    axes_dim: &[usize],
    theta: f64,
) -> Result<(Tensor, Tensor)> {
    let n: usize = grid.iter().product();
    let mut cos = Vec::with_capacity(3);
    let mut sin = Vec::with_capacity(3);
    for (axis, &dim) in axes_dim.iter().enumerate() {
        let half = dim / 2;
        // freqs = 1 / theta^(arange(0, dim, 2) / dim), in f32 as get_1d_rotary_pos_embed.
        let exponent = ctx
            .arange(half, DType::F32)?
            .mul_scalar(2.0)?
            .div_scalar(dim as f64)?;
        let base = ctx.full(&[half], DType::F32, theta)?;
        let freqs = base.pow(&exponent)?.recip()?.unsqueeze(0)?; // [1, half]
        let pos = ctx.iota(&grid, axis, DType::F32)?.reshape([n, 1])?;
        let angles = pos.mul(&freqs)?.unsqueeze(-1)?; // [N, half, 1]
        let interleave = |t: Tensor| t.broadcast_to(&[n, half, 2])?.reshape([n, dim]);
        cos.push(interleave(angles.cos()?)?);
        sin.push(interleave(angles.sin()?)?);
    }
    let cos: Vec<&Tensor> = cos.iter().collect();
    let sin: Vec<&Tensor> = sin.iter().collect();
    Ok((concat(&cos, 1)?, concat(&sin, 1)?))
}
