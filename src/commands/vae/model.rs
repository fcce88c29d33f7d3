//! The VAE as the commands use it: loaded from a diffusers folder, run through [`Session`]s
//! (one compile per tile shape in graph mode, weights uploaded once) and tiled as
//! configured. Shared by `vae reconstruct`, `vae cache` and `forward --component vae-*`.

use crate::backends::backend_by_name;
use crate::commands::DumpGraphsArg;
use anyhow::{bail, Context, Result};
use hyv_frontend::{CastWeights, HostTensor, Mode, Runner, Session, WeightStore};
use hyv_ir::DType;
use hyv_models::hunyuan_vae::tiling::{
    decode_tile_count, encode_tile_count, tiled_decode, tiled_encode, ModelTileRunner,
    TilingOptions,
};
use hyv_models::hunyuan_vae::{
    HunyuanVideoVaeDecoder, HunyuanVideoVaeEncoder, VaeConfig, VaeOptions,
};
use hyv_runtime::PipelineOptions;
use indicatif::ProgressBar;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// Options that pick the VAE and how it runs.
#[derive(clap::Args, Debug, Clone)]
pub struct VaeModelArgs {
    /// The VAE: a diffusers folder (`config.json` + `diffusion_pytorch_model.safetensors`,
    /// e.g. the `vae/` folder of a Hugging Face HunyuanVideo download) or a model folder
    /// that has one in `vae/`. Official checkpoints use the same tensor names; save them
    /// as safetensors first.
    #[arg(long, value_name = "PATH")]
    pub vae: PathBuf,
    /// Backend to run on: `reference` (the oracle), `reference-primitives` or `cpu` (much
    /// faster: gemm convolutions and tiled attention); `cuda[:N]` in builds with CUDA.
    #[arg(long, default_value = "reference")]
    pub backend: String,
    /// Execution mode: eager (op by op) or graph (compiled once per tile shape).
    #[arg(long, default_value = "graph")]
    pub mode: Mode,
    /// Compute dtype of the VAE (f32, bf16, f16); group norms keep f32 statistics.
    #[arg(long, default_value = "f32")]
    pub dtype: DType,
    #[command(flatten)]
    pub tiling: TilingArgs,
    #[command(flatten)]
    pub dump: DumpGraphsArg,
}

/// Tiling options. Without `--tiling` the VAE runs untiled (exact, but memory grows with
/// the video); with it, both spatial and temporal tiling are on, with the official
/// HunyuanVideo sizes by default (256-px tiles at a 192-px stride, 64-frame tiles at a
/// 48-frame stride) and linear blending over the overlaps.
#[derive(clap::Args, Debug, Clone)]
pub struct TilingArgs {
    /// Encode and decode in overlapping tiles, bounding peak memory.
    #[arg(long)]
    pub tiling: bool,
    /// Spatial tile size in pixels (a multiple of 8).
    #[arg(long, default_value_t = 256, requires = "tiling")]
    pub tile_size: usize,
    /// Spatial tile stride in pixels (≤ tile size; the rest is blended).
    #[arg(long, default_value_t = 192, requires = "tiling")]
    pub tile_stride: usize,
    /// Temporal tile length in frames (a multiple of 4).
    #[arg(long, default_value_t = 64, requires = "tiling")]
    pub tile_frames: usize,
    /// Temporal tile stride in frames (≤ tile length; the rest is blended).
    #[arg(long, default_value_t = 48, requires = "tiling")]
    pub tile_frame_stride: usize,
    /// Run the batch one sample at a time.
    #[arg(long)]
    pub slicing: bool,
}

impl TilingArgs {
    /// The tiling these options ask for.
    pub fn options(&self) -> TilingOptions {
        let mut options = if self.tiling {
            TilingOptions {
                tile_sample_min_height: self.tile_size,
                tile_sample_min_width: self.tile_size,
                tile_sample_stride_height: self.tile_stride,
                tile_sample_stride_width: self.tile_stride,
                tile_sample_min_num_frames: self.tile_frames,
                tile_sample_stride_num_frames: self.tile_frame_stride,
                ..TilingOptions::official()
            }
        } else {
            TilingOptions::disabled()
        };
        options.slicing = self.slicing;
        options
    }
}

