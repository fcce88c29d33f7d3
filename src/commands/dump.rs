//! `hyv dump`: print the graph of a built-in model as text, DOT or RON, or its statistics.

use crate::backends::backend_by_name;
use crate::commands::emit;
use crate::commands::forward::Component;
use crate::commands::vae::model::TilingArgs;
use anyhow::{bail, Context, Result};
use hyv_frontend::Traced;
use hyv_frontend::{trace, Model, Weights};
use hyv_ir::{dot, ron_format, text, DType, GraphStats};
use hyv_models::hunyuan_vae::tiling::{largest_decode_tile, largest_encode_tile};
use hyv_models::hunyuan_vae::{
    HunyuanVideoVaeDecoder, HunyuanVideoVaeEncoder, VaeConfig, VaeOptions,
};
use hyv_models::hunyuan_video::{
    input_types, HunyuanVideoTransformer3DModel, TransformerConfig, TransformerOptions,
};
use hyv_runtime::{compile, PipelineOptions};
use std::path::PathBuf;

/// Output formats of `hyv dump`.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum Format {
    /// hyv's text format (parses back to the same graph).
    Text,
    /// Graphviz DOT, for pictures (`dot -Tsvg`).
    Dot,
    /// RON, for tools.
    Ron,
}

/// Which stage of the graph to dump.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum Stage {
    /// As traced from the model code, before any pass.
    Traced,
    /// After the whole pass pipeline, as the backend compiles it.
    Optimized,
}

