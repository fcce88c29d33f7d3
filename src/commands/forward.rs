//! `hyv forward`: run one model component on named inputs from a safetensors file and write
//! its outputs — to check a checkpoint or a port against another implementation.

use crate::backends::backend_by_name;
use crate::commands::DumpGraphsArg;
use anyhow::{bail, Context, Result};
use hyv_frontend::{CastWeights, Mode, Model, Runner, WeightStore, Weights};
use hyv_ir::DType;
use hyv_models::hunyuan_vae::{
    HunyuanVideoVaeDecoder, HunyuanVideoVaeEncoder, VaeConfig, VaeOptions,
};
use hyv_models::hunyuan_video::{
    input_names, output_names, HunyuanVideoTransformer3DModel, TransformerConfig,
    TransformerOptions,
};
use hyv_runtime::{read_safetensors, write_safetensors, PipelineOptions};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Instant;

/// Components `hyv forward` can run.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum Component {
    /// The HunyuanVideo diffusion transformer (diffusers `HunyuanVideoTransformer3DModel`).
    Transformer,
    /// The VAE encoder with quant_conv: `sample` [B,3,T,H,W] in [-1,1] → `moments`
    /// [B,2·latent,T',H/8,W/8] (mean then log-variance), untiled.
    VaeEncode,
    /// post_quant_conv and the VAE decoder: `latent` (already divided by the scaling
    /// factor) → `sample`, untiled.
    VaeDecode,
}

/// Arguments of `hyv forward`.
#[derive(clap::Args, Debug)]
pub struct ForwardArgs {
    /// The component to run.
    #[arg(long, value_enum, default_value = "transformer")]
    pub component: Component,
    /// The component's diffusers `config.json` (default: `config.json` beside the weights
    /// when --weights is a folder).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Weights: a diffusers safetensors file, a `*.safetensors.index.json` (sharded) or a
    /// folder holding one; loaded strictly.
    #[arg(long, value_name = "PATH")]
    pub weights: PathBuf,
    /// Inputs by name, as in diffusers' forward. Transformer: hidden_states, timestep,
    /// encoder_hidden_states, encoder_attention_mask, pooled_projections and (with guidance
    /// embeds) guidance. vae-encode: sample. vae-decode: latent.
    #[arg(long, value_name = "FILE")]
    pub inputs: PathBuf,
    /// Where to write the outputs (transformer and vae-decode: `sample`, plus the
    /// transformer's intermediates with --intermediates; vae-encode: `moments`).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Backend to run on: `reference`, `reference-primitives`, `cpu` (much faster) or
    /// `cuda[:N]` (CUDA device N, default 0; builds with the `cuda` feature).
    #[arg(long, default_value = "reference")]
    pub backend: String,
    /// Execution mode: eager or graph.
    #[arg(long, default_value = "graph")]
    pub mode: Mode,
    /// Compute dtype (f32, bf16, f16): weights and activations are cast to it; norm
    /// statistics, sinusoids and rotary embedding stay in f32, as the reference does.
    #[arg(long, default_value = "f32")]
    pub dtype: DType,
    /// Also write the intermediates temb, rope_cos, rope_sin, refiner_out,
    /// block0_hidden_states and block0_encoder_hidden_states.
    #[arg(long)]
    pub intermediates: bool,
    #[command(flatten)]
    pub dump: DumpGraphsArg,
}

/// A component ready to run: the model, its weights, and its input and output names.
struct Prepared {
    what: String,
    model: Box<dyn Model>,
    weights: Weights,
    inputs: Vec<String>,
    outputs: Vec<String>,
}

