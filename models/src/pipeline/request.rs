//! What one text-to-video sample asks for.

use crate::sampling::latent_shape;
use hyv_frontend::{Error, HostTensor, Result};

/// The negative prompt of the official HunyuanVideo code, used under true CFG when none is
/// given (`hyvideo/constants.py` `NEGATIVE_PROMPT`).
pub const DEFAULT_NEGATIVE_PROMPT: &str = "Aerial view, aerial view, overexposed, low quality, \
deformation, a poor composition, bad hands, bad teeth, bad eyes, bad limbs, distortion";

/// One video to sample.
#[derive(Debug, Clone)]
pub struct SampleRequest {
    /// Height in pixels (a multiple of 16).
    pub height: usize,
    /// Width in pixels (a multiple of 16).
    pub width: usize,
    /// Frames (4k+1).
    pub video_length: usize,
    /// Denoising steps.
    pub infer_steps: usize,
    /// Seed of the initial noise.
    pub seed: u64,
    /// The scheduler's time shift.
    pub flow_shift: f64,
    /// Sample from σ = 1 down to 0 (the official `--flow-reverse`, which every script
    /// passes); false builds the official scheduler's reversed sequence.
    pub flow_reverse: bool,
    /// Embedded (distilled) guidance scale, fed to the DiT ×1000.
    pub embedded_guidance_scale: f32,
    /// True classifier-free guidance scale; > 1 runs a second, negative-prompt pass per step.
    pub cfg_scale: f32,
    /// Initial latents `[1, C, F', H/8, W/8]` instead of seeded noise (parity checks).
    pub initial_latents: Option<HostTensor>,
}

impl SampleRequest {
    /// Whether the request runs true classifier-free guidance.
    pub fn true_cfg(&self) -> bool {
        self.cfg_scale > 1.0
    }

    /// The latent shape `[1, channels, F', H/8, W/8]`, checking frames (4k+1) and sizes
    /// (multiples of 16).
    pub fn latent_shape(&self, channels: usize) -> Result<[usize; 5]> {
        latent_shape(1, channels, self.video_length, self.height, self.width).map_err(Error::Usage)
    }
}
