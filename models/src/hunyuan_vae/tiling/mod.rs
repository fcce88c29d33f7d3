//! Tiled encoding and decoding of the causal 3D VAE, mirroring diffusers'
//! `AutoencoderKLHunyuanVideo.encode` / `decode` exactly (reference/hunyuanvideo_spec.md
//! §2.9): the same conditions for when tiling kicks in, the same tile windows, blend
//! formulas, crops and slicing.
//!
//! The model graph runs one tile at a time (a [`VaeTileRunner`], e.g. [`ModelTileRunner`]
//! over compiled hyv sessions); this module decides the tiles, calls the runner and blends
//! the outputs on the host, so only one tile's activations are alive at once. On the host
//! it holds the output, the current tile and the blend margins of the previous row of
//! tiles (not every tile, as diffusers does; the numbers are the same). Outputs are blended
//! in f32 and returned in the runner's output dtype (diffusers blends bf16/f16 tensors in
//! their own dtype, rounding each product; hyv rounds once); an input that needs no tiling
//! is one runner call whose output is returned unchanged.
//!
//! ```text
//! let opts = TilingOptions::official();
//! let mut runner = ModelTileRunner::new(Some(&encoder_session), Some(&decoder_session))
//!     .on_tile(&|| progress.inc(1));
//! let moments = tiled_encode(&mut runner, &video, &opts, 8, 4)?;
//! let video = tiled_decode(&mut runner, &latents, &opts, 8, 4)?;
//! ```

mod engine;
mod model_runner;
mod options;
mod plan;
mod volume;

#[cfg(test)]
mod tests;

pub use model_runner::ModelTileRunner;
pub use options::TilingOptions;

use hyv_frontend::{HostTensor, Result};
use plan::{Direction, Plan};

/// Runs the VAE on one tile. Tiles are `[B, C, T, H, W]` windows of the input, in its dtype.
pub trait VaeTileRunner {
    /// The encoder and `quant_conv` on a pixel tile `[B, C, T, H, W]`: moments
    /// `[B, 2·latent_channels, T_l, H_l, W_l]`.
    fn encode_tile(&mut self, sample: &HostTensor) -> Result<HostTensor>;

    /// `post_quant_conv` and the decoder on a latent tile `[B, latent_channels, T_l, H_l,
    /// W_l]`: pixels `[B, C, T, H, W]`.
    fn decode_tile(&mut self, latent: &HostTensor) -> Result<HostTensor>;
}

/// diffusers `vae.encode(sample).latent_dist.parameters`: the moments (mean and log-variance
/// along the channels) of pixels `[B, C, T, H, W]`, tiled as `opts` says for a VAE that
/// compresses space by `spatial_ratio` and time by `temporal_ratio`.
pub fn tiled_encode(
    runner: &mut dyn VaeTileRunner,
    sample: &HostTensor,
    opts: &TilingOptions,
    spatial_ratio: usize,
    temporal_ratio: usize,
) -> Result<HostTensor> {
    let plan = checked_plan(Direction::Encode, opts, spatial_ratio, temporal_ratio)?;
    engine::run(runner, plan, opts.slicing, sample)
}

/// diffusers `vae.decode(latent).sample`: the pixels of latents `[B, L, T_l, H_l, W_l]`,
/// tiled as `opts` says for a VAE that compresses space by `spatial_ratio` and time by
/// `temporal_ratio`.
pub fn tiled_decode(
    runner: &mut dyn VaeTileRunner,
    latent: &HostTensor,
    opts: &TilingOptions,
    spatial_ratio: usize,
    temporal_ratio: usize,
) -> Result<HostTensor> {
    let plan = checked_plan(Direction::Decode, opts, spatial_ratio, temporal_ratio)?;
    engine::run(runner, plan, opts.slicing, latent)
}

/// How many runner calls [`tiled_encode`] makes for pixels of shape `dims` (for progress
/// bars); 0 when `dims` or `opts` are invalid, which [`tiled_encode`] reports as an error.
pub fn encode_tile_count(
    dims: &[usize],
    opts: &TilingOptions,
    spatial_ratio: usize,
    temporal_ratio: usize,
) -> usize {
    tile_count(Direction::Encode, dims, opts, spatial_ratio, temporal_ratio).unwrap_or(0)
}

/// How many runner calls [`tiled_decode`] makes for latents of shape `dims` (for progress
/// bars); 0 when `dims` or `opts` are invalid, which [`tiled_decode`] reports as an error.
pub fn decode_tile_count(
    dims: &[usize],
    opts: &TilingOptions,
    spatial_ratio: usize,
    temporal_ratio: usize,
) -> usize {
    tile_count(Direction::Decode, dims, opts, spatial_ratio, temporal_ratio).unwrap_or(0)
}

/// The shape `[B, C, T, H, W]` of the largest tile [`tiled_encode`] runs for pixels of shape
/// `dims`: what one model call holds in memory (B is 1 with slicing).
pub fn largest_encode_tile(
    dims: &[usize],
    opts: &TilingOptions,
    spatial_ratio: usize,
    temporal_ratio: usize,
) -> Result<[usize; 5]> {
    largest_tile(Direction::Encode, dims, opts, spatial_ratio, temporal_ratio)
}

/// The shape `[B, C, T, H, W]` of the largest latent tile [`tiled_decode`] runs for latents
/// of shape `dims`.
pub fn largest_decode_tile(
    dims: &[usize],
    opts: &TilingOptions,
    spatial_ratio: usize,
    temporal_ratio: usize,
) -> Result<[usize; 5]> {
    largest_tile(Direction::Decode, dims, opts, spatial_ratio, temporal_ratio)
}

fn largest_tile(
    direction: Direction,
    dims: &[usize],
    opts: &TilingOptions,
    spatial_ratio: usize,
    temporal_ratio: usize,
) -> Result<[usize; 5]> {
    let plan = checked_plan(direction, opts, spatial_ratio, temporal_ratio)?;
    let [batch, channels, frames, height, width] =
        volume::check_dims5(dims, direction.input_name(), format!("shape {dims:?}"))?;
    let [t, h, w] = plan.largest_window([frames, height, width]);
    let batch = if opts.slicing { batch.min(1) } else { batch };
    Ok([batch, channels, t, h, w])
}

/// The plan of `direction`, after validating `opts`.
fn checked_plan(
    direction: Direction,
    opts: &TilingOptions,
    spatial_ratio: usize,
    temporal_ratio: usize,
) -> Result<Plan> {
    opts.validate(spatial_ratio, temporal_ratio)?;
    Ok(Plan::new(direction, opts, spatial_ratio, temporal_ratio))
}

/// Runner calls of a pass over an input of shape `dims`: per sample times the batch when
/// slicing, else per (whole-batch) input.
fn tile_count(
    direction: Direction,
    dims: &[usize],
    opts: &TilingOptions,
    spatial_ratio: usize,
    temporal_ratio: usize,
) -> Result<usize> {
    let plan = checked_plan(direction, opts, spatial_ratio, temporal_ratio)?;
    let [batch, _, frames, height, width] =
        volume::check_dims5(dims, direction.input_name(), format!("shape {dims:?}"))?;
    let passes = if opts.slicing { batch } else { 1 };
    Ok(passes * plan.calls([frames, height, width]))
}