/// Runs `hyv forward`.
pub fn run(args: ForwardArgs) -> Result<()> {
    let config_path = config_path(&args)?;
    let prepared = prepare(&args, &config_path)?;

    let mut given = read_safetensors(&args.inputs)?;
    let wanted = &prepared.inputs;
    let missing: Vec<_> = wanted.iter().filter(|n| !given.contains_key(*n)).collect();
    if !missing.is_empty() {
        bail!(
            "{}: missing inputs {:?} (the {} takes {:?})",
            args.inputs.display(),
            missing,
            prepared.what,
            wanted
        );
    }
    let inputs: Vec<_> = wanted
        .iter()
        .map(|n| (n.clone(), given.remove(n).expect("checked above")))
        .collect();
    if !given.is_empty() {
        let extra: Vec<_> = given.keys().collect();
        bail!(
            "{}: unexpected inputs {extra:?} (the {} takes {wanted:?})",
            args.inputs.display(),
            prepared.what
        );
    }

    let backend = backend_by_name(&args.backend)?;
    let runner = Runner::new(args.mode, backend.clone()).with_pipeline(PipelineOptions {
        dump_dir: args.dump.dump_graphs.clone(),
        ..Default::default()
    });
    let start = Instant::now();
    let out = runner
        .run(&*prepared.model, &prepared.weights, &inputs)
        .with_context(|| format!("running the {} of {}", prepared.what, config_path.display()))?;
    println!(
        "{} forward ({} mode, {} backend, {}): {:.1} ms",
        prepared.what,
        args.mode,
        backend.name(),
        args.dtype,
        start.elapsed().as_secs_f64() * 1e3
    );
    let names = &prepared.outputs;
    write_safetensors(
        &args.out,
        names.iter().map(String::as_str).zip(out.outputs.iter()),
    )?;
    for (name, t) in names.iter().zip(&out.outputs) {
        println!("  {name}: {}", t.ty());
    }
    println!("wrote {}", args.out.display());
    Ok(())
}

/// Builds the component's model and weights from its config.
fn prepare(args: &ForwardArgs, config_path: &Path) -> Result<Prepared> {
    let store = WeightStore::open(&args.weights)?;
    let cast = CastWeights::new(store, args.dtype);
    let strings = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
    Ok(match args.component {
        Component::Transformer => {
            let config = TransformerConfig::from_json_file(config_path)?;
            let options = TransformerOptions {
                dtype: args.dtype,
                intermediates: args.intermediates,
            };
            Prepared {
                what: "transformer".into(),
                inputs: strings(&input_names(&config)),
                outputs: strings(&output_names(args.intermediates)),
                model: Box::new(HunyuanVideoTransformer3DModel::new(config, options)?),
                weights: Weights::Loaded(Rc::new(cast)),
            }
        }
        Component::VaeEncode | Component::VaeDecode => {
            if args.intermediates {
                bail!("--intermediates is only available for the transformer");
            }
            let config = VaeConfig::from_json_file(config_path)?;
            let options = VaeOptions { dtype: args.dtype };
            if let Component::VaeEncode = args.component {
                Prepared {
                    what: "VAE encoder".into(),
                    inputs: strings(&[HunyuanVideoVaeEncoder::INPUT]),
                    outputs: strings(&[HunyuanVideoVaeEncoder::OUTPUT]),
                    model: Box::new(HunyuanVideoVaeEncoder::new(config, options)?),
                    weights: HunyuanVideoVaeEncoder::weights(cast),
                }
            } else {
                Prepared {
                    what: "VAE decoder".into(),
                    inputs: strings(&[HunyuanVideoVaeDecoder::INPUT]),
                    outputs: strings(&[HunyuanVideoVaeDecoder::OUTPUT]),
                    model: Box::new(HunyuanVideoVaeDecoder::new(config, options)?),
                    weights: HunyuanVideoVaeDecoder::weights(cast),
                }
            }
        }
    })
}

/// `--config`, or `config.json` in the weights folder.
fn config_path(args: &ForwardArgs) -> Result<PathBuf> {
    if let Some(c) = &args.config {
        return Ok(c.clone());
    }
    let beside = Path::new(&args.weights).join("config.json");
    if args.weights.is_dir() && beside.is_file() {
        return Ok(beside);
    }
    bail!(
        "no --config given and no config.json in {} (pass the component's diffusers config.json)",
        args.weights.display()
    )
}
