//! `HunyuanVideoTransformer3DModel`: the DiT forward of diffusers, in order — rotary
//! tables, conditioning, patch embedding, token refiner, joint key mask, dual- then
//! single-stream blocks, `norm_out` + `proj_out`, unpatchify.

use super::blocks::{modulate, DualBlock, Modulation, SingleBlock, NORM_EPS};
use super::config::TransformerConfig;
use super::embeddings::{rope_tables, ConditionEmbedding, PatchEmbed};
use super::refiner::TokenRefiner;
use hyv_frontend::nn::{LayerNorm, Linear};
use hyv_frontend::{DType, Error, Model, Module, Params, Result, Tensor, TensorType};

/// Every input name, in order; `guidance` is present only when `config.guidance_embeds`
/// (see [`input_names`]).
pub const INPUT_NAMES: &[&str] = &[
    "hidden_states",
    "timestep",
    "encoder_hidden_states",
    "encoder_attention_mask",
    "pooled_projections",
    "guidance",
];

/// The outputs after `sample` when the model is built with `intermediates`: the
/// conditioning `temb [B, D]`, the rotary tables `rope_cos`/`rope_sin [N, head_dim]` (f32),
/// the refined text `refiner_out [B, L, D]` and the image/text states after the first
/// dual-stream block (`block0_*`, or the block inputs when there is none).
pub const INTERMEDIATE_NAMES: &[&str] = &[
    "temb",
    "rope_cos",
    "rope_sin",
    "refiner_out",
    "block0_hidden_states",
    "block0_encoder_hidden_states",
];

/// The input names a model of `config` takes, in order.
pub fn input_names(config: &TransformerConfig) -> Vec<&'static str> {
    let n = if config.guidance_embeds { 6 } else { 5 };
    INPUT_NAMES[..n].to_vec()
}

/// The output added last by [`HunyuanVideoTransformer3DModel::with_residual`]: the image
/// tokens after the last single-stream block minus those before the first dual-stream block
/// (`[B, N, D]`, model dtype), the residual TeaCache reuses on skipped steps.
pub const RESIDUAL_NAME: &str = "residual";

/// The output names of a model built with or without `intermediates`, in order.
pub fn output_names(intermediates: bool) -> Vec<&'static str> {
    let mut names = vec!["sample"];
    if intermediates {
        names.extend_from_slice(INTERMEDIATE_NAMES);
    }
    names
}

/// Input names and types for a shape-only trace: `hidden_states dtype[B, C, F, H, W]`
/// (latent frames/height/width), `timestep f32[B]` (0..1000 scale),
/// `encoder_hidden_states dtype[B, L, text_embed_dim]`, `encoder_attention_mask f32[B, L]`
/// (1 valid, 0 padding, right padded), `pooled_projections dtype[B, pooled_projection_dim]`
/// and, with guidance embeds, `guidance f32[B]` (guidance scale × 1000). The model also
/// accepts other float dtypes for the float inputs (it casts them), any numeric dtype for
/// `timestep`/`guidance` (computed in f32) and any dtype for the mask (non-zero = valid).
pub fn input_types(
    config: &TransformerConfig,
    dtype: DType,
    batch: usize,
    latent_frames: usize,
    latent_height: usize,
    latent_width: usize,
    text_len: usize,
) -> Vec<(String, TensorType)> {
    let b = batch;
    let tys = [
        TensorType::new(
            dtype,
            [
                b,
                config.in_channels,
                latent_frames,
                latent_height,
                latent_width,
            ],
        ),
        TensorType::new(DType::F32, [b]),
        TensorType::new(dtype, [b, text_len, config.text_embed_dim]),
        TensorType::new(DType::F32, [b, text_len]),
        TensorType::new(dtype, [b, config.pooled_projection_dim]),
        TensorType::new(DType::F32, [b]),
    ];
    input_names(config)
        .into_iter()
        .zip(tys)
        .map(|(n, ty)| (n.to_string(), ty))
        .collect()
}

