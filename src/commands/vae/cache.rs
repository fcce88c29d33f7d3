//! `hyv vae cache`: the VAE latent cache for training, like mindone's
//! `scripts/run_vae_cache.py`: one safetensors file per video with the posterior's
//! `latent_mean` and `latent_std` ([16, T', H/8, W/8]), mirroring the dataset tree.
//!
//! Decisions, documented for users of the reference:
//! * the output name replaces only the LAST extension (`clips/a.b.mp4` →
//!   `clips/a.b.safetensors`), which is also what the training loader looks up; the
//!   reference writer cut names at the first dot, so `a.b.mp4` and `a.c.mp4` collided;
//! * a file already present is skipped, so an interrupted run resumes where it stopped
//!   (files are written under a temporary name and renamed, so none is ever half-written);
//! * the whole video is encoded, cut to its largest 4k+1 frame count (or --num-frames).

use super::model::{Vae, VaeModelArgs};
use crate::commands::files::{csv_column, media_files, BatchReport};
use crate::progress::bar;
use anyhow::{bail, Context, Result};
use hyv_ir::HostTensor;
use hyv_media::{is_video_path, load_clip, LoadOptions};
use hyv_models::hunyuan_vae::DiagonalGaussian;
use hyv_runtime::write_safetensors;
use std::path::{Path, PathBuf};

/// Arguments of `hyv vae cache`.
#[derive(clap::Args, Debug)]
pub struct CacheArgs {
    /// Folder of the videos (and the root of the CSV's relative paths).
    #[arg(long, value_name = "DIR")]
    pub input_video_dir: PathBuf,
    /// Folder the latents go to, mirroring the video folder's tree.
    #[arg(long, value_name = "DIR")]
    pub latent_cache_dir: PathBuf,
    /// A CSV with a header naming the videos to cache (relative to --input-video-dir);
    /// without it, every video under --input-video-dir is cached.
    #[arg(long, value_name = "CSV")]
    pub data_file_path: Option<PathBuf>,
    /// The CSV column holding the video paths.
    #[arg(long, default_value = "video")]
    pub video_column: String,
    /// Height to resize (short side) and center-crop to; a multiple of 8.
    #[arg(long)]
    pub height: usize,
    /// Width to resize (short side) and center-crop to; a multiple of 8.
    #[arg(long)]
    pub width: usize,
    /// Take every Nth frame.
    #[arg(long, default_value_t = 1)]
    pub sample_rate: usize,
    /// Encode only the first N frames (4k+1); default: all, cut to the largest 4k+1.
    #[arg(long)]
    pub num_frames: Option<usize>,
    #[command(flatten)]
    pub vae: VaeModelArgs,
}

/// Runs `hyv vae cache`.
pub fn run(args: CacheArgs) -> Result<()> {
    let videos = match &args.data_file_path {
        Some(csv) => csv_videos(csv, &args.video_column)?,
        None => media_files(&args.input_video_dir)?
            .into_iter()
            .filter(|p| is_video_path(p))
            .map(Ok)
            .collect(),
    };
    if videos.is_empty() {
        bail!("no videos to cache");
    }
    let vae = Vae::open(&args.vae)?;
    let progress = bar(videos.len(), "cache");
    let mut report = BatchReport::default();
    for item in &videos {
        let rel = match item {
            Ok(rel) => rel,
            Err(bad_row) => {
                report.fail(Path::new("<csv>"), bad_row, &progress);
                progress.inc(1);
                continue;
            }
        };
        progress.set_message(rel.display().to_string());
        let out = args
            .latent_cache_dir
            .join(rel.with_extension("safetensors"));
        if out.is_file() {
            report.skipped += 1;
        } else {
            match progress.suspend(|| cache_one(&args, &vae, rel, &out)) {
                Ok(()) => report.done += 1,
                Err(e) => report.fail(rel, &e, &progress),
            }
        }
        progress.inc(1);
    }
    progress.finish_and_clear();
    report.finish("vae cache")
}

/// Encodes one video and writes its posterior to `out`.
fn cache_one(args: &CacheArgs, vae: &Vae, rel: &Path, out: &Path) -> Result<()> {
    let path = args.input_video_dir.join(rel);
    let mut clip = load_clip(
        &path,
        &LoadOptions {
            height: Some(args.height),
            width: Some(args.width),
            num_frames: args.num_frames,
            sample_rate: args.sample_rate,
            require_4k_plus_1: args.num_frames.is_some(),
        },
    )?;
    let ratio = vae.config.temporal_compression_ratio;
    let keep = (clip.num_frames - 1) / ratio * ratio + 1;
    clip.frames.truncate(keep * clip.height * clip.width * 3);
    clip.num_frames = keep;
    let moments = vae.encode(&clip.to_tensor(), &indicatif::ProgressBar::hidden())?;
    let posterior = DiagonalGaussian::from_moments(&moments)?;
    let mean = drop_batch(&posterior.mean)?.cast(vae.dtype);
    let std = drop_batch(&posterior.std)?.cast(vae.dtype);
    write_safetensors(out, [("latent_mean", &mean), ("latent_std", &std)])
        .with_context(|| format!("writing {}", out.display()))?;
    println!(
        "{} → {} ({} frames, latent {:?})",
        rel.display(),
        out.display(),
        clip.num_frames,
        mean.shape().dims()
    );
    Ok(())
}

/// [1, C, T, H, W] → [C, T, H, W], the layout of the reference's cache files.
fn drop_batch(t: &HostTensor) -> Result<HostTensor> {
    let dims = t.shape().dims();
    Ok(t.clone().reshape(dims[1..].to_vec())?)
}

/// The video paths of the CSV's `column`; a bad row is an `Err` naming its line, so the
/// job reports it and goes on with the rest.
fn csv_videos(path: &Path, column: &str) -> Result<Vec<Result<PathBuf>>> {
    let mut reader = csv::Reader::from_path(path)
        .with_context(|| format!("cannot read the CSV {}", path.display()))?;
    let headers = reader
        .headers()
        .with_context(|| format!("{}: cannot read the header", path.display()))?
        .clone();
    let index = csv_column(path, &headers, column)?;
    Ok(reader
        .records()
        .enumerate()
        .map(|(i, record)| {
            let line = i + 2;
            let record = record.with_context(|| format!("{}:{line}: bad row", path.display()))?;
            match record.get(index).map(str::trim) {
                Some(v) if !v.is_empty() => Ok(PathBuf::from(v)),
                _ => bail!("{}:{line}: empty `{column}`", path.display()),
            }
        })
        .collect())
}
