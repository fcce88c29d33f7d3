//! `hyv sample`: text-to-video with HunyuanVideo, like the reference's `sample_video.py` —
//! prompts (or cached prompt embeddings) in, one mp4 per prompt and seed out, with a
//! progress bar per denoising step and a timing summary.

mod naming;

use crate::backends::backend_by_name;
use crate::commands::files::BatchReport;
use crate::commands::prompt_embeds;
use crate::commands::text_encoder_args::TextEncoderArgs;
use crate::commands::DumpGraphsArg;
use crate::progress::bar;
use anyhow::{bail, Context, Result};
use hyv_frontend::{Mode, Runner};
use hyv_ir::{DType, HostTensor};
use hyv_media::{save_clip, Clip};
use hyv_models::hunyuan_vae::tiling::TilingOptions;
use hyv_models::pipeline::{
    SampleRequest, TextToVideo, TextToVideoOptions, Timings, DEFAULT_NEGATIVE_PROMPT,
};
use hyv_models::text_encoders::PromptEmbeds;
use hyv_runtime::{read_safetensors, write_safetensors, PipelineOptions};
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

/// Arguments of `hyv sample`.
#[derive(clap::Args, Debug)]
pub struct SampleArgs {
    /// The prompt, or a `.txt` file with one prompt per line.
    #[arg(long, required_unless_present = "text_embed_path")]
    pub prompt: Option<String>,
    /// Negative prompt for true CFG (--cfg-scale > 1); default: the official HunyuanVideo
    /// negative prompt.
    #[arg(long, alias = "neg-prompt")]
    pub negative_prompt: Option<String>,
    /// A model folder laid out like the Hugging Face diffusers HunyuanVideo repo
    /// (transformer/, vae/, text_encoder/, tokenizer/, text_encoder_2/, tokenizer_2/).
    #[arg(long, value_name = "DIR")]
    pub model_dir: PathBuf,
    /// Folder the videos are written to (created if missing).
    #[arg(long, value_name = "DIR", default_value = "./results")]
    pub save_path: PathBuf,
    /// Video height in pixels; a multiple of 16.
    #[arg(long, default_value_t = 720)]
    pub height: usize,
    /// Video width in pixels; a multiple of 16.
    #[arg(long, default_value_t = 1280)]
    pub width: usize,
    /// Frames; 4k+1.
    #[arg(long, default_value_t = 129)]
    pub video_length: usize,
    /// Denoising steps.
    #[arg(long, default_value_t = 50)]
    pub infer_steps: usize,
    /// Seed of the initial noise; video i of a prompt uses seed + i (default: random,
    /// printed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Videos per prompt.
    #[arg(long, default_value_t = 1)]
    pub num_videos: usize,
    /// Time shift of the flow-matching schedule (7 for 720p; 2–5 suit low resolutions).
    #[arg(long, default_value_t = 7.0)]
    pub flow_shift: f64,
    /// Sample from σ = 1 down to 0 as every reference script does (`--flow-reverse`);
    /// `--flow-reverse false` gives the official scheduler's reversed sequence.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub flow_reverse: bool,
    /// Embedded guidance scale of the guidance-distilled DiT (fed ×1000).
    #[arg(long, alias = "embedded-cfg-scale", default_value_t = 6.0)]
    pub embedded_guidance_scale: f32,
    /// True classifier-free guidance: above 1, each step also runs the negative prompt.
    #[arg(long, default_value_t = 1.0)]
    pub cfg_scale: f32,
    /// Prompt embeddings from `hyv text-encode` (a .safetensors, or a .txt listing one per
    /// line) instead of running the text encoders; with --cfg-scale > 1 the file must
    /// also hold the negative_* tensors.
    #[arg(long, value_name = "FILE")]
    pub text_embed_path: Option<PathBuf>,
    /// Skip all transformer blocks on steps whose input barely changed (TeaCache).
    #[arg(long)]
    pub enable_teacache: bool,
    /// TeaCache threshold on the accumulated rescaled relative L1 change (0.1 ≈ 1.6×,
    /// 0.15 ≈ 2.1× fewer block evaluations on the released model).
    #[arg(long, default_value_t = 0.1, requires = "enable_teacache")]
    pub teacache_thresh: f64,
    /// Decode in tiles (256-px, 64-frame tiles at strides 192 and 48), bounding memory.
    #[arg(long)]
    pub vae_tiling: bool,
    /// Also write the denoised latents next to each video (`<name>.safetensors`,
    /// tensor `latents`, before the VAE scaling).
    #[arg(long)]
    pub save_latents: bool,
    /// Initial latents (safetensors with a `latents` tensor [1, C, F', H/8, W/8]) instead
    /// of seeded noise, e.g. to compare with another implementation.
    #[arg(long, value_name = "FILE")]
    pub latents: Option<PathBuf>,
    /// Frame rate of the written videos.
    #[arg(long, default_value_t = 24.0)]
    pub fps: f64,
    /// Backend: `reference`, `reference-primitives`, `cpu` or `cuda[:N]`.
    #[arg(long, default_value = "cpu")]
    pub backend: String,
    /// Execution mode: eager (op by op) or graph (compiled once, reused every step).
    #[arg(long, default_value = "graph")]
    pub mode: Mode,
    /// Compute dtype of the transformer (f32, bf16, f16).
    #[arg(long, default_value = "f32")]
    pub dtype: DType,
    /// Compute dtype of the VAE.
    #[arg(long, default_value = "f32")]
    pub vae_dtype: DType,
    #[command(flatten)]
    pub text: TextEncoderArgs,
    #[command(flatten)]
    pub dump: DumpGraphsArg,
}