/// Options of [`HunyuanVideoTransformer3DModel`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransformerOptions {
    /// Parameter and activation dtype (f32, bf16 or f16); RMS-norm statistics, sinusoids
    /// and rotary embedding are computed in f32 as diffusers does.
    pub dtype: DType,
    /// Also output [`INTERMEDIATE_NAMES`] after `sample`.
    pub intermediates: bool,
}

impl Default for TransformerOptions {
    /// f32, `sample` only.
    fn default() -> Self {
        TransformerOptions {
            dtype: DType::F32,
            intermediates: false,
        }
    }
}

/// The HunyuanVideo DiT as a runnable [`Model`] named `transformer`, parameters named as
/// diffusers' checkpoint keys. Inputs: see [`input_names`] / [`input_types`]; outputs:
/// `sample dtype[B, out_channels, F, H, W]`, then [`INTERMEDIATE_NAMES`] when asked.
#[derive(Debug, Clone)]
pub struct HunyuanVideoTransformer3DModel {
    config: TransformerConfig,
    options: TransformerOptions,
    residual: bool,
}

impl HunyuanVideoTransformer3DModel {
    /// A model of `config` (validated) with `options` (the dtype must be a float type).
    pub fn new(config: TransformerConfig, options: TransformerOptions) -> Result<Self> {
        config
            .validate()
            .map_err(|e| Error::Usage(format!("transformer config: {e}")))?;
        if !matches!(options.dtype, DType::F32 | DType::BF16 | DType::F16) {
            return Err(Error::Usage(format!(
                "transformer dtype must be f32, bf16 or f16, got {}",
                options.dtype
            )));
        }
        Ok(HunyuanVideoTransformer3DModel {
            config,
            options,
            residual: false,
        })
    }

    /// The same model also outputting [`RESIDUAL_NAME`] after every other output (for
    /// TeaCache); `sample` is computed exactly as without it.
    pub fn with_residual(mut self) -> Self {
        self.residual = true;
        self
    }

    /// This model's output names, in order: [`output_names`] of its options, then
    /// [`RESIDUAL_NAME`] when built [`with_residual`](Self::with_residual).
    pub fn outputs(&self) -> Vec<&'static str> {
        let mut names = output_names(self.options.intermediates);
        if self.residual {
            names.push(RESIDUAL_NAME);
        }
        names
    }

    /// The configuration.
    pub fn config(&self) -> &TransformerConfig {
        &self.config
    }

    /// The options.
    pub fn options(&self) -> TransformerOptions {
        self.options
    }

    /// Checks the inputs' ranks, extents and dtypes; returns the post-patch grid.
    fn check_inputs(&self, inputs: &[Tensor]) -> Result<[usize; 3]> {
        let cfg = &self.config;
        let names = input_names(cfg);
        check_input_count("the transformer", &names, inputs)?;
        let x = &inputs[0];
        let bad = |name: &str, want: String, t: &Tensor| {
            Error::Usage(format!(
                "transformer input `{name}`: expected {want}, got {}",
                t.ty()
            ))
        };
        if x.rank() != 5 || x.dims()[1] != cfg.in_channels || !x.dtype().is_float() {
            return Err(bad(
                "hidden_states",
                format!("a float [B, {}, F, H, W] tensor", cfg.in_channels),
                x,
            ));
        }
        let (b, f, h, w) = (x.dims()[0], x.dims()[2], x.dims()[3], x.dims()[4]);
        let (p, pt) = (cfg.patch_size, cfg.patch_size_t);
        if f % pt != 0 || h % p != 0 || w % p != 0 {
            return Err(bad(
                "hidden_states",
                format!("frames divisible by patch_size_t {pt} and height, width divisible by patch_size {p}"),
                x,
            ));
        }
        let e = &inputs[2];
        if e.rank() != 3
            || e.dims()[0] != b
            || e.dims()[2] != cfg.text_embed_dim
            || !e.dtype().is_float()
        {
            return Err(bad(
                "encoder_hidden_states",
                format!("a float [{b}, L, {}] tensor", cfg.text_embed_dim),
                e,
            ));
        }
        let l = e.dims()[1];
        let expect = [
            (1, vec![b], true),
            (3, vec![b, l], false),
            (4, vec![b, cfg.pooled_projection_dim], true),
            (5, vec![b], false),
        ];
        for (i, dims, float) in expect {
            if let Some(t) = inputs.get(i) {
                if t.dims() != dims.as_slice() || (float && !t.dtype().is_float()) {
                    let kind = if float { "a float" } else { "a" };
                    return Err(bad(names[i], format!("{kind} {dims:?} tensor"), t));
                }
            }
        }
        Ok([f / pt, h / p, w / p])
    }
}

