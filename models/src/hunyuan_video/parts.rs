//! The two small pieces of the DiT that TeaCache runs besides the full model
//! (reference/hunyuanvideo_spec.md §6): [`TransformerPrelude`] (conditioning, patch embedding
//! and the first dual-stream block's modulated image input) and [`TransformerHead`] (cached
//! residual added to the image tokens, then `norm_out`, `proj_out` and unpatchify). Their
//! parameters are named as in the full model, so they load from the same checkpoint
//! (restricted to [`TransformerPrelude::WEIGHT_PREFIXES`] / [`TransformerHead::WEIGHT_PREFIXES`]).

use super::blocks::{modulate, Modulation, NORM_EPS};
use super::config::TransformerConfig;
use super::transformer::{check_input_count, embedders, OutputLayer, TransformerOptions};
use hyv_frontend::nn::LayerNorm;
use hyv_frontend::{
    DType, Error, HostTensor, Model, Module, Params, Result, SelectedWeights, Tensor, TensorType,
    WeightSource, Weights,
};
use std::rc::Rc;

/// The input names of [`TransformerPrelude`] for `config`: `hidden_states`, `timestep`,
/// `pooled_projections` and, with guidance embeds, `guidance` (types as the full model's).
pub fn prelude_input_names(config: &TransformerConfig) -> Vec<&'static str> {
    let mut names = vec!["hidden_states", "timestep", "pooled_projections"];
    if config.guidance_embeds {
        names.push("guidance");
    }
    names
}

/// The outputs of [`TransformerPrelude`]: `modulated [B, N, D]`, `image_tokens [B, N, D]`,
/// `temb [B, D]` (model dtype).
pub const PRELUDE_OUTPUT_NAMES: &[&str] = &["modulated", "image_tokens", "temb"];

/// The inputs of [`TransformerHead`]: `image_tokens [B, N, D]`, `residual [B, N, D]`,
/// `temb [B, D]` (any float dtype; cast to the model dtype).
pub const HEAD_INPUT_NAMES: &[&str] = &["image_tokens", "residual", "temb"];

/// A shared weight source as a [`WeightSource`] (to wrap it in [`SelectedWeights`]).
struct Shared(Rc<dyn WeightSource>);

impl WeightSource for Shared {
    fn names(&self) -> Vec<String> {
        self.0.names()
    }
    fn tensor_type(&self, name: &str) -> Result<Option<TensorType>> {
        self.0.tensor_type(name)
    }
    fn load(&self, name: &str) -> Result<HostTensor> {
        self.0.load(name)
    }
}

/// `weights` restricted to the tensors under `prefixes` (e.g.
/// [`TransformerPrelude::WEIGHT_PREFIXES`]), so a part of the model loads strictly from the
/// full checkpoint; random and shape-only weights are returned as they are.
pub fn select_weights(weights: &Weights, prefixes: &[&str]) -> Weights {
    match weights {
        Weights::Loaded(source) => Weights::Loaded(Rc::new(SelectedWeights::new(
            Shared(source.clone()),
            prefixes,
        ))),
        other => other.clone(),
    }
}

fn check_float(name: &str, t: &Tensor, dims: &[usize]) -> Result<()> {
    if t.dims() != dims || !t.dtype().is_float() {
        return Err(Error::Usage(format!(
            "input `{name}`: expected a float {dims:?} tensor, got {}",
            t.ty()
        )));
    }
    Ok(())
}

fn check_options(config: &TransformerConfig, options: TransformerOptions) -> Result<()> {
    config
        .validate()
        .map_err(|e| Error::Usage(format!("transformer config: {e}")))?;
    if !matches!(options.dtype, DType::F32 | DType::BF16 | DType::F16) {
        return Err(Error::Usage(format!(
            "transformer dtype must be f32, bf16 or f16, got {}",
            options.dtype
        )));
    }
    Ok(())
}

/// The start of the DiT forward that TeaCache measures: `temb = time_text_embed(t, pooled,
/// guidance)`, `image_tokens = x_embedder(hidden_states)` and `modulated = LN(image_tokens)·(1 +
/// scale_msa) + shift_msa` with the modulation of `transformer_blocks.0.norm1` — the first
/// output of diffusers' `transformer_blocks[0].norm1(img, emb=temb)`. A [`Model`] named
/// `transformer_prelude`; inputs [`prelude_input_names`], outputs [`PRELUDE_OUTPUT_NAMES`].
/// `options.intermediates` is ignored.
#[derive(Debug, Clone)]
pub struct TransformerPrelude {
    config: TransformerConfig,
    options: TransformerOptions,
}

impl TransformerPrelude {
    /// The checkpoint prefixes of the prelude's parameters.
    pub const WEIGHT_PREFIXES: &'static [&'static str] = &[
        "x_embedder.",
        "time_text_embed.",
        "transformer_blocks.0.norm1.",
    ];

    /// The prelude of a model of `config` (validated; at least one dual-stream block) with
    /// `options` (float dtype).
    pub fn new(config: TransformerConfig, options: TransformerOptions) -> Result<Self> {
        check_options(&config, options)?;
        if config.num_layers == 0 {
            return Err(Error::Usage(
                "TeaCache needs a transformer with at least one dual-stream block (num_layers is 0)"
                    .into(),
            ));
        }
        Ok(TransformerPrelude { config, options })
    }
}

