//! `hyv dump`: print the graph of a built-in model as text, DOT or RON, or its statistics.

use crate::backends::backend_by_name;
use crate::commands::emit;
use anyhow::{Context, Result};
use hyv_frontend::{trace, Weights};
use hyv_ir::{dot, ron_format, text, GraphStats};
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
    /// The built-in example model to trace (mlp, attention). Weights are not needed: the
    /// graph is traced from parameter shapes only.
    #[arg(long, value_name = "NAME")]
    pub example: String,
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
    /// are kept or decomposed): `reference` or `reference-primitives`.
    #[arg(long, default_value = "reference")]
    pub backend: String,
    /// Write to FILE (atomically) instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Runs `hyv dump`.
pub fn run(args: DumpArgs) -> Result<()> {
    let example = hyv_models::example(&args.example)?;
    let traced = trace(
        example.model.as_ref(),
        &Weights::ShapesOnly,
        &example.inputs,
    )
    .with_context(|| format!("tracing example `{}`", args.example))?;
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