/// The patch embedding `x_embedder` and the conditioning `time_text_embed` of `config`.
pub(crate) fn embedders(
    p: &Params,
    cfg: &TransformerConfig,
) -> Result<(PatchEmbed, ConditionEmbedding)> {
    let (patch, pt, d) = (cfg.patch_size, cfg.patch_size_t, cfg.inner_dim());
    Ok((
        PatchEmbed::new(&p.sub("x_embedder"), [pt, patch, patch], cfg.in_channels, d)?,
        ConditionEmbedding::new(
            &p.sub("time_text_embed"),
            d,
            cfg.pooled_projection_dim,
            cfg.guidance_embeds,
        )?,
    ))
}

/// `norm_out` (`AdaLayerNormContinuous`: scale first, then shift) and `proj_out`, then
/// unpatchify.
pub(crate) struct OutputLayer {
    norm_out: Modulation,
    norm: LayerNorm,
    proj_out: Linear,
    out_channels: usize,
    patch: [usize; 3],
}

impl OutputLayer {
    pub(crate) fn new(p: &Params, cfg: &TransformerConfig) -> Result<Self> {
        let (patch, pt, d) = (cfg.patch_size, cfg.patch_size_t, cfg.inner_dim());
        Ok(OutputLayer {
            norm_out: Modulation::new(&p.sub("norm_out"), d, 2)?,
            norm: LayerNorm::new(&p.sub("norm_out.norm"), d, NORM_EPS, false)?,
            proj_out: Linear::new(
                &p.sub("proj_out"),
                d,
                cfg.out_channels * pt * patch * patch,
                true,
            )?,
            out_channels: cfg.out_channels,
            patch: [pt, patch, patch],
        })
    }

    /// Image tokens `hs [B, N, D]` and `temb [B, D]` on the post-patch grid `[T', H', W']`
    /// → `sample [B, C, T'·pt, H'·p, W'·p]`.
    pub(crate) fn forward(&self, hs: &Tensor, temb: &Tensor, grid: [usize; 3]) -> Result<Tensor> {
        let ctx = hs.ctx();
        let _scope = ctx.enter("norm_out");
        let m = self.norm_out.forward(temb)?;
        let y = modulate(&self.norm.forward(hs)?, &m[1], &m[0])?;
        let y = self.proj_out.forward(&y)?;
        let (b, c, [pt, ph, pw], [tp, hp, wp]) =
            (hs.dims()[0], self.out_channels, self.patch, grid);
        let _unpatchify = ctx.enter("unpatchify");
        y.reshape([b, tp, hp, wp, c, pt, ph, pw])?
            .permute(&[0, 4, 1, 5, 2, 6, 3, 7])?
            .reshape([b, c, tp * pt, hp * ph, wp * pw])
    }
}

impl Model for HunyuanVideoTransformer3DModel {
    fn name(&self) -> &str {
        "transformer"
    }

