//! `hyv vae reconstruct`: video or image → VAE encode → posterior sample → decode → file,
//! like mindone's `scripts/run_vae.py`, with the PSNR of each reconstruction.

use super::model::{Vae, VaeModelArgs};
use crate::commands::files::{media_files, BatchReport};
use crate::progress::bar;
use anyhow::{bail, Context, Result};
use hyv_media::{is_image_path, load_clip, save_clip, Clip, LoadOptions, MetricKind};
use hyv_models::hunyuan_vae::DiagonalGaussian;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// How the latent is taken from the posterior.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum Posterior {
    /// A sample mean + std·ε with ε from --seed (what the reference script does).
    Sample,
    /// The mean.
    Mode,
}

/// Arguments of `hyv vae reconstruct`.
#[derive(clap::Args, Debug)]
pub struct ReconstructArgs {
    /// One video to reconstruct (mp4, avi, webm, mkv, mov, ...).
    #[arg(long, value_name = "FILE", group = "input", required_unless_present_any = ["image_path", "input_dir"])]
    pub video_path: Option<PathBuf>,
    /// One image to reconstruct (png, jpg, webp), as a one-frame clip.
    #[arg(long, value_name = "FILE", group = "input")]
    pub image_path: Option<PathBuf>,
    /// A folder: every video and image under it is reconstructed into a mirror of its tree
    /// under --rec-path (videos become .mp4); files that fail are reported and skipped.
    #[arg(long, value_name = "DIR", group = "input")]
    pub input_dir: Option<PathBuf>,
    /// Where to write: a file (.mp4 for videos; .png/.jpg/.webp or .mp4 for images), or
    /// the output folder with --input-dir.
    #[arg(long, value_name = "PATH", alias = "output-path")]
    pub rec_path: PathBuf,
    /// Height to resize (short side) and center-crop to; a multiple of 8.
    #[arg(long, default_value_t = 336)]
    pub height: usize,
    /// Width to resize (short side) and center-crop to; a multiple of 8.
    #[arg(long, default_value_t = 336)]
    pub width: usize,
    /// Frames to reconstruct, from the first; 4k+1 (the causal VAE keeps frame 0 and
    /// compresses the rest 4×). Images are always one frame.
    #[arg(long, default_value_t = 65)]
    pub num_frames: usize,
    /// Take every Nth frame of the source.
    #[arg(long, default_value_t = 1)]
    pub sample_rate: usize,
    /// Frame rate of the written video (default: the source's rate divided by
    /// --sample-rate).
    #[arg(long)]
    pub fps: Option<f64>,
    /// Latent taken from the posterior.
    #[arg(long, value_enum, default_value = "sample")]
    pub posterior: Posterior,
    /// Seed of the posterior sample (Philox: the same on every backend).
    #[arg(long, default_value_t = 4)]
    pub seed: u64,
    #[command(flatten)]
    pub vae: VaeModelArgs,
}

/// Runs `hyv vae reconstruct`.
pub fn run(args: ReconstructArgs) -> Result<()> {
    let vae = Vae::open(&args.vae)?;
    if let Some(dir) = &args.input_dir {
        return reconstruct_folder(&args, &vae, dir);
    }
    let input = args
        .video_path
        .as_ref()
        .or(args.image_path.as_ref())
        .expect("clap requires one input");
    reconstruct_file(&args, &vae, input, &args.rec_path)
}

fn reconstruct_folder(args: &ReconstructArgs, vae: &Vae, dir: &Path) -> Result<()> {
    let files = media_files(dir)?;
    if files.is_empty() {
        bail!("no videos or images found under {}", dir.display());
    }
    let progress = bar(files.len(), "files");
    let mut report = BatchReport::default();
    for rel in &files {
        progress.set_message(rel.display().to_string());
        let out = if is_image_path(rel) {
            args.rec_path.join(rel)
        } else {
            args.rec_path.join(rel.with_extension("mp4"))
        };
        let result = progress.suspend(|| reconstruct_file(args, vae, &dir.join(rel), &out));
        match result {
            Ok(()) => report.done += 1,
            Err(e) => report.fail(rel, &e, &progress),
        }
        progress.inc(1);
    }
    progress.finish_and_clear();
    report.finish("reconstruct")
}

/// Reconstructs one file into `out`.
fn reconstruct_file(args: &ReconstructArgs, vae: &Vae, input: &Path, out: &Path) -> Result<()> {
    let image = is_image_path(input);
    let options = LoadOptions {
        height: Some(args.height),
        width: Some(args.width),
        num_frames: Some(if image { 1 } else { args.num_frames }),
        sample_rate: args.sample_rate,
        require_4k_plus_1: true,
    };
    let clip = load_clip(input, &options)?;
    let sample = clip.to_tensor();
    let dims = sample.shape().dims().to_vec();
    let latent_dims = vae
        .config
        .latent_dims(clip.num_frames, clip.height, clip.width)?;

    let start = Instant::now();
    let progress = bar(vae.encode_calls(&dims), "encode");
    let moments = vae.encode(&sample, &progress)?;
    progress.finish_and_clear();
    let encoded = start.elapsed();
    let posterior = DiagonalGaussian::from_moments(&moments)?;
    let latent = match args.posterior {
        Posterior::Sample => posterior.sample(args.seed),
        Posterior::Mode => posterior.mode(),
    };
    let progress = bar(vae.decode_calls(latent.shape().dims()), "decode");
    let decoded = vae.decode(&latent, &progress)?;
    progress.finish_and_clear();

    let fps = args.fps.unwrap_or(clip.fps / args.sample_rate as f64);
    let rec = Clip::from_tensor(&decoded, fps)?;
    if rec.num_frames != clip.num_frames || rec.height != clip.height || rec.width != clip.width {
        bail!(
            "internal: reconstruction is {}×{}×{}, input was {}×{}×{}",
            rec.num_frames,
            rec.height,
            rec.width,
            clip.num_frames,
            clip.height,
            clip.width
        );
    }
    save_clip(out, &rec).with_context(|| format!("writing {}", out.display()))?;
    let psnr = MetricKind::Psnr.compute(&clip, &rec)?;
    println!(
        "{} → {}: {} frames {}×{} (latent {}×{}×{}), encode {:.2} s, decode {:.2} s, PSNR {psnr:.2} dB",
        input.display(),
        out.display(),
        rec.num_frames,
        rec.height,
        rec.width,
        latent_dims[0],
        latent_dims[1],
        latent_dims[2],
        encoded.as_secs_f64(),
        start.elapsed().as_secs_f64() - encoded.as_secs_f64(),
    );
    Ok(())
}
