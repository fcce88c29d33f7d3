//! The initial noise and the latent shape of a video (reference/hunyuanvideo_spec.md §4.2).

use hyv_frontend::{randn_host, DType, HostTensor, TensorType};

/// Temporal compression of the causal VAE: `F` frames give `(F − 1)/4 + 1` latent frames.
pub const VAE_TEMPORAL_RATIO: usize = 4;
/// Spatial compression of the VAE.
pub const VAE_SPATIAL_RATIO: usize = 8;
/// Pixel heights and widths must be multiples of this: the VAE's 8 times the DiT's patch 2.
pub const PIXEL_MULTIPLE: usize = 16;

/// Standard-normal f32 noise of `shape`, deterministic in `seed` and identical on every
/// backend: it is generated on the host by the counter-based generator of the IR's
/// `RandomNormal` op (`hyv_ir::random::normal_sample(seed, i)` for element `i` in row-major
/// order, the same stream as `Ctx::randn` / [`randn_host`]), then rounded to f32. It is drawn
/// in f32 like diffusers (the official pipeline draws fp16), but the stream differs from
/// PyTorch's, so a seed does not reproduce a PyTorch video.
pub fn initial_latents(seed: u64, shape: &[usize]) -> HostTensor {
    randn_host(&TensorType::new(DType::F32, shape.to_vec()), seed, 1.0)
}

/// The latent shape `[B, C, (F − 1)/4 + 1, H/8, W/8]` of `batch` videos of `frames` frames of
/// `height × width` pixels with `channels` latent channels (16 for HunyuanVideo). Errors, naming
/// the nearest valid values, when `frames` is not `4k + 1` or `height`/`width` is not a
/// positive multiple of 16; and for a zero batch or channel count.
pub fn latent_shape(
    batch: usize,
    channels: usize,
    frames: usize,
    height: usize,
    width: usize,
) -> Result<[usize; 5], String> {
    if batch == 0 || channels == 0 {
        return Err(format!(
            "the batch size and the latent channels must be positive, got {batch} and {channels}"
        ));
    }
    if frames % VAE_TEMPORAL_RATIO != 1 {
        let below = frames.saturating_sub(1) / VAE_TEMPORAL_RATIO * VAE_TEMPORAL_RATIO + 1;
        let nearest = if frames <= 1 {
            "1".to_string()
        } else {
            format!("{below} or {}", below + VAE_TEMPORAL_RATIO)
        };
        return Err(format!(
            "the frame count must be 4k+1 (1, 5, 9, ..., 129), got {frames}; nearest valid: {nearest}"
        ));
    }
    for (what, v) in [("height", height), ("width", width)] {
        if v == 0 || v % PIXEL_MULTIPLE != 0 {
            let below = v / PIXEL_MULTIPLE * PIXEL_MULTIPLE;
            let nearest = if below == 0 {
                format!("{PIXEL_MULTIPLE}")
            } else {
                format!("{below} or {}", below + PIXEL_MULTIPLE)
            };
            return Err(format!(
                "the {what} must be a positive multiple of {PIXEL_MULTIPLE}, got {v}; nearest valid: {nearest}"
            ));
        }
    }
    Ok([
        batch,
        channels,
        (frames - 1) / VAE_TEMPORAL_RATIO + 1,
        height / VAE_SPATIAL_RATIO,
        width / VAE_SPATIAL_RATIO,
    ])
}
