//! `hyv run`: run a built-in model in eager and/or graph mode and compare the two.

use crate::backends::backend_by_name;
use crate::commands::DumpGraphsArg;
use anyhow::{bail, Context, Result};
use hyv_frontend::{Mode, RunOutput, Runner, WeightStore, Weights};
use hyv_ir::HostTensor;
use hyv_runtime::PipelineOptions;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Instant;

/// Which modes `hyv run` uses.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunMode {
    /// Every op runs as it is called (like PyTorch eager / MindSpore PyNative).
    Eager,
    /// Trace, optimise and compile the whole graph, then run it (like GRAPH_MODE).
    Graph,
    /// Both, and report the relative L2 error between their outputs.
    Both,
}

/// Arguments of `hyv run`.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// The built-in example model to run (mlp, attention).
    #[arg(long, value_name = "NAME")]
    pub example: String,
    /// Execution mode.
    #[arg(long, value_enum, default_value = "graph")]
    pub mode: RunMode,
    /// Backend to run on: `reference` (the oracle interpreter), `reference-primitives`
    /// (the same, with every composite op decomposed in graph mode) or `cpu` (gemm
    /// contractions, tiled attention, parallel kernels); `cuda[:N]` (CUDA device N, in builds
    /// with the `cuda` feature).
    #[arg(long, default_value = "reference")]
    pub backend: String,
    /// Seed of the random inputs (and of the random weights unless --weights is given).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Weights from a safetensors file, a `*.safetensors.index.json` or a folder holding
    /// one; loaded strictly (missing, unexpected or wrongly shaped tensors are errors).
    #[arg(long, value_name = "PATH")]
    pub weights: Option<PathBuf>,
    /// With `--mode both`: fail when an output's relative L2 error exceeds this.
    #[arg(long, default_value_t = 1e-5)]
    pub tolerance: f64,
    /// Print what every pass did (graph mode).
    #[arg(long)]
    pub passes: bool,
    #[command(flatten)]
    pub dump: DumpGraphsArg,
}

/// Runs `hyv run`.
pub fn run(args: RunArgs) -> Result<()> {
    let example = hyv_models::example(&args.example)?;
    let backend = backend_by_name(&args.backend)?;
    let weights = match &args.weights {
        Some(path) => Weights::Loaded(Rc::new(WeightStore::open(path)?)),
        None => Weights::Random { seed: args.seed },
    };
    let inputs = example.sample_inputs(args.seed);
    let pipeline = PipelineOptions {
        dump_dir: args.dump.dump_graphs.clone(),
        ..Default::default()
    };
    let modes: &[Mode] = match args.mode {
        RunMode::Eager => &[Mode::Eager],
        RunMode::Graph => &[Mode::Graph],
        RunMode::Both => &[Mode::Eager, Mode::Graph],
    };
    println!("example `{}`: {}", example.name, example.description);
    let mut results: Vec<RunOutput> = Vec::new();
    for &mode in modes {
        let runner = Runner::new(mode, backend.clone()).with_pipeline(pipeline.clone());
        let start = Instant::now();
        let out = runner
            .run(example.model.as_ref(), &weights, &inputs)
            .with_context(|| format!("running `{}` in {mode} mode", example.name))?;
        let ms = start.elapsed().as_secs_f64() * 1e3;
        println!("{mode} mode on {} backend: {ms:.2} ms", backend.name());
        if let (Some(traced), Some(compiled)) = (&out.traced, &out.compiled) {
            println!(
                "  graph: {} nodes traced, {} after passes",
                traced.len(),
                compiled.len()
            );
        }
        if let (true, Some(log)) = (args.passes, &out.pass_log) {
            print!("{log}");
        }
        for (i, t) in out.outputs.iter().enumerate() {
            println!("  output {i}: {}", summary(t));
        }
        results.push(out);
    }
    if let [eager, graph] = &results[..] {
        compare(eager, graph, args.tolerance)?;
    }
    if let Some(dir) = &args.dump.dump_graphs {
        println!("graph dumps written to {}", dir.display());
    }
    Ok(())
}

/// Prints the eager-vs-graph error of every output and fails above `tolerance`.
fn compare(eager: &RunOutput, graph: &RunOutput, tolerance: f64) -> Result<()> {
    let mut worst = 0.0f64;
    for (i, (e, g)) in eager.outputs.iter().zip(&graph.outputs).enumerate() {
        let err = g.rel_l2_error(e)?;
        println!("  output {i}: eager vs graph relative L2 error {err:.3e}");
        worst = worst.max(err);
    }
    if worst > tolerance {
        bail!("eager and graph mode differ: relative L2 error {worst:.3e} > tolerance {tolerance:.1e}");
    }
    println!("eager and graph mode agree (max relative L2 error {worst:.3e} ≤ {tolerance:.1e})");
    Ok(())
}

/// One line describing a tensor: type, mean, min and max.
fn summary(t: &HostTensor) -> String {
    let v = t.to_f64_vec();
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    let min = v.iter().copied().fold(f64::INFINITY, f64::min);
    let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    format!("{} mean {mean:.6} min {min:.6} max {max:.6}", t.ty())
}
