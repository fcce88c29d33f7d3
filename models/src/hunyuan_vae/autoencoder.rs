//! The runnable halves of diffusers' `AutoencoderKLHunyuanVideo`, untiled:
//! [`HunyuanVideoVaeEncoder`] (`_encode`: `quant_conv(encoder(x))`) and
//! [`HunyuanVideoVaeDecoder`] (`decode`: `decoder(post_quant_conv(z))`).

use super::config::VaeConfig;
use super::decoder::HunyuanVideoDecoder3D;
use super::encoder::HunyuanVideoEncoder3D;
use hyv_frontend::nn::Conv;
use hyv_frontend::{
    ConvOptions, DType, Error, Model, Module, Params, Result, SelectedWeights, Tensor, TensorType,
    WeightSource, Weights,
};
use std::rc::Rc;

/// Options of the VAE models.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VaeOptions {
    /// Parameter and activation dtype (f32, bf16 or f16). GroupNorm statistics run in f32
    /// whatever it is; float inputs of another dtype are cast to it.
    pub dtype: DType,
}

impl Default for VaeOptions {
    /// f32.
    fn default() -> Self {
        VaeOptions { dtype: DType::F32 }
    }
}

/// Checks `config` and `options` for either model.
fn check(config: &VaeConfig, options: VaeOptions) -> Result<()> {
    config
        .validate()
        .map_err(|e| Error::Usage(format!("VAE config: {e}")))?;
    if !matches!(options.dtype, DType::F32 | DType::BF16 | DType::F16) {
        return Err(Error::Usage(format!(
            "VAE dtype must be f32, bf16 or f16, got {}",
            options.dtype
        )));
    }
    Ok(())
}

/// The only input of `model` (named `name`), checked to be a float `[B, channels, T, H, W]`
/// tensor; returns it with its `[T, H, W]`.
fn single_input<'a>(
    model: &str,
    name: &str,
    channels: usize,
    inputs: &'a [Tensor],
) -> Result<(&'a Tensor, [usize; 3])> {
    let [x] = inputs else {
        return Err(Error::Usage(format!(
            "the {model} takes 1 input (`{name}`), got {}",
            inputs.len()
        )));
    };
    match *x.dims() {
        [_, c, t, h, w] if c == channels && x.dtype().is_float() => Ok((x, [t, h, w])),
        _ => Err(Error::Usage(format!(
            "{model} input `{name}`: expected a float [B, {channels}, T, H, W] tensor, got {}",
            x.ty()
        ))),
    }
}

/// `source` restricted to the tensors under `prefixes`, as loaded weights.
fn selected<S: WeightSource + 'static>(source: S, prefixes: &[&str]) -> Weights {
    Weights::Loaded(Rc::new(SelectedWeights::new(source, prefixes)))
}

/// A plain 1×1×1 `Conv3d` with bias (`quant_conv`, `post_quant_conv`).
fn pointwise(p: &Params, channels: usize) -> Result<Conv> {
    Conv::new(p, channels, channels, &[1; 3], ConvOptions::new(3), true)
}

/// The VAE encoder as a runnable [`Model`] named `vae_encoder`: input `sample`
/// `[B, in_channels, T, H, W]` (values in [−1, 1], `T = 4k+1`, `H`, `W` multiples of the
/// spatial ratio), output `moments` `[B, 2·latent_channels, T_l, H_l, W_l]` (mean, then
/// log-variance; see [`super::DiagonalGaussian`]). Parameters: `encoder.*`, `quant_conv.*`.
///
/// diffusers would floor other frame counts and sizes silently; this model rejects them
/// with a hint (see [`VaeConfig::latent_dims`]).
#[derive(Debug, Clone)]
pub struct HunyuanVideoVaeEncoder {
    config: VaeConfig,
    options: VaeOptions,
}

impl HunyuanVideoVaeEncoder {
    /// The input's name.
    pub const INPUT: &'static str = "sample";
    /// The output's name.
    pub const OUTPUT: &'static str = "moments";
    /// The checkpoint prefixes of the encoder's parameters.
    pub const WEIGHT_PREFIXES: &'static [&'static str] = &["encoder.", "quant_conv."];

    /// An encoder of `config` (validated) with `options`.
    pub fn new(config: VaeConfig, options: VaeOptions) -> Result<Self> {
        check(&config, options)?;
        Ok(HunyuanVideoVaeEncoder { config, options })
    }

    /// The configuration.
    pub fn config(&self) -> &VaeConfig {
        &self.config
    }

    /// The options.
    pub fn options(&self) -> VaeOptions {
        self.options
    }

    /// The encoder's weights out of `source`, which may hold a full VAE checkpoint (encoder
    /// and decoder keys): only [`Self::WEIGHT_PREFIXES`] are visible, strictly.
    pub fn weights<S: WeightSource + 'static>(source: S) -> Weights {
        selected(source, Self::WEIGHT_PREFIXES)
    }

    /// The input name and type for a video of `batch` × `[frames, height, width]` in the
    /// model dtype (for shape-only tracing); an error when the extents do not encode.
    pub fn input_types(&self, batch: usize, dims: [usize; 3]) -> Result<Vec<(String, TensorType)>> {
        let [t, h, w] = dims;
        self.config.latent_dims(t, h, w)?;
        let ty = TensorType::new(
            self.options.dtype,
            [batch, self.config.in_channels, t, h, w],
        );
        Ok(vec![(Self::INPUT.to_string(), ty)])
    }
}

