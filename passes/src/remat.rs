//! Rematerialisation of views for fusion: before [`crate::Fuse`] forms groups, every
//! `reshape`/`broadcast` (a strided view a fused kernel reads through at no cost) is copied
//! once per consumer that can fuse it, the way XLA duplicates broadcasts into its fusions.
//!
//! Without this, a view with several users joins no group (a producer joins only when all
//! its users are in the group) and is materialised. CSE makes such views common: the
//! broadcasts of GELU's scalar constants are equal in every block, so one
//! `[1, tokens, 4·hidden]` tensor per constant was written once and kept alive across the
//! whole model, and each block's fused GELU read it back from memory.
//!
//! The rules: views are emitted where they are needed, not where they were. A consumer that
//! can fuse (an elementwise op or a row reduction, see [`crate::fusion`]) gets its own copy
//! of the whole view chain above it; every other consumer (a contraction, a concat, the
//! graph's outputs) shares one copy, emitted before the first of them, so a view that is
//! materialised anyway is materialised once.

use crate::fusion::{can_root, is_view};
use crate::Rewriter;
use hyv_ir::{Graph, IrError, Node, NodeId};

/// `graph` with its views copied per fusing consumer (see the module docs).
pub fn rematerialise_views(graph: &Graph) -> Result<Graph, IrError> {
    let mut remat = Remat {
        rw: Rewriter::new(graph),
        shared: vec![None; graph.len()],
    };
    for id in graph.ids() {
        let node = graph.node(id);
        if is_view(node) {
            continue;
        }
        let new = remat.copy(id, can_root(graph, node))?;
        remat.rw.replace(id, new);
    }
    for &o in graph.outputs() {
        if is_view(graph.node(o)) {
            let new = remat.resolve(o, o, false)?;
            remat.rw.replace(o, new);
        }
    }
    remat.rw.finish()
}

/// The rewrite in progress: the new graph and the shared copy of each view made so far.
struct Remat<'g> {
    rw: Rewriter<'g>,
    shared: Vec<Option<NodeId>>,
}

impl Remat<'_> {
    /// Appends a copy of old node `old` whose view operands are resolved as `private`
    /// (see [`Remat::resolve`]).
    fn copy(&mut self, old: NodeId, private: bool) -> Result<NodeId, IrError> {
        let node = self.rw.old().node(old);
        let inputs = node
            .inputs
            .iter()
            .map(|&i| self.resolve(i, old, private))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(self.rw.push(Node {
            inputs,
            ..node.clone()
        }))
    }

    /// The new id of old value `old` as an operand of old node `user`: for a view, a fresh
    /// copy of its chain when `private`, else the shared copy (made on first use).
    fn resolve(&mut self, old: NodeId, user: NodeId, private: bool) -> Result<NodeId, IrError> {
        let graph = self.rw.old();
        let node = graph.node(old);
        if !is_view(node) {
            return self.rw.lookup(old, user);
        }
        if !private {
            if let Some(id) = self.shared[old.0] {
                return Ok(id);
            }
        }
        let id = self.copy(old, private)?;
        if !private {
            self.shared[old.0] = Some(id);
        }
        Ok(id)
    }
}