/// Arguments of `hyv dump`.
#[derive(clap::Args, Debug)]
pub struct DumpArgs {
    /// A built-in example model to trace (mlp, attention). Weights are never needed: graphs
    /// are traced from parameter shapes only.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["model", "config"], required_unless_present_any = ["model", "config"])]
    pub example: Option<String>,
    /// Which component --model and --config name: the transformer, or the VAE's encoder
    /// or decoder.
    #[arg(long, value_enum, default_value = "transformer")]
    pub component: Component,
    /// A preset to trace: for the transformer hunyuan-video-13b, small or tiny; for the
    /// VAE hunyuan-video, small or tiny.
    #[arg(long, value_name = "PRESET", conflicts_with = "config")]
    pub model: Option<String>,
    /// The component from a diffusers `config.json`.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// VAE only: trace the largest tile the tiling runs at once instead of the whole video,
    /// to see the memory tiling saves (see `hyv vae reconstruct --help` for the sizes).
    #[command(flatten)]
    pub tiling: TilingArgs,
    /// Video height in pixels (a multiple of 16; the latent is 8× smaller). Default: the
    /// preset's input (13B: 544×960×129), or one 128×128 frame with --config.
    #[arg(long, requires = "width")]
    pub height: Option<usize>,
    /// Video width in pixels.
    #[arg(long, requires = "height")]
    pub width: Option<usize>,
    /// Video frames (4k+1; the latent has (frames-1)/4+1). Default as for --height.
    #[arg(long)]
    pub frames: Option<usize>,
    /// Text tokens (default: the preset's, 256 for the 13B model; 16 with --config).
    #[arg(long)]
    pub text_len: Option<usize>,
    /// Batch size.
    #[arg(long, default_value_t = 1)]
    pub batch: usize,
    /// Parameter and activation dtype (f32, bf16, f16).
    #[arg(long, default_value = "bf16")]
    pub dtype: DType,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Print statistics instead of the graph: node count, parameter count and tensors,
    /// FLOPs (contractions, attention, other) and op counts.
    #[arg(long)]
    pub stats: bool,
    /// Which stage to dump.
    #[arg(long, value_enum, default_value = "traced")]
    pub stage: Stage,
    /// Backend whose pipeline produces the optimized stage (it decides which composite ops
    /// are kept or decomposed): `reference`, `reference-primitives`, `cpu` or `cuda`.
    #[arg(long, default_value = "reference")]
    pub backend: String,
    /// Write to FILE (atomically) instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Runs `hyv dump`.
pub fn run(args: DumpArgs) -> Result<()> {
    let traced = match &args.example {
        Some(name) => {
            let example = hyv_models::example(name)?;
            trace(
                example.model.as_ref(),
                &Weights::ShapesOnly,
                &example.inputs,
            )
            .with_context(|| format!("tracing example `{name}`"))?
        }
        None => match args.component {
            Component::Transformer => trace_transformer(&args)?,
            Component::VaeEncode | Component::VaeDecode => trace_vae(&args)?,
        },
    };
    let graph = match args.stage {
        Stage::Traced => traced.graph,
        Stage::Optimized => {
            let backend = backend_by_name(&args.backend)?;
            compile(&traced.graph, &backend, &PipelineOptions::default())?.graph
        }
    };
    let out = if args.stats {
        GraphStats::of(&graph).to_string()
    } else {
        match args.format {
            Format::Text => text::print(&graph),
            Format::Dot => dot::to_dot(&graph),
            Format::Ron => ron_format::to_ron(&graph)?,
        }
    };
    emit(&out, args.out.as_deref())
}

/// Latent (frames, height, width) traced for `--config` without sizes: one 128×128 frame.
const CONFIG_DEFAULT_LATENT: (usize, usize, usize) = (1, 16, 16);
/// Text tokens traced for `--config` without `--text-len`.
const CONFIG_DEFAULT_TEXT_LEN: usize = 16;

/// Traces the transformer of `--model` or `--config` from shapes only.
fn trace_transformer(args: &DumpArgs) -> Result<Traced> {
    let (config, default_latent, default_text) = match (&args.model, &args.config) {
        (Some(preset), _) => {
            let (latent, text) = TransformerConfig::preset_input(preset)?;
            (TransformerConfig::preset(preset)?, latent, text)
        }
        (None, Some(path)) => (
            TransformerConfig::from_json_file(path)?,
            CONFIG_DEFAULT_LATENT,
            CONFIG_DEFAULT_TEXT_LEN,
        ),
        (None, None) => bail!("give --example, --model or --config"),
    };
    let (mut frames, mut height, mut width) = default_latent;
    if let (Some(h), Some(w)) = (args.height, args.width) {
        if h % 16 != 0 || w % 16 != 0 {
            bail!("--height {h} and --width {w} must be multiples of 16 (VAE ×8, patch ×2)");
        }
        (height, width) = (h / 8, w / 8);
    }
    if let Some(f) = args.frames {
        if f == 0 || (f - 1) % 4 != 0 {
            bail!("--frames {f} must be 4k+1 (the causal VAE keeps frame 0 and compresses 4×)");
        }
        frames = (f - 1) / 4 + 1;
    }
    let text_len = args.text_len.unwrap_or(default_text);
    let model = HunyuanVideoTransformer3DModel::new(
        config.clone(),
        TransformerOptions {
            dtype: args.dtype,
            intermediates: false,
        },
    )?;
    let inputs = input_types(
        &config, args.dtype, args.batch, frames, height, width, text_len,
    );
    trace(&model, &Weights::ShapesOnly, &inputs).context("tracing the transformer")
}

/// Video (frames, height, width) a VAE preset is traced at without sizes: the 13B
/// transformer's default 544×960×129.
const VAE_DEFAULT_VIDEO: [usize; 3] = [129, 544, 960];
/// Video traced for a VAE `--config` without sizes: 9 frames of 128×128.
const VAE_CONFIG_DEFAULT_VIDEO: [usize; 3] = [9, 128, 128];

/// Traces the VAE encoder or decoder of `--model` or `--config` from shapes only, on the
/// whole video, or with `--tiling` on the largest tile the tiled pass runs.
fn trace_vae(args: &DumpArgs) -> Result<Traced> {
    let (config, default_video) = match (&args.model, &args.config) {
        (Some(preset), _) => (VaeConfig::preset(preset)?, VAE_DEFAULT_VIDEO),
        (None, Some(path)) => (VaeConfig::from_json_file(path)?, VAE_CONFIG_DEFAULT_VIDEO),
        (None, None) => bail!("give --example, --model or --config"),
    };
    let [mut frames, mut height, mut width] = default_video;
    if let (Some(h), Some(w)) = (args.height, args.width) {
        (height, width) = (h, w);
    }
    if let Some(f) = args.frames {
        frames = f;
    }
    let latent = config.latent_dims(frames, height, width)?;
    let options = VaeOptions { dtype: args.dtype };
    let tiling = args.tiling.options();
    tiling.validate(
        config.spatial_compression_ratio,
        config.temporal_compression_ratio,
    )?;
    let (model, inputs): (Box<dyn Model>, _) = match args.component {
        Component::VaeEncode => {
            let full = [args.batch, config.in_channels, frames, height, width];
            let tile = largest_encode_tile(
                &full,
                &tiling,
                config.spatial_compression_ratio,
                config.temporal_compression_ratio,
            )?;
            let encoder = HunyuanVideoVaeEncoder::new(config.clone(), options)?;
            let inputs = encoder.input_types(tile[0], [tile[2], tile[3], tile[4]])?;
            (Box::new(encoder), inputs)
        }
        _ => {
            let full = [
                args.batch,
                config.latent_channels,
                latent[0],
                latent[1],
                latent[2],
            ];
            let tile = largest_decode_tile(
                &full,
                &tiling,
                config.spatial_compression_ratio,
                config.temporal_compression_ratio,
            )?;
            let decoder = HunyuanVideoVaeDecoder::new(config.clone(), options)?;
            let inputs = decoder.input_types(tile[0], [tile[2], tile[3], tile[4]]);
            (Box::new(decoder), inputs)
        }
    };
    trace(&*model, &Weights::ShapesOnly, &inputs).context("tracing the VAE")
}