/// One video to make: its prompt (or embeddings file) and seed.
struct Job {
    prompt: String,
    embeds_file: Option<PathBuf>,
    seed: u64,
}

/// Runs `hyv sample`.
pub fn run(args: SampleArgs) -> Result<()> {
    // Sizes and frame counts are checked before anything is loaded.
    request(&args, 0, None).latent_shape(1)?;
    let jobs = jobs(&args)?;
    let initial_latents = match &args.latents {
        Some(path) => Some(
            read_safetensors(path)?
                .remove("latents")
                .with_context(|| format!("{}: no tensor `latents`", path.display()))?,
        ),
        None => None,
    };
    let t2v = load(&args)?;
    std::fs::create_dir_all(&args.save_path)
        .with_context(|| format!("cannot create {}", args.save_path.display()))?;
    let mut report = BatchReport::default();
    let hidden = indicatif::ProgressBar::hidden();
    for job in &jobs {
        let label = job
            .embeds_file
            .clone()
            .unwrap_or_else(|| PathBuf::from(&job.prompt));
        match sample_one(&args, &t2v, job, initial_latents.clone()) {
            Ok(()) => report.done += 1,
            Err(e) => report.fail(&label, &e, &hidden),
        }
    }
    report.finish("sample")
}

/// The videos to make: each prompt (or embeddings file) × `--num-videos` seeds.
fn jobs(args: &SampleArgs) -> Result<Vec<Job>> {
    let seed = args.seed.unwrap_or_else(|| {
        let nanos = SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let seed = u64::from(nanos % 101);
        println!("seed: {seed} (random; pass --seed to choose)");
        seed
    });
    let items: Vec<(String, Option<PathBuf>)> = match (&args.text_embed_path, &args.prompt) {
        (Some(path), prompt) => embeds_files(path)?
            .into_iter()
            .map(|f| {
                // Videos are named after --prompt when given, else after the file.
                let name = prompt.clone().unwrap_or_else(|| {
                    f.file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default()
                });
                (name, Some(f))
            })
            .collect(),
        (None, Some(prompt)) => prompts(prompt)?.into_iter().map(|p| (p, None)).collect(),
        (None, None) => bail!("give --prompt or --text-embed-path"),
    };
    Ok(items
        .into_iter()
        .flat_map(|(prompt, embeds_file)| {
            (0..args.num_videos as u64).map(move |i| Job {
                prompt: prompt.clone(),
                embeds_file: embeds_file.clone(),
                seed: seed + i,
            })
        })
        .collect())
}

