//! [`PassManager`]: ordered named stages of passes, verification after every pass, reports
//! and numbered graph dumps.

use crate::{Pass, PassError, PassReport};
use hyv_ir::{verify, Graph, IrError, Op, TensorType};
use std::fmt;
use std::path::PathBuf;

/// A named group of passes (`canonical`, `decomposed`, ...); one dump file per stage.
struct Stage<'p> {
    name: String,
    passes: Vec<Box<dyn Pass + 'p>>,
}

/// Runs stages of passes in order.
///
/// After every pass the graph is verified, and its calling convention (input names and
/// types, output types) must be unchanged; an error names the stage and pass at fault. With
/// a dump directory, the input graph is written as `00_traced.hyv` and the graph after
/// stage `i` as `{i:02}_{stage}.hyv`, each written to a temporary name and then renamed.
/// Passes may borrow for `'p` (e.g. a [`crate::Decompose`] asking a backend what it claims).
#[derive(Default)]
pub struct PassManager<'p> {
    stages: Vec<Stage<'p>>,
    dump_dir: Option<PathBuf>,
}

/// The reports of one pipeline run, by stage; prints as a table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PassLog {
    /// `(stage name, report)` for every pass run, in order.
    pub entries: Vec<(String, PassReport)>,
}

impl<'p> PassManager<'p> {
    /// An empty pipeline.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a stage named `name` running `passes` in order.
    pub fn stage(mut self, name: impl Into<String>, passes: Vec<Box<dyn Pass + 'p>>) -> Self {
        self.stages.push(Stage {
            name: name.into(),
            passes,
        });
        self
    }

    /// Writes numbered text dumps of the input and of every stage's result into `dir`
    /// (created if missing).
    pub fn dump_to(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dump_dir = Some(dir.into());
        self
    }

    /// Runs every stage on `graph`, returning the final graph and the reports.
    pub fn run(&self, graph: Graph) -> Result<(Graph, PassLog), PassError> {
        verify(&graph).map_err(PassError::Input)?;
        let signature = Signature::of(&graph);
        self.dump(0, "traced", &graph)?;
        let mut graph = graph;
        let mut log = PassLog::default();
        for (i, stage) in self.stages.iter().enumerate() {
            for pass in &stage.passes {
                let (g, report) = pass.run(graph).map_err(|source| PassError::Failed {
                    stage: stage.name.clone(),
                    pass: pass.name(),
                    source,
                })?;
                verify(&g)
                    .and_then(|()| signature.check(&g))
                    .map_err(|source| PassError::Invalid {
                        stage: stage.name.clone(),
                        pass: pass.name(),
                        source,
                    })?;
                log.entries.push((stage.name.clone(), report));
                graph = g;
            }
            self.dump(i + 1, &stage.name, &graph)?;
        }
        Ok((graph, log))
    }

    fn dump(&self, index: usize, stage: &str, graph: &Graph) -> Result<(), PassError> {
        let Some(dir) = &self.dump_dir else {
            return Ok(());
        };
        let path = dir.join(format!("{index:02}_{stage}.hyv"));
        hyv_ir::write_atomic(&path, hyv_ir::text::print(graph).as_bytes())
            .map_err(|source| PassError::Dump { path, source })
    }
}

/// The calling convention of a graph: its inputs (names and types) and output types.
struct Signature {
    inputs: Vec<(String, TensorType)>,
    outputs: Vec<TensorType>,
}

impl Signature {
    fn of(g: &Graph) -> Self {
        let inputs = g
            .inputs()
            .into_iter()
            .map(|i| {
                let n = g.node(i);
                let name = match &n.op {
                    Op::Input { name } => name.clone(),
                    _ => String::new(),
                };
                (name, n.ty.clone())
            })
            .collect();
        let outputs = g.outputs().iter().map(|&o| g.ty(o).clone()).collect();
        Signature { inputs, outputs }
    }

    fn check(&self, g: &Graph) -> Result<(), IrError> {
        let now = Signature::of(g);
        let err = |message: String| IrError::Verify {
            graph: g.name.clone(),
            node: 0,
            message,
        };
        if now.inputs != self.inputs {
            return Err(err(format!(
                "inputs changed from {} to {}",
                describe(&self.inputs),
                describe(&now.inputs)
            )));
        }
        if now.outputs != self.outputs {
            let show = |v: &[TensorType]| {
                v.iter()
                    .map(|t| t.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            return Err(err(format!(
                "output types changed from ({}) to ({})",
                show(&self.outputs),
                show(&now.outputs)
            )));
        }
        Ok(())
    }
}

fn describe(inputs: &[(String, TensorType)]) -> String {
    let parts: Vec<String> = inputs.iter().map(|(n, t)| format!("`{n}`: {t}")).collect();
    format!("({})", parts.join(", "))
}

impl fmt::Display for PassLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stage_w = self
            .entries
            .iter()
            .map(|(s, _)| s.len())
            .chain(["stage".len()])
            .max()
            .unwrap_or(5);
        let pass_w = self
            .entries
            .iter()
            .map(|(_, r)| r.pass.len())
            .chain(["pass".len()])
            .max()
            .unwrap_or(4);
        writeln!(
            f,
            "{:stage_w$}  {:pass_w$}  {:>7}  {:>7}  {:>7}  summary",
            "stage", "pass", "changed", "before", "after"
        )?;
        for (stage, r) in &self.entries {
            writeln!(
                f,
                "{:stage_w$}  {:pass_w$}  {:>7}  {:>7}  {:>7}  {}",
                stage,
                r.pass,
                if r.changed { "yes" } else { "no" },
                r.nodes_before,
                r.nodes_after,
                r.summary
            )?;
        }
        Ok(())
    }
}
