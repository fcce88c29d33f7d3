//! [`TextToVideo`]: the loaded pipeline — prompt encoder, DiT denoiser and VAE decoder —
//! and one sample through it.
//!
//! Decisions (where diffusers and the official code differ, spec §4):
//! * latents stay f32 between steps and the timestep is fed in f32, as the official
//!   pipeline does (diffusers rounds both to the DiT dtype after the first step);
//! * the initial noise is host-generated f32 (identical on every backend);
//! * true CFG runs the negative prompt as a second forward per step, as diffusers does,
//!   with its own TeaCache state;
//! * without tiling the VAE decodes the whole latent at once (exact); `tiling` chooses
//!   the official tiles.

use super::model_dir::ModelDir;
use super::request::SampleRequest;
use crate::hunyuan_vae::tiling::{tiled_decode, ModelTileRunner, TilingOptions};
use crate::hunyuan_vae::{HunyuanVideoVaeDecoder, VaeConfig, VaeOptions};
use crate::hunyuan_video::{TransformerConfig, TransformerOptions};
use crate::sampling::{cfg_combine, initial_latents, DitDenoiser, FlowMatchEulerScheduler};
use crate::text_encoders::{PromptEmbeds, PromptEncoder, PromptEncoderOptions};
use hyv_frontend::{
    CastWeights, DType, Error, HostTensor, Result, Runner, Session, WeightStore, Weights,
};
use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// How the pipeline is loaded and run.
#[derive(Debug, Clone)]
pub struct TextToVideoOptions {
    /// DiT compute dtype.
    pub dtype: DType,
    /// VAE compute dtype.
    pub vae_dtype: DType,
    /// Prompt template, lengths, skip layer and dtype of the text encoders.
    pub text: PromptEncoderOptions,
    /// VAE decode tiling.
    pub tiling: TilingOptions,
    /// TeaCache threshold (`None`: every step runs every block).
    pub teacache: Option<f64>,
    /// Load the text encoders (false when prompt embeddings come from a file).
    pub text_encoders: bool,
}

impl Default for TextToVideoOptions {
    /// f32 everywhere, HunyuanVideo's prompt defaults, untiled decode, no TeaCache.
    fn default() -> Self {
        TextToVideoOptions {
            dtype: DType::F32,
            vae_dtype: DType::F32,
            text: PromptEncoderOptions::default(),
            tiling: TilingOptions::disabled(),
            teacache: None,
            text_encoders: true,
        }
    }
}

/// Wall-clock time of each phase of a sample.
#[derive(Debug, Clone, Copy, Default)]
pub struct Timings {
    /// Prompt encoding (zero when embeddings were given).
    pub text_encode: Duration,
    /// The denoising loop.
    pub denoise: Duration,
    /// VAE decoding.
    pub decode: Duration,
}

/// What one sample produced.
#[derive(Debug, Clone)]
pub struct SampleOutput {
    /// The denoised latents `[1, C, F', H/8, W/8]` (f32, before the VAE scaling).
    pub latents: HostTensor,
    /// The video `[1, 3, F, H, W]`, f32 in [0, 1].
    pub video: HostTensor,
    /// Time per phase.
    pub timings: Timings,
    /// TeaCache's (computed, skipped) model evaluations, when it is on.
    pub teacache: Option<(usize, usize)>,
}

/// A loaded HunyuanVideo text-to-video pipeline.
pub struct TextToVideo {
    config: TransformerConfig,
    denoiser: RefCell<DitDenoiser>,
    vae_config: VaeConfig,
    decoder: Session,
    prompt_encoder: Option<PromptEncoder>,
    options: TextToVideoOptions,
}

impl TextToVideo {
    /// Loads the pipeline from a diffusers-layout model folder; `runner(component)` makes
    /// the runner of each component (`transformer`, `vae`, `text_encoder`, ...), so
    /// callers choose backend, mode and dump folders per component.
    pub fn load(
        root: &Path,
        runner: impl Fn(&str) -> Runner + 'static,
        options: TextToVideoOptions,
    ) -> Result<TextToVideo> {
        let dir = ModelDir::open(root, options.text_encoders)?;
        let config = TransformerConfig::from_json_file(dir.transformer().join("config.json"))?;
        let dit_weights = Weights::Loaded(Rc::new(CastWeights::new(
            WeightStore::open(dir.transformer())?,
            options.dtype,
        )));
        let runner: Rc<dyn Fn(&str) -> Runner> = Rc::new(runner);
        let denoiser = DitDenoiser::new(
            config.clone(),
            TransformerOptions {
                dtype: options.dtype,
                intermediates: false,
            },
            dit_weights,
            {
                let r = runner.clone();
                move || r("transformer")
            },
            options.teacache,
            0,
        )?;
        let vae_config = VaeConfig::from_json_file(dir.vae().join("config.json"))?;
        if vae_config.latent_channels != config.in_channels {
            return Err(Error::Usage(format!(
                "model folder {}: the VAE has {} latent channels but the transformer takes {}",
                root.display(),
                vae_config.latent_channels,
                config.in_channels
            )));
        }
        options.tiling.validate(
            vae_config.spatial_compression_ratio,
            vae_config.temporal_compression_ratio,
        )?;
        let decoder = Session::new(
            runner("vae"),
            Rc::new(HunyuanVideoVaeDecoder::new(
                vae_config.clone(),
                VaeOptions {
                    dtype: options.vae_dtype,
                },
            )?),
            HunyuanVideoVaeDecoder::weights(CastWeights::new(
                WeightStore::open(dir.vae())?,
                options.vae_dtype,
            )),
        );
        let prompt_encoder = if options.text_encoders {
            let r = runner.clone();
            Some(PromptEncoder::load(
                root,
                move || r("text_encoder"),
                options.text.clone(),
            )?)
        } else {
            None
        };
        Ok(TextToVideo {
            config,
            denoiser: RefCell::new(denoiser),
            vae_config,
            decoder,
            prompt_encoder,
            options,
        })
    }

