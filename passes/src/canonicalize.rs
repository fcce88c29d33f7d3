//! The canonical pipeline: simplify, fold, CSE and DCE repeated to a fixed point.

use crate::{ConstEvaluator, Cse, Dce, Fold, Pass, PassReport, Simplify};
use hyv_ir::{verify, Graph, IrError};
use std::sync::Arc;

/// Runs its inner passes in order, round after round, until a round changes nothing or
/// `max_rounds` rounds have run. The graph is verified after every inner pass; an error names
/// the inner pass. The report sums up what each inner pass did.
pub struct Canonicalize {
    passes: Vec<Box<dyn Pass>>,
    max_rounds: usize,
}

impl Canonicalize {
    /// Default round limit.
    pub const DEFAULT_MAX_ROUNDS: usize = 8;

    /// Simplify, fold (when an evaluator is given), CSE and DCE.
    pub fn new(evaluator: Option<Arc<dyn ConstEvaluator>>) -> Self {
        let mut passes: Vec<Box<dyn Pass>> = vec![Box::new(Simplify)];
        if let Some(e) = evaluator {
            passes.push(Box::new(Fold::new(e)));
        }
        passes.push(Box::new(Cse));
        passes.push(Box::new(Dce));
        Canonicalize {
            passes,
            max_rounds: Self::DEFAULT_MAX_ROUNDS,
        }
    }

    /// Sets the round limit (at least one round always runs).
    pub fn with_max_rounds(mut self, rounds: usize) -> Self {
        self.max_rounds = rounds.max(1);
        self
    }
}

impl Pass for Canonicalize {
    fn name(&self) -> &'static str {
        "canonicalize"
    }

    fn run(&self, graph: Graph) -> Result<(Graph, PassReport), IrError> {
        let before = graph.len();
        let mut graph = graph;
        let mut changes: Vec<Vec<String>> = vec![Vec::new(); self.passes.len()];
        let mut rounds = 0;
        let mut changed_any = false;
        while rounds < self.max_rounds {
            rounds += 1;
            let mut changed = false;
            for (pass, log) in self.passes.iter().zip(&mut changes) {
                let (g, report) = pass.run(graph)?;
                verify(&g).map_err(|e| IrError::Verify {
                    graph: g.name.clone(),
                    node: match &e {
                        IrError::Verify { node, .. } => *node,
                        _ => 0,
                    },
                    message: format!("after inner pass `{}`: {e}", pass.name()),
                })?;
                if report.changed {
                    log.push(report.summary);
                    changed = true;
                }
                graph = g;
            }
            changed_any |= changed;
            if !changed {
                break;
            }
        }
        let mut summary = format!("{rounds} rounds");
        for log in changes.iter().filter(|l| !l.is_empty()) {
            summary += &format!("; {}", log.join(", "));
        }
        let report = PassReport::new(self.name(), changed_any, before, graph.len(), summary);
        Ok((graph, report))
    }
}

/// The canonical pipeline the runtime runs first: one [`Canonicalize`] pass (folding only
/// when `evaluator` is given).
pub fn canonicalize(evaluator: Option<Arc<dyn ConstEvaluator>>) -> Vec<Box<dyn Pass>> {
    vec![Box::new(Canonicalize::new(evaluator))]
}
