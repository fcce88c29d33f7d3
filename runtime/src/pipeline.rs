//! The compile pipeline of graph mode: verify the traced graph, run the passes, hand the
//! result to the backend.

use crate::{Backend, CompileOptions, Executable, Result};
use hyv_ir::{verify, Graph};
use std::path::PathBuf;

/// How a traced graph is compiled.
#[derive(Debug, Clone, Default)]
pub struct PipelineOptions {
    /// Backend options (threads, ...).
    pub compile: CompileOptions,
    /// Where to write one numbered text dump per pass stage (`--dump-graphs DIR`).
    pub dump_dir: Option<PathBuf>,
}

/// A compiled graph with what the passes made of it.
pub struct Compiled {
    /// The backend's executable.
    pub executable: Box<dyn Executable>,
    /// The optimised graph the executable was built from.
    pub graph: Graph,
}

/// Verifies `graph`, optimises it for `backend` and compiles it.
pub fn compile(
    graph: &Graph,
    backend: &dyn Backend,
    options: &PipelineOptions,
) -> Result<Compiled> {
    verify(graph)?;
    let optimised = graph.clone();
    let executable = backend.compile(&optimised, &options.compile)?;
    Ok(Compiled {
        executable,
        graph: optimised,
    })
}