/// The folder holding the VAE's `config.json`: `path` itself or `path/vae`.
pub fn vae_folder(path: &Path) -> Result<PathBuf> {
    for candidate in [path.to_path_buf(), path.join("vae")] {
        if candidate.join("config.json").is_file() {
            return Ok(candidate);
        }
    }
    if !path.exists() {
        bail!("--vae {}: no such file or folder", path.display());
    }
    bail!(
        "--vae {}: no config.json there or in its vae/ subfolder (expected a diffusers \
         AutoencoderKLHunyuanVideo folder)",
        path.display()
    )
}

/// A loaded VAE ready to encode and decode, tiled as configured.
pub struct Vae {
    /// The VAE's configuration.
    pub config: VaeConfig,
    /// The compute dtype.
    pub dtype: DType,
    /// How encode and decode are tiled.
    pub tiling: TilingOptions,
    encoder: Session,
    decoder: Session,
}

impl Vae {
    /// Loads the VAE of `args` (config and weights; weights are checked strictly on first
    /// use) and checks the tiling options against its compression ratios.
    pub fn open(args: &VaeModelArgs) -> Result<Vae> {
        let folder = vae_folder(&args.vae)?;
        let config = VaeConfig::from_json_file(folder.join("config.json"))?;
        let tiling = args.tiling.options();
        tiling
            .validate(
                config.spatial_compression_ratio,
                config.temporal_compression_ratio,
            )
            .context("bad tiling options")?;
        let options = VaeOptions { dtype: args.dtype };
        let backend = backend_by_name(&args.backend)?;
        let runner = |dump: &str| {
            Runner::new(args.mode, backend.clone()).with_pipeline(PipelineOptions {
                dump_dir: args.dump.dump_graphs.as_ref().map(|d| d.join(dump)),
                ..Default::default()
            })
        };
        let cast =
            || -> Result<_> { Ok(CastWeights::new(WeightStore::open(&folder)?, args.dtype)) };
        let encoder = Session::new(
            runner("encoder"),
            Rc::new(HunyuanVideoVaeEncoder::new(config.clone(), options)?),
            HunyuanVideoVaeEncoder::weights(cast()?),
        );
        let decoder = Session::new(
            runner("decoder"),
            Rc::new(HunyuanVideoVaeDecoder::new(config.clone(), options)?),
            HunyuanVideoVaeDecoder::weights(cast()?),
        );
        Ok(Vae {
            config,
            dtype: args.dtype,
            tiling,
            encoder,
            decoder,
        })
    }

    /// How many model calls encoding a sample of `dims` ([B, C, T, H, W]) takes.
    pub fn encode_calls(&self, dims: &[usize]) -> usize {
        encode_tile_count(
            dims,
            &self.tiling,
            self.config.spatial_compression_ratio,
            self.config.temporal_compression_ratio,
        )
    }

    /// How many model calls decoding a latent of `dims` takes.
    pub fn decode_calls(&self, dims: &[usize]) -> usize {
        decode_tile_count(
            dims,
            &self.tiling,
            self.config.spatial_compression_ratio,
            self.config.temporal_compression_ratio,
        )
    }

    /// The posterior moments [B, 2·latent, T', H/8, W/8] of `sample` (pixels in [-1, 1]),
    /// ticking `progress` once per model call.
    pub fn encode(&self, sample: &HostTensor, progress: &ProgressBar) -> Result<HostTensor> {
        let sample = sample.cast(self.dtype);
        let tick = || progress.inc(1);
        let mut tiles = ModelTileRunner::new(Some(&self.encoder), None).on_tile(&tick);
        Ok(tiled_encode(
            &mut tiles,
            &sample,
            &self.tiling,
            self.config.spatial_compression_ratio,
            self.config.temporal_compression_ratio,
        )?)
    }

    /// The video [B, 3, T, H, W] decoded from `latent` (as given to diffusers'
    /// `vae.decode`, i.e. already divided by the scaling factor).
    pub fn decode(&self, latent: &HostTensor, progress: &ProgressBar) -> Result<HostTensor> {
        let latent = latent.cast(self.dtype);
        let tick = || progress.inc(1);
        let mut tiles = ModelTileRunner::new(None, Some(&self.decoder)).on_tile(&tick);
        Ok(tiled_decode(
            &mut tiles,
            &latent,
            &self.tiling,
            self.config.spatial_compression_ratio,
            self.config.temporal_compression_ratio,
        )?)
    }
}
