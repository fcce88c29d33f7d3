//! `hyv eval`: PSNR and SSIM between real and generated (or reconstructed) videos, per video
//! and averaged, with the pixel conventions of mindone's `eval_common_metrics.py`.

use crate::commands::files::{media_files, BatchReport};
use crate::progress::bar;
use anyhow::{bail, Context, Result};
use hyv_media::{load_clip, Clip, LoadOptions, MetricKind};
use std::path::{Path, PathBuf};

/// Arguments of `hyv eval`.
#[derive(clap::Args, Debug)]
pub struct EvalArgs {
    /// Folder of the real (ground-truth) videos.
    #[arg(long, value_name = "DIR")]
    pub real_dir: PathBuf,
    /// Folder of the generated or reconstructed videos. Each one is paired with the real
    /// file at the same relative path, whatever its extension (`a/b.avi` ↔ `a/b.mp4`).
    #[arg(long, value_name = "DIR")]
    pub gen_dir: PathBuf,
    /// Metrics, comma-separated: psnr (per frame on [0,1], 100 for identical frames, as the
    /// reference) and ssim (11×11 Gaussian window, σ 1.5).
    #[arg(long, value_delimiter = ',', default_value = "psnr,ssim")]
    pub metric: Vec<MetricKind>,
    /// Resize (short side) and center-crop both videos to this height first.
    #[arg(long, requires = "width")]
    pub height: Option<usize>,
    /// Resize and center-crop both videos to this width first.
    #[arg(long, requires = "height")]
    pub width: Option<usize>,
    /// Compare only the first N frames (default: as many as the shorter video has).
    #[arg(long)]
    pub num_frames: Option<usize>,
    /// Take every Nth frame of both videos.
    #[arg(long, default_value_t = 1)]
    pub sample_rate: usize,
    /// Also write the per-video scores and the means as JSON to FILE (atomically).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}

/// Runs `hyv eval`.
pub fn run(args: EvalArgs) -> Result<()> {
    if args.metric.is_empty() {
        bail!("--metric needs at least one of psnr, ssim");
    }
    let generated = media_files(&args.gen_dir)?;
    if generated.is_empty() {
        bail!("no videos or images found under {}", args.gen_dir.display());
    }
    let progress = bar(generated.len(), "eval");
    let mut report = BatchReport::default();
    let mut rows: Vec<(PathBuf, Vec<f64>)> = Vec::new();
    for rel in &generated {
        progress.set_message(rel.display().to_string());
        match score(&args, rel) {
            Ok(scores) => {
                let cells: Vec<String> = args
                    .metric
                    .iter()
                    .zip(&scores)
                    .map(|(m, s)| format!("{m} {s:.4}"))
                    .collect();
                progress.suspend(|| println!("{}: {}", rel.display(), cells.join(", ")));
                rows.push((rel.clone(), scores));
                report.done += 1;
            }
            Err(e) => report.fail(rel, &e, &progress),
        }
        progress.inc(1);
    }
    progress.finish_and_clear();
    if !rows.is_empty() {
        let means: Vec<String> = args
            .metric
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let mean = rows.iter().map(|(_, s)| s[i]).sum::<f64>() / rows.len() as f64;
                format!("{m} {mean:.4}")
            })
            .collect();
        println!("mean over {} videos: {}", rows.len(), means.join(", "));
        if let Some(path) = &args.json {
            write_json(path, &args.metric, &rows)?;
        }
    }
    report.finish("eval")
}

/// The scores of one generated file against its real counterpart, in `--metric` order.
fn score(args: &EvalArgs, rel: &Path) -> Result<Vec<f64>> {
    let real_path = counterpart(&args.real_dir, rel)?;
    let options = LoadOptions {
        height: args.height,
        width: args.width,
        num_frames: None,
        sample_rate: args.sample_rate,
        require_4k_plus_1: false,
    };
    let real = load_clip(&real_path, &options)?;
    let generated = load_clip(args.gen_dir.join(rel), &options)?;
    let frames = args
        .num_frames
        .unwrap_or(real.num_frames.min(generated.num_frames));
    let real = first_frames(real, frames, &real_path)?;
    let generated = first_frames(generated, frames, &args.gen_dir.join(rel))?;
    args.metric
        .iter()
        .map(|m| Ok(m.compute(&real, &generated)?))
        .collect()
}

/// The real file for generated `rel`: the same relative path with any media extension.
fn counterpart(real_dir: &Path, rel: &Path) -> Result<PathBuf> {
    let same = real_dir.join(rel);
    if same.is_file() {
        return Ok(same);
    }
    let parent = same.parent().unwrap_or(real_dir);
    let stem = rel.file_stem().unwrap_or_default();
    if let Ok(entries) = std::fs::read_dir(parent) {
        let mut candidates: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.file_stem() == Some(stem))
            .filter(|p| hyv_media::is_video_path(p) || hyv_media::is_image_path(p))
            .collect();
        candidates.sort();
        if let Some(p) = candidates.into_iter().next() {
            return Ok(p);
        }
    }
    bail!(
        "no real video for {} (looked for {} with any video extension)",
        rel.display(),
        same.display()
    )
}

/// `clip` cut to its first `frames` frames; an error when it has fewer.
fn first_frames(mut clip: Clip, frames: usize, path: &Path) -> Result<Clip> {
    if clip.num_frames < frames {
        bail!(
            "{} has {} frames, {frames} wanted",
            path.display(),
            clip.num_frames
        );
    }
    clip.frames.truncate(frames * clip.height * clip.width * 3);
    clip.num_frames = frames;
    Ok(clip)
}

fn write_json(path: &Path, metrics: &[MetricKind], rows: &[(PathBuf, Vec<f64>)]) -> Result<()> {
    let per_video: Vec<serde_json::Value> = rows
        .iter()
        .map(|(rel, scores)| {
            let mut entry = serde_json::Map::new();
            entry.insert("video".into(), rel.display().to_string().into());
            for (m, s) in metrics.iter().zip(scores) {
                entry.insert(m.to_string(), (*s).into());
            }
            entry.into()
        })
        .collect();
    let mut means = serde_json::Map::new();
    for (i, m) in metrics.iter().enumerate() {
        let mean = rows.iter().map(|(_, s)| s[i]).sum::<f64>() / rows.len() as f64;
        means.insert(m.to_string(), mean.into());
    }
    let doc = serde_json::json!({ "videos": per_video, "mean": means });
    let text = serde_json::to_string_pretty(&doc)?;
    hyv_ir::write_atomic(path, text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}
