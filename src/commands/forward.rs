//! `hyv forward`: run one model component on named inputs from a safetensors file and write
//! its outputs — to check a checkpoint or a port against another implementation.

use crate::backends::backend_by_name;
use crate::commands::DumpGraphsArg;
use anyhow::{bail, Context, Result};
use hyv_frontend::{CastWeights, Mode, Runner, WeightStore, Weights};
use hyv_ir::DType;
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
    /// Inputs by name, as in diffusers' forward: hidden_states, timestep,
    /// encoder_hidden_states, encoder_attention_mask, pooled_projections and (with guidance
    /// embeds) guidance.
    #[arg(long, value_name = "FILE")]
    pub inputs: PathBuf,
    /// Where to write the outputs (`sample`, plus intermediates with --intermediates).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Backend to run on: `reference` or `reference-primitives`.
    #[arg(long, default_value = "reference")]
    pub backend: String,
    /// Execution mode: eager or graph.
    #[arg(long, default_value = "graph")]
    pub mode: Mode,
    /// Compute dtype (f32, bf16, f16): weights and activations are cast to it; RMS-norm
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

/// Runs `hyv forward`.
pub fn run(args: ForwardArgs) -> Result<()> {
    let Component::Transformer = args.component;
    let config_path = config_path(&args)?;
    let config = TransformerConfig::from_json_file(&config_path)?;
    let options = TransformerOptions {
        dtype: args.dtype,
        intermediates: args.intermediates,
    };
    let model = HunyuanVideoTransformer3DModel::new(config.clone(), options)?;
    let store = WeightStore::open(&args.weights)?;
    let weights = Weights::Loaded(Rc::new(CastWeights::new(store, args.dtype)));

    let mut given = read_safetensors(&args.inputs)?;
    let wanted = input_names(&config);
    let missing: Vec<_> = wanted.iter().filter(|n| !given.contains_key(**n)).collect();
    if !missing.is_empty() {
        bail!(
            "{}: missing inputs {:?} (the transformer takes {:?})",
            args.inputs.display(),
            missing,
            wanted
        );
    }
    let inputs: Vec<_> = wanted
        .iter()
        .map(|n| (n.to_string(), given.remove(*n).expect("checked above")))
        .collect();
    if !given.is_empty() {
        let extra: Vec<_> = given.keys().collect();
        bail!(
            "{}: unexpected inputs {extra:?} (the transformer takes {wanted:?})",
            args.inputs.display()
        );
    }

    let backend = backend_by_name(&args.backend)?;
    let runner = Runner::new(args.mode, backend.clone()).with_pipeline(PipelineOptions {
        dump_dir: args.dump.dump_graphs.clone(),
        ..Default::default()
    });
    let start = Instant::now();
    let out = runner
        .run(&model, &weights, &inputs)
        .with_context(|| format!("running the transformer of {}", config_path.display()))?;
    println!(
        "transformer forward ({} mode, {} backend, {}): {:.1} ms",
        args.mode,
        backend.name(),
        args.dtype,
        start.elapsed().as_secs_f64() * 1e3
    );
    let names = output_names(args.intermediates);
    write_safetensors(&args.out, names.iter().copied().zip(out.outputs.iter()))?;
    for (name, t) in names.iter().zip(&out.outputs) {
        println!("  {name}: {}", t.ty());
    }
    println!("wrote {}", args.out.display());
    Ok(())
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
