//! The DiT wired for sampling, with optional TeaCache (reference/hunyuanvideo_spec.md §6).

use super::teacache::TeaCache;
use crate::hunyuan_video::{
    input_names, prelude_input_names, select_weights, HunyuanVideoTransformer3DModel,
    TransformerConfig, TransformerHead, TransformerOptions, TransformerPrelude, HEAD_INPUT_NAMES,
};
use hyv_frontend::{Error, HostTensor, Result, Runner, Session, Weights};
use std::rc::Rc;

/// The DiT wired for sampling: [`Session`]s (compiled once per input signature, weights
/// uploaded once) for the full forward and, with TeaCache, for the two pieces it needs — the
/// [`TransformerPrelude`] run every step to measure the modulated input, and the
/// [`TransformerHead`] run on skipped steps on `image_tokens + cached residual`. On a computed
/// step the full model (built [`with_residual`](HunyuanVideoTransformer3DModel::with_residual))
/// gives the sample and the residual to cache, so TeaCache with threshold 0 returns exactly the
/// samples of the plain path.
///
/// ```text
/// let mut dit = DitDenoiser::new(cfg, opts, weights, || Runner::new(Mode::Graph, backend.clone()), Some(0.15), 50)?;
/// for (i, t) in sched.timesteps().into_iter().enumerate() {
///     let v = dit.velocity(0, &inputs_at(&x, t))?;
///     x = sched.step(i, &x, &v)?;
/// }
/// ```
pub struct DitDenoiser {
    config: TransformerConfig,
    options: TransformerOptions,
    weights: Weights,
    runner: Box<dyn Fn() -> Runner>,
    full: Session,
    teacache: Option<TeaCacheParts>,
}

/// The TeaCache sessions and the per-branch states.
struct TeaCacheParts {
    thresh: f64,
    num_steps: usize,
    prelude: Session,
    /// The head session and the latent grid `[F, H, W]` it was built for.
    head: Option<([usize; 3], Session)>,
    caches: Vec<TeaCache>,
}

/// `inputs` in the order of `names`; an error names a missing or an unknown input.
fn ordered(
    inputs: &[(String, HostTensor)],
    names: &[&str],
    all: &[&str],
) -> Result<Vec<(String, HostTensor)>> {
    if let Some((unknown, _)) = inputs.iter().find(|(n, _)| !all.contains(&n.as_str())) {
        return Err(Error::Usage(format!(
            "denoiser input `{unknown}` is not a transformer input ({})",
            all.join(", ")
        )));
    }
    names
        .iter()
        .map(|name| {
            inputs
                .iter()
                .find(|(n, _)| n == name)
                .map(|(n, t)| (n.clone(), t.clone()))
                .ok_or_else(|| {
                    Error::Usage(format!(
                        "the denoiser needs the input `{name}` ({})",
                        all.join(", ")
                    ))
                })
        })
        .collect()
}

impl DitDenoiser {
    /// The denoiser of a model of `config` with `options` (`intermediates` is ignored: only
    /// `sample` is returned) and `weights`; `runner` makes the runner of each session (the full
    /// model, and with TeaCache the prelude and one head per latent grid). `teacache` is the
    /// relative-L1 threshold (`None` = off) for runs of `num_steps` steps.
    pub fn new(
        config: TransformerConfig,
        options: TransformerOptions,
        weights: Weights,
        runner: impl Fn() -> Runner + 'static,
        teacache: Option<f64>,
        num_steps: usize,
    ) -> Result<Self> {
        let options = TransformerOptions {
            intermediates: false,
            ..options
        };
        let mut full = HunyuanVideoTransformer3DModel::new(config.clone(), options)?;
        let teacache = match teacache {
            None => None,
            Some(thresh) => {
                if !(thresh.is_finite() && thresh >= 0.0) {
                    return Err(Error::Usage(format!(
                        "the TeaCache threshold must be a number >= 0, got {thresh}"
                    )));
                }
                full = full.with_residual();
                let prelude = TransformerPrelude::new(config.clone(), options)?;
                Some(TeaCacheParts {
                    thresh,
                    num_steps,
                    prelude: Session::new(
                        runner(),
                        Rc::new(prelude),
                        select_weights(&weights, TransformerPrelude::WEIGHT_PREFIXES),
                    ),
                    head: None,
                    caches: Vec::new(),
                })
            }
        };
        Ok(DitDenoiser {
            full: Session::new(runner(), Rc::new(full), weights.clone()),
            config,
            options,
            weights,
            runner: Box::new(runner),
            teacache,
        })
    }

