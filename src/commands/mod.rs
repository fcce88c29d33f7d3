//! One module per `hyv` subcommand, plus the options they share.

pub mod bench;
pub mod convert;
pub mod dump;
pub mod eval;
pub mod files;
pub mod forward;
pub mod prompt_embeds;
pub mod run;
pub mod sample;
pub mod text_encode;
pub mod text_encoder_args;
pub mod vae;

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// Writes `text` to `path` atomically, or to stdout when no path is given.
pub fn emit(text: &str, path: Option<&Path>) -> Result<()> {
    match path {
        Some(p) => hyv_ir::write_atomic(p, text.as_bytes())
            .with_context(|| format!("cannot write {}", p.display())),
        None => {
            println!("{text}");
            Ok(())
        }
    }
}

/// Where per-pass dumps go: `--dump-graphs DIR` or the `HYV_DUMP_GRAPHS` variable.
#[derive(clap::Args, Debug, Clone)]
pub struct DumpGraphsArg {
    /// Write one numbered text file per pass stage (00_traced.hyv, 01_canonical.hyv, ...)
    /// into DIR, like MindSpore's save_graphs.
    #[arg(long, value_name = "DIR", env = "HYV_DUMP_GRAPHS")]
    pub dump_graphs: Option<PathBuf>,
}