    fn forward(&self, params: &Params, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        let [tp, hp, wp] = self.check_inputs(inputs)?;
        let cfg = &self.config;
        let dtype = self.options.dtype;
        let p = params.in_dtype(dtype);
        let (heads, head_dim, d) = (
            cfg.num_attention_heads,
            cfg.attention_head_dim,
            cfg.inner_dim(),
        );
        let mlp = cfg.mlp_dim();

        let (x_embedder, time_text_embed) = embedders(&p, cfg)?;
        let context_embedder = TokenRefiner::new(
            &p.sub("context_embedder"),
            cfg.text_embed_dim,
            heads,
            head_dim,
            cfg.num_refiner_layers,
            // diffusers builds the refiner with its default mlp_ratio 4.0, whatever the config.
            4 * d,
        )?;
        let dual = (0..cfg.num_layers)
            .map(|i| DualBlock::new(&p.sub("transformer_blocks").sub(i), heads, head_dim, mlp))
            .collect::<Result<Vec<_>>>()?;
        let single = (0..cfg.num_single_layers)
            .map(|i| {
                SingleBlock::new(
                    &p.sub("single_transformer_blocks").sub(i),
                    heads,
                    head_dim,
                    mlp,
                )
            })
            .collect::<Result<Vec<_>>>()?;
        let out = OutputLayer::new(&p, cfg)?;

        let ctx = inputs[0].ctx();
        let x = inputs[0].to_dtype(dtype)?;
        let t = &inputs[1];
        let e = inputs[2].to_dtype(dtype)?;
        let mask = &inputs[3];
        let pooled = inputs[4].to_dtype(dtype)?;
        let guidance = inputs.get(5);
        let b = x.dims()[0];
        let l = e.dims()[1];

        // 1. Rotary tables.
        let rope = {
            let _scope = ctx.enter("rope");
            rope_tables(ctx, [tp, hp, wp], &cfg.rope_axes_dim, cfg.rope_theta)?
        };
        // 2. Conditioning, patch embedding and text refiner.
        let temb = time_text_embed.forward(t, &pooled, guidance)?;
        let mut hs = x_embedder.forward(&x)?;
        let blocks_input = hs.clone();
        let valid = mask.ne(&mask.scalar_like(0.0)?)?; // [B, L] bool
        let mut enc = context_embedder.forward(&e, t, &valid)?;
        let refiner_out = enc.clone();
        // 3. Joint key mask: key k is valid iff k < N + Σ valid.
        let n = tp * hp * wp;
        let key_mask = {
            let _scope = ctx.enter("attention_mask");
            let count = valid.to_dtype(DType::I32)?.sum(&[1], true)?; // [B, 1]
            let limit = count.add_scalar(n as f64)?;
            ctx.iota(&[b, n + l], 1, DType::I32)?.lt(&limit)?
        };
        // 4. Blocks.
        let mut block0 = (hs.clone(), enc.clone());
        for (i, block) in dual.iter().enumerate() {
            (hs, enc) = block.forward(&hs, &enc, &temb, &key_mask, &rope)?;
            if i == 0 {
                block0 = (hs.clone(), enc.clone());
            }
        }
        for block in &single {
            (hs, enc) = block.forward(&hs, &enc, &temb, &key_mask, &rope)?;
        }
        // 5. Output projection and unpatchify.
        let sample = out.forward(&hs, &temb, [tp, hp, wp])?;
        let residual = if self.residual {
            let _scope = ctx.enter("teacache_residual");
            Some(hs.sub(&blocks_input)?)
        } else {
            None
        };
        let mut outputs = vec![sample];
        if self.options.intermediates {
            outputs.extend([temb, rope.0, rope.1, refiner_out, block0.0, block0.1]);
        }
        outputs.extend(residual);
        Ok(outputs)
    }
}

/// An error unless `inputs` has one tensor per name of `names` (`model` names the model in
/// the message, with the expected input names).
pub(super) fn check_input_count(model: &str, names: &[&str], inputs: &[Tensor]) -> Result<()> {
    if inputs.len() == names.len() {
        return Ok(());
    }
    Err(Error::Usage(format!(
        "{model} takes {} inputs ({}), got {}",
        names.len(),
        names.join(", "),
        inputs.len()
    )))
}
