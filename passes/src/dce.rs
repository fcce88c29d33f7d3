//! Dead code elimination.

use crate::{Pass, PassReport, Rewriter};
use hyv_ir::{Graph, IrError, NodeId, Op};

/// Drops every node that no output depends on. `input` nodes are always kept: they define
/// the calling convention (the order in which values are fed).
#[derive(Debug, Clone, Copy, Default)]
pub struct Dce;

impl Pass for Dce {
    fn name(&self) -> &'static str {
        "dce"
    }

    fn run(&self, graph: Graph) -> Result<(Graph, PassReport), IrError> {
        let mut live = vec![false; graph.len()];
        for o in graph.outputs() {
            live[o.0] = true;
        }
        for id in (0..graph.len()).rev().map(NodeId) {
            let node = graph.node(id);
            if matches!(node.op, Op::Input { .. }) {
                live[id.0] = true;
            }
            if live[id.0] {
                for i in &node.inputs {
                    live[i.0] = true;
                }
            }
        }
        let mut rw = Rewriter::new(&graph);
        for id in graph.ids().filter(|id| live[id.0]) {
            rw.copy(id)?;
        }
        let out = rw.finish()?;
        let removed = graph.len() - out.len();
        let report = PassReport::new(
            self.name(),
            removed > 0,
            graph.len(),
            out.len(),
            format!("removed {removed} dead nodes"),
        );
        Ok((out, report))
    }
}
