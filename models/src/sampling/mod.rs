//! Sampling with the HunyuanVideo DiT (reference/hunyuanvideo_spec.md §4, §6): the
//! flow-matching Euler [`FlowMatchEulerScheduler`], the initial noise and latent shape, true
//! classifier-free guidance, [`TeaCache`] and the [`DitDenoiser`] that runs the model (with
//! TeaCache) for each step.
//!
//! ```text
//! let sched = FlowMatchEulerScheduler::new(50, 7.0, true)?;
//! let mut x = initial_latents(seed, &latent_shape(1, 16, 129, 720, 1280)?);
//! let mut dit = DitDenoiser::new(cfg, opts, weights, make_runner, Some(0.15), 50)?;
//! for (i, t) in sched.timesteps().into_iter().enumerate() {
//!     let v = dit.velocity(0, &inputs(&x, t))?;            // + cfg_combine with branch 1
//!     x = sched.step(i, &x, &v)?;
//! }
//! ```

mod denoiser;
mod guidance;
mod latents;
mod scheduler;
mod teacache;

pub use denoiser::DitDenoiser;
pub use guidance::cfg_combine;
pub use latents::{
    initial_latents, latent_shape, PIXEL_MULTIPLE, VAE_SPATIAL_RATIO, VAE_TEMPORAL_RATIO,
};
pub use scheduler::FlowMatchEulerScheduler;
pub use teacache::{TeaCache, TEACACHE_COEFFICIENTS};
