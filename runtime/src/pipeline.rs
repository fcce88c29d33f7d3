//! The compile pipeline of graph mode: verify the traced graph, run the passes, hand the
//! result to the backend.
//!
//! Stages (each dumped as a numbered file with `--dump-graphs`, numbered as DESIGN.md
//! names them): `00_traced` (input), `01_canonical` (simplify, fold, CSE, DCE to a fixed
//! point; then the composites the backend does not claim replaced by primitives and the
//! result canonicalised again, so the canonical form is the backend's op set) and, for a
//! backend that [`Backend::fuses`], `02_fused` (fusion groups marked). Constant
//! folding evaluates ops on the compile backend itself, so folded values are exactly what
//! the backend would have computed at run time.

use crate::{Backend, CompileOptions, Executable, Result};
use hyv_ir::{Graph, HostTensor, Op, TensorType};
use hyv_passes::{Canonicalize, ConstEvaluator, Decompose, Fuse, PassLog, PassManager};
use std::path::PathBuf;
use std::sync::Arc;

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
    /// What every pass did.
    pub log: PassLog,
}

/// Verifies `graph`, optimises it for `backend` and compiles it.
pub fn compile(
    graph: &Graph,
    backend: &Arc<dyn Backend>,
    options: &PipelineOptions,
) -> Result<Compiled> {
    let evaluator: Arc<dyn ConstEvaluator> = Arc::new(BackendEvaluator(backend.clone()));
    let claims = {
        let backend = backend.clone();
        move |op: &Op| backend.claims_composite(op)
    };
    let mut manager = PassManager::new().stage(
        "canonical",
        vec![
            Box::new(Canonicalize::new(Some(evaluator.clone()))),
            Box::new(Decompose::new(claims)),
            Box::new(Canonicalize::new(Some(evaluator))),
        ],
    );
    if backend.fuses() {
        manager = manager.stage("fused", vec![Box::new(Fuse)]);
    }
    if let Some(dir) = &options.dump_dir {
        manager = manager.dump_to(dir);
    }
    let (optimised, log) = manager.run(graph.clone())?;
    let executable = backend.compile(&optimised, &options.compile)?;
    Ok(Compiled {
        executable,
        graph: optimised,
        log,
    })
}

/// Constant folding through a backend's eager kernels: each folded op is uploaded, run
/// with [`Backend::execute`] and downloaded.
pub struct BackendEvaluator(pub Arc<dyn Backend>);

impl ConstEvaluator for BackendEvaluator {
    fn eval(
        &self,
        op: &Op,
        out: &TensorType,
        inputs: &[&HostTensor],
    ) -> std::result::Result<HostTensor, String> {
        let backend = &self.0;
        let run = || -> Result<HostTensor> {
            let devs = inputs
                .iter()
                .map(|t| backend.upload(t))
                .collect::<Result<Vec<_>>>()?;
            let refs: Vec<_> = devs.iter().collect();
            backend.download(&backend.execute(op, out, &refs, "constant folding")?)
        };
        run().map_err(|e| e.to_string())
    }
}