    /// The transformer's configuration.
    pub fn transformer_config(&self) -> &TransformerConfig {
        &self.config
    }

    /// Encodes `prompts` with both text encoders.
    pub fn encode_prompts(&self, prompts: &[String]) -> Result<PromptEmbeds> {
        match &self.prompt_encoder {
            Some(encoder) => encoder.encode(prompts),
            None => Err(Error::Usage(
                "the text encoders were not loaded (prompt embeddings come from a file)".into(),
            )),
        }
    }

    /// Samples one video for the encoded prompt `cond` (and `uncond` under true CFG),
    /// calling `on_step(i)` after each denoising step.
    pub fn sample(
        &self,
        request: &SampleRequest,
        cond: &PromptEmbeds,
        uncond: Option<&PromptEmbeds>,
        on_step: &mut dyn FnMut(usize),
    ) -> Result<SampleOutput> {
        let shape = request.latent_shape(self.config.in_channels)?;
        let mut latents = match &request.initial_latents {
            Some(given) if given.shape().dims() == shape => given.cast(DType::F32),
            Some(given) => {
                return Err(Error::Usage(format!(
                    "initial latents have shape {:?}, but {}×{}×{} frames needs {shape:?}",
                    given.shape().dims(),
                    request.height,
                    request.width,
                    request.video_length
                )))
            }
            None => initial_latents(request.seed, &shape),
        };
        let uncond = match (request.true_cfg(), uncond) {
            (true, Some(u)) => Some(u),
            (true, None) => {
                return Err(Error::Usage(
                    "cfg scale > 1 needs negative prompt embeddings".into(),
                ))
            }
            (false, _) => None,
        };
        let scheduler = FlowMatchEulerScheduler::new(
            request.infer_steps,
            request.flow_shift,
            request.flow_reverse,
        )
        .map_err(Error::Usage)?;
        let mut denoiser = self.denoiser.borrow_mut();
        denoiser.reset(request.infer_steps);
        let start = Instant::now();
        for (i, t) in scheduler.timesteps().into_iter().enumerate() {
            let v_cond = denoiser.velocity(0, &self.dit_inputs(&latents, t, request, cond)?)?;
            let velocity = match uncond {
                Some(u) => {
                    let v_uncond =
                        denoiser.velocity(1, &self.dit_inputs(&latents, t, request, u)?)?;
                    cfg_combine(&v_cond, &v_uncond, request.cfg_scale).map_err(Error::Usage)?
                }
                None => v_cond,
            };
            latents = scheduler
                .step(i, &latents, &velocity)
                .map_err(Error::Usage)?;
            on_step(i);
        }
        let denoise = start.elapsed();
        let start = Instant::now();
        let video = self.decode(&latents)?;
        Ok(SampleOutput {
            latents,
            video,
            timings: Timings {
                text_encode: Duration::ZERO,
                denoise,
                decode: start.elapsed(),
            },
            teacache: denoiser.teacache_stats(),
        })
    }

    /// Decodes latents `[1, C, F', H/8, W/8]` to a video `[1, 3, F, H, W]` in [0, 1]:
    /// `vae.decode(latents / scaling_factor)`, then `clamp(x / 2 + 0.5, 0, 1)`.
    pub fn decode(&self, latents: &HostTensor) -> Result<HostTensor> {
        let scale = self.vae_config.scaling_factor as f32;
        let scaled: Vec<f32> = latents.to_f32_vec().iter().map(|x| x / scale).collect();
        let scaled =
            HostTensor::from_f32(latents.shape().clone(), scaled)?.cast(self.options.vae_dtype);
        let mut tiles = ModelTileRunner::new(None, Some(&self.decoder));
        let pixels = tiled_decode(
            &mut tiles,
            &scaled,
            &self.options.tiling,
            self.vae_config.spatial_compression_ratio,
            self.vae_config.temporal_compression_ratio,
        )?;
        let video: Vec<f32> = pixels
            .to_f32_vec()
            .iter()
            .map(|x| (x * 0.5 + 0.5).clamp(0.0, 1.0))
            .collect();
        Ok(HostTensor::from_f32(pixels.shape().clone(), video)?)
    }

    /// The DiT inputs of one step: latents, the timestep (f32), the prompt and, for a
    /// guidance-distilled model, the embedded guidance ×1000.
    fn dit_inputs(
        &self,
        latents: &HostTensor,
        timestep: f32,
        request: &SampleRequest,
        prompt: &PromptEmbeds,
    ) -> Result<Vec<(String, HostTensor)>> {
        let mut inputs = vec![
            ("hidden_states".to_string(), latents.clone()),
            (
                "timestep".to_string(),
                HostTensor::from_f32([1], vec![timestep])?,
            ),
            (
                "encoder_hidden_states".to_string(),
                prompt.prompt_embeds.clone(),
            ),
            (
                "encoder_attention_mask".to_string(),
                prompt.prompt_mask.clone(),
            ),
            (
                "pooled_projections".to_string(),
                prompt.prompt_embeds_2.clone(),
            ),
        ];
        if self.config.guidance_embeds {
            inputs.push((
                "guidance".to_string(),
                HostTensor::from_f32([1], vec![request.embedded_guidance_scale * 1000.0])?,
            ));
        }
        Ok(inputs)
    }
}