impl Model for HunyuanVideoVaeEncoder {
    fn name(&self) -> &str {
        "vae_encoder"
    }

    fn forward(&self, params: &Params, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        let cfg = &self.config;
        let (x, [t, h, w]) = single_input("VAE encoder", Self::INPUT, cfg.in_channels, inputs)?;
        cfg.latent_dims(t, h, w).map_err(|e| {
            Error::Usage(format!(
                "VAE encoder input `{}` {}: {e}",
                Self::INPUT,
                x.ty()
            ))
        })?;
        let p = params.in_dtype(self.options.dtype);
        let encoder = HunyuanVideoEncoder3D::new(&p.sub("encoder"), cfg)?;
        let quant_conv = pointwise(&p.sub("quant_conv"), 2 * cfg.latent_channels)?;
        let x = x.to_dtype(self.options.dtype)?;
        Ok(vec![quant_conv.forward(&encoder.forward(&x)?)?])
    }
}

/// The VAE decoder as a runnable [`Model`] named `vae_decoder`: input `latent`
/// `[B, latent_channels, T_l, H_l, W_l]` (what diffusers' `vae.decode(z)` takes: the DiT's
/// latent divided by `scaling_factor`), output `sample` `[B, out_channels, T, H, W]` with
/// `[T, H, W]` = [`VaeConfig::sample_dims`] (values roughly in [−1, 1]). Parameters:
/// `post_quant_conv.*`, `decoder.*`.
#[derive(Debug, Clone)]
pub struct HunyuanVideoVaeDecoder {
    config: VaeConfig,
    options: VaeOptions,
}

impl HunyuanVideoVaeDecoder {
    /// The input's name.
    pub const INPUT: &'static str = "latent";
    /// The output's name.
    pub const OUTPUT: &'static str = "sample";
    /// The checkpoint prefixes of the decoder's parameters.
    pub const WEIGHT_PREFIXES: &'static [&'static str] = &["post_quant_conv.", "decoder."];

    /// A decoder of `config` (validated) with `options`.
    pub fn new(config: VaeConfig, options: VaeOptions) -> Result<Self> {
        check(&config, options)?;
        Ok(HunyuanVideoVaeDecoder { config, options })
    }

    /// The configuration.
    pub fn config(&self) -> &VaeConfig {
        &self.config
    }

    /// The options.
    pub fn options(&self) -> VaeOptions {
        self.options
    }

    /// The decoder's weights out of `source`, which may hold a full VAE checkpoint: only
    /// [`Self::WEIGHT_PREFIXES`] are visible, strictly.
    pub fn weights<S: WeightSource + 'static>(source: S) -> Weights {
        selected(source, Self::WEIGHT_PREFIXES)
    }

    /// The input name and type for a latent of `batch` × `[frames, height, width]` in the
    /// model dtype (for shape-only tracing).
    pub fn input_types(&self, batch: usize, dims: [usize; 3]) -> Vec<(String, TensorType)> {
        let [t, h, w] = dims;
        let ty = TensorType::new(
            self.options.dtype,
            [batch, self.config.latent_channels, t, h, w],
        );
        vec![(Self::INPUT.to_string(), ty)]
    }
}

impl Model for HunyuanVideoVaeDecoder {
    fn name(&self) -> &str {
        "vae_decoder"
    }

    fn forward(&self, params: &Params, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        let cfg = &self.config;
        let (z, _) = single_input("VAE decoder", Self::INPUT, cfg.latent_channels, inputs)?;
        let p = params.in_dtype(self.options.dtype);
        let post_quant_conv = pointwise(&p.sub("post_quant_conv"), cfg.latent_channels)?;
        let decoder = HunyuanVideoDecoder3D::new(&p.sub("decoder"), cfg)?;
        let z = z.to_dtype(self.options.dtype)?;
        Ok(vec![decoder.forward(&post_quant_conv.forward(&z)?)?])
    }
}