impl Model for TransformerPrelude {
    fn name(&self) -> &str {
        "transformer_prelude"
    }

    fn forward(&self, params: &Params, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        let cfg = &self.config;
        check_input_count("the transformer prelude", &prelude_input_names(cfg), inputs)?;
        let x = &inputs[0];
        if x.rank() != 5 || x.dims()[1] != cfg.in_channels || !x.dtype().is_float() {
            return Err(Error::Usage(format!(
                "input `hidden_states`: expected a float [B, {}, F, H, W] tensor, got {}",
                cfg.in_channels,
                x.ty()
            )));
        }
        let b = x.dims()[0];
        check_float("timestep", &inputs[1], &[b])?;
        check_float(
            "pooled_projections",
            &inputs[2],
            &[b, cfg.pooled_projection_dim],
        )?;
        if let Some(g) = inputs.get(3) {
            if g.dims() != [b] {
                return Err(Error::Usage(format!(
                    "input `guidance`: expected a [{b}] tensor, got {}",
                    g.ty()
                )));
            }
        }
        let dtype = self.options.dtype;
        let p = params.in_dtype(dtype);
        let d = cfg.inner_dim();
        let (x_embedder, time_text_embed) = embedders(&p, cfg)?;
        let block0 = p.sub("transformer_blocks").sub(0);
        let norm1 = Modulation::new(&block0.sub("norm1"), d, 6)?;
        let norm = LayerNorm::new(&block0.sub("norm1.norm"), d, NORM_EPS, false)?;

        let x = x.to_dtype(dtype)?;
        let pooled = inputs[2].to_dtype(dtype)?;
        let temb = time_text_embed.forward(&inputs[1], &pooled, inputs.get(3))?;
        let image_tokens = x_embedder.forward(&x)?;
        let modulated = {
            let _scope = x.ctx().enter("transformer_blocks.0");
            let m = norm1.forward(&temb)?;
            modulate(&norm.forward(&image_tokens)?, &m[0], &m[1])?
        };
        Ok(vec![modulated, image_tokens, temb])
    }
}

/// The end of the DiT forward on a TeaCache-skipped step: `image_tokens + residual`, then
/// `norm_out`, `proj_out` and unpatchify to `sample [B, out_channels, F, H, W]` (model dtype)
/// for the latent grid it was built for. A [`Model`] named `transformer_head`; inputs
/// [`HEAD_INPUT_NAMES`], output `sample`. `options.intermediates` is ignored.
#[derive(Debug, Clone)]
pub struct TransformerHead {
    config: TransformerConfig,
    options: TransformerOptions,
    grid: [usize; 3],
}

impl TransformerHead {
    /// The checkpoint prefixes of the head's parameters.
    pub const WEIGHT_PREFIXES: &'static [&'static str] = &["norm_out.", "proj_out."];

    /// The head of a model of `config` with `options` for latents of `latent_frames ×
    /// latent_height × latent_width` (divisible by the patch sizes).
    pub fn new(
        config: TransformerConfig,
        options: TransformerOptions,
        [latent_frames, latent_height, latent_width]: [usize; 3],
    ) -> Result<Self> {
        check_options(&config, options)?;
        let (p, pt) = (config.patch_size, config.patch_size_t);
        if latent_frames % pt != 0 || latent_height % p != 0 || latent_width % p != 0 {
            return Err(Error::Usage(format!(
                "transformer head: latent grid {latent_frames}×{latent_height}×{latent_width} is not divisible by the patch {pt}×{p}×{p}"
            )));
        }
        let grid = [latent_frames / pt, latent_height / p, latent_width / p];
        Ok(TransformerHead {
            config,
            options,
            grid,
        })
    }
}

impl Model for TransformerHead {
    fn name(&self) -> &str {
        "transformer_head"
    }

    fn forward(&self, params: &Params, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        let cfg = &self.config;
        check_input_count("the transformer head", HEAD_INPUT_NAMES, inputs)?;
        let (d, n) = (cfg.inner_dim(), self.grid.iter().product::<usize>());
        let b = inputs[0].dims().first().copied().unwrap_or(0);
        check_float("image_tokens", &inputs[0], &[b, n, d])?;
        check_float("residual", &inputs[1], &[b, n, d])?;
        check_float("temb", &inputs[2], &[b, d])?;
        let dtype = self.options.dtype;
        let p = params.in_dtype(dtype);
        let out = OutputLayer::new(&p, cfg)?;
        let hs = {
            let _scope = inputs[0].ctx().enter("teacache_residual");
            inputs[0]
                .to_dtype(dtype)?
                .add(&inputs[1].to_dtype(dtype)?)?
        };
        let temb = inputs[2].to_dtype(dtype)?;
        Ok(vec![out.forward(&hs, &temb, self.grid)?])
    }
}