    /// One model evaluation: `inputs` named as [`input_names`] (`hidden_states` f32,
    /// `timestep` f32[B], `encoder_hidden_states`, `encoder_attention_mask`,
    /// `pooled_projections`, and `guidance` f32[B] = scale·1000 with guidance embeds), in any
    /// order. Returns the velocity `sample` in the model dtype. `branch` indexes the TeaCache
    /// state (0 = cond, 1 = uncond; each branch advances once per call).
    pub fn velocity(
        &mut self,
        branch: usize,
        inputs: &[(String, HostTensor)],
    ) -> Result<HostTensor> {
        let names = input_names(&self.config);
        let full_inputs = ordered(inputs, &names, &names)?;
        let Some(tc) = self.teacache.as_mut() else {
            return first(self.full.run(&full_inputs)?);
        };
        let prelude_inputs = ordered(inputs, &prelude_input_names(&self.config), &names)?;
        let [modulated, image_tokens, temb]: [HostTensor; 3] = tc
            .prelude
            .run(&prelude_inputs)?
            .try_into()
            .map_err(|_| Error::Usage("the transformer prelude has 3 outputs".into()))?;
        while tc.caches.len() <= branch {
            tc.caches.push(TeaCache::new(tc.thresh, tc.num_steps));
        }
        let cache = &mut tc.caches[branch];
        if cache.decide(&modulated) {
            let mut outputs = self.full.run(&full_inputs)?;
            let residual = outputs
                .pop()
                .ok_or_else(|| Error::Usage("the transformer returned no residual".into()))?;
            cache.set_residual(residual);
            return first(outputs);
        }
        let residual = cache
            .residual()
            .ok_or_else(|| {
                Error::Usage(format!(
                    "TeaCache branch {branch} skipped a step before computing one"
                ))
            })?
            .clone();
        let dims = full_inputs[0].1.shape().dims();
        let grid = [dims[2], dims[3], dims[4]];
        if tc.head.as_ref().map(|(g, _)| *g) != Some(grid) {
            let head = TransformerHead::new(self.config.clone(), self.options, grid)?;
            let weights = select_weights(&self.weights, TransformerHead::WEIGHT_PREFIXES);
            tc.head = Some((grid, Session::new((self.runner)(), Rc::new(head), weights)));
        }
        let (_, head) = tc.head.as_ref().expect("set above");
        let head_inputs: Vec<(String, HostTensor)> = HEAD_INPUT_NAMES
            .iter()
            .map(|n| n.to_string())
            .zip([image_tokens, residual, temb])
            .collect();
        first(head.run(&head_inputs)?)
    }

    /// Starts a new sampling run of `num_steps` steps: TeaCache forgets its states and
    /// counts (compiled sessions and uploaded weights are kept).
    pub fn reset(&mut self, num_steps: usize) {
        if let Some(tc) = self.teacache.as_mut() {
            tc.num_steps = num_steps;
            tc.caches.clear();
        }
    }

    /// TeaCache's computed and skipped model evaluations summed over the branches (`None`
    /// without TeaCache).
    pub fn teacache_stats(&self) -> Option<(usize, usize)> {
        self.teacache.as_ref().map(|tc| {
            tc.caches.iter().fold((0, 0), |(c, s), cache| {
                (c + cache.computed(), s + cache.skipped())
            })
        })
    }
}

/// The first output of a run (the `sample`).
fn first(outputs: Vec<HostTensor>) -> Result<HostTensor> {
    outputs
        .into_iter()
        .next()
        .ok_or_else(|| Error::Usage("the transformer returned no output".into()))
}
