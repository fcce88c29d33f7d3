//! Common subexpression elimination.

use crate::{Pass, PassReport, Rewriter};
use hyv_ir::{Graph, IrError, NodeId, Op};
use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

/// Hash-conses nodes: a node with the same op (attributes included), operands and type as an
/// earlier one is replaced by it; the first node's module path is kept. `input` and
/// `parameter` nodes are never merged. `random_normal` nodes merge only when seed, offset,
/// shape and dtype are all equal (they then produce identical values).
#[derive(Debug, Clone, Copy, Default)]
pub struct Cse;

impl Pass for Cse {
    fn name(&self) -> &'static str {
        "cse"
    }

    fn run(&self, graph: Graph) -> Result<(Graph, PassReport), IrError> {
        let mut rw = Rewriter::new(&graph);
        let mut table: HashMap<u64, Vec<NodeId>> = HashMap::new();
        let mut merged = 0;
        for id in graph.ids() {
            let node = graph.node(id);
            if matches!(node.op, Op::Input { .. } | Op::Parameter { .. }) {
                rw.copy(id)?;
                continue;
            }
            let inputs = rw.operands(id)?;
            let mut h = DefaultHasher::new();
            (&node.op, &inputs, &node.ty).hash(&mut h);
            let bucket = table.entry(h.finish()).or_default();
            let new = rw.graph();
            let found = bucket.iter().copied().find(|&c| {
                let n = new.node(c);
                n.op == node.op && n.inputs == inputs && n.ty == node.ty
            });
            match found {
                Some(existing) => {
                    rw.replace(id, existing);
                    merged += 1;
                }
                None => bucket.push(rw.copy(id)?),
            }
        }
        let out = rw.finish()?;
        let report = PassReport::new(
            self.name(),
            merged > 0,
            graph.len(),
            out.len(),
            format!("merged {merged} nodes"),
        );
        Ok((out, report))
    }
}