/// `--prompt`: the text itself, or the non-empty lines of a `.txt` file.
fn prompts(prompt: &str) -> Result<Vec<String>> {
    let path = Path::new(prompt);
    if !prompt.ends_with(".txt") {
        return Ok(vec![prompt.to_string()]);
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the prompt file {}", path.display()))?;
    let lines: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    if lines.is_empty() {
        bail!("{}: no prompts in the file", path.display());
    }
    Ok(lines)
}

/// `--text-embed-path`: one `.safetensors`, or a `.txt` listing them.
fn embeds_files(path: &Path) -> Result<Vec<PathBuf>> {
    if path.extension().is_some_and(|e| e == "txt") {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        Ok(text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(PathBuf::from)
            .collect())
    } else {
        Ok(vec![path.to_path_buf()])
    }
}

/// Loads the pipeline on the chosen backend and mode.
fn load(args: &SampleArgs) -> Result<TextToVideo> {
    let backend = backend_by_name(&args.backend)?;
    let (mode, dump) = (args.mode, args.dump.dump_graphs.clone());
    let runner = move |component: &str| {
        Runner::new(mode, backend.clone()).with_pipeline(PipelineOptions {
            dump_dir: dump.as_ref().map(|d| d.join(component)),
            ..Default::default()
        })
    };
    let options = TextToVideoOptions {
        dtype: args.dtype,
        vae_dtype: args.vae_dtype,
        text: args.text.options(),
        tiling: if args.vae_tiling {
            TilingOptions::official()
        } else {
            TilingOptions::disabled()
        },
        teacache: args.enable_teacache.then_some(args.teacache_thresh),
        text_encoders: args.text_embed_path.is_none(),
    };
    Ok(TextToVideo::load(&args.model_dir, runner, options)?)
}

/// The request of one video with `seed`.
fn request(args: &SampleArgs, seed: u64, initial_latents: Option<HostTensor>) -> SampleRequest {
    SampleRequest {
        height: args.height,
        width: args.width,
        video_length: args.video_length,
        infer_steps: args.infer_steps,
        seed,
        flow_shift: args.flow_shift,
        flow_reverse: args.flow_reverse,
        embedded_guidance_scale: args.embedded_guidance_scale,
        cfg_scale: args.cfg_scale,
        initial_latents,
    }
}

/// Samples one video and writes it (and its latents with --save-latents).
fn sample_one(
    args: &SampleArgs,
    t2v: &TextToVideo,
    job: &Job,
    initial_latents: Option<HostTensor>,
) -> Result<()> {
    let request = request(args, job.seed, initial_latents);
    request.latent_shape(t2v.transformer_config().in_channels)?;
    let start = Instant::now();
    let (cond, uncond) = encode(args, t2v, job, request.true_cfg())?;
    let text_encode = start.elapsed();

    let progress = bar(args.infer_steps, "denoise");
    let out = t2v.sample(&request, &cond, uncond.as_ref(), &mut |_| progress.inc(1))?;
    progress.finish_and_clear();

    let stem = naming::video_stem(SystemTime::now(), job.seed, &job.prompt);
    let path = args.save_path.join(format!("{stem}.mp4"));
    let signed: Vec<f32> = out
        .video
        .to_f32_vec()
        .iter()
        .map(|x| x * 2.0 - 1.0)
        .collect();
    let clip = Clip::from_tensor(
        &HostTensor::from_f32(out.video.shape().clone(), signed)?,
        args.fps,
    )?;
    save_clip(&path, &clip).with_context(|| format!("writing {}", path.display()))?;
    println!("{}", path.display());
    if args.save_latents {
        let latents = args.save_path.join(format!("{stem}.safetensors"));
        write_safetensors(&latents, [("latents", &out.latents)])
            .with_context(|| format!("writing {}", latents.display()))?;
        println!("{}", latents.display());
    }
    summary(
        &Timings {
            text_encode,
            ..out.timings
        },
        args.infer_steps,
        out.teacache,
    );
    Ok(())
}

/// The prompt embeddings of a job (and the negative ones under true CFG).
fn encode(
    args: &SampleArgs,
    t2v: &TextToVideo,
    job: &Job,
    true_cfg: bool,
) -> Result<(PromptEmbeds, Option<PromptEmbeds>)> {
    if let Some(file) = &job.embeds_file {
        return prompt_embeds::read(file, true_cfg);
    }
    let cond = t2v.encode_prompts(std::slice::from_ref(&job.prompt))?;
    let uncond = if true_cfg {
        let negative = args
            .negative_prompt
            .clone()
            .unwrap_or_else(|| DEFAULT_NEGATIVE_PROMPT.to_string());
        Some(t2v.encode_prompts(&[negative])?)
    } else {
        None
    };
    Ok((cond, uncond))
}

/// Prints where the time went and what TeaCache saved.
fn summary(t: &Timings, steps: usize, teacache: Option<(usize, usize)>) {
    let per_step = t.denoise.as_secs_f64() / steps.max(1) as f64;
    println!(
        "time: text encode {:.2} s, denoise {:.2} s ({per_step:.3} s/step), decode {:.2} s",
        t.text_encode.as_secs_f64(),
        t.denoise.as_secs_f64(),
        t.decode.as_secs_f64()
    );
    if let Some((computed, skipped)) = teacache {
        println!("teacache: {computed} model evaluations computed, {skipped} skipped");
    }
}
