//! `hyv convert`: turn an official Tencent HunyuanVideo checkpoint into the diffusers layout
//! hyv (and diffusers) load.

use anyhow::{bail, Context, Result};
use hyv_ir::DType;
use hyv_runtime::{write_safetensors, WeightStore};
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Which model component a checkpoint holds.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum Component {
    /// The diffusion transformer (official `HYVideoDiffusionTransformer`).
    Transformer,
    /// The causal 3D VAE (official `AutoencoderKLCausal3D`, `vae/pytorch_model.pt`): same
    /// tensor names as diffusers once a `vae.` prefix is stripped.
    Vae,
}

/// Arguments of `hyv convert`.
#[derive(clap::Args, Debug)]
pub struct ConvertArgs {
    /// The component in the checkpoint.
    #[arg(long, value_enum, default_value = "transformer")]
    pub component: Component,
    /// The official checkpoint: a safetensors file, a `*.safetensors.index.json` or a folder
    /// holding one. (A `.pt` checkpoint must first be saved as safetensors, e.g. with
    /// `safetensors.torch.save_file(torch.load(path)["module"], out)`; for the VAE the dict
    /// may sit under `state_dict`.)
    #[arg(long, value_name = "PATH")]
    pub input: PathBuf,
    /// Output folder; receives `diffusion_pytorch_model.safetensors` (and `config.json` with
    /// `--config`).
    #[arg(long, value_name = "DIR")]
    pub output: PathBuf,
    /// A diffusers `config.json` to place beside the converted weights.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Store the weights in this dtype instead of the checkpoint's own (f32, bf16, f16).
    #[arg(long, value_name = "DTYPE")]
    pub dtype: Option<DType>,
}

/// Runs `hyv convert`.
pub fn run(args: ConvertArgs) -> Result<()> {
    if let Some(d) = args.dtype.filter(|d| !d.is_float()) {
        bail!("--dtype {d}: weights can only be stored as f32, bf16 or f16");
    }
    let store = WeightStore::open(&args.input)?;
    let names: Vec<String> = store.names().map(str::to_string).collect();
    let bar = ProgressBar::new(names.len() as u64).with_style(
        ProgressStyle::with_template("reading {bar:40} {pos}/{len} tensors {msg}")
            .expect("static progress template"),
    );
    let mut official = BTreeMap::new();
    for name in names {
        bar.set_message(name.clone());
        let t = store.load(&name)?;
        let t = match args.dtype {
            Some(d) if t.dtype().is_float() => t.cast(d),
            _ => t,
        };
        official.insert(name, t);
        bar.inc(1);
    }
    bar.finish_and_clear();
    let converted = match args.component {
        Component::Transformer => hyv_models::convert::convert_transformer(official),
        Component::Vae => hyv_models::convert::convert_vae(official),
    }
    .with_context(|| format!("converting {}", args.input.display()))?;
    let out = args.output.join("diffusion_pytorch_model.safetensors");
    write_safetensors(&out, converted.iter().map(|(k, v)| (k.as_str(), v)))?;
    if let Some(config) = &args.config {
        let text =
            std::fs::read(config).with_context(|| format!("cannot read {}", config.display()))?;
        hyv_ir::write_atomic(&args.output.join("config.json"), &text)
            .with_context(|| format!("cannot write {}", args.output.display()))?;
    }
    println!("wrote {} tensors to {}", converted.len(), out.display());
    Ok(())
}
