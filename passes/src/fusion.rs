//! [`Fuse`]: groups elementwise chains, the broadcasts and reshapes feeding them, and a
//! trailing row reduction into fusion groups (one kernel each on a backend that fuses).
//!
//! A group is written into the graph as a group number per member node (see
//! [`hyv_ir::Graph::group`]); ops do not change, so a backend that ignores groups still runs
//! the graph. The rules, XLA-style producer → consumer fusion without duplicating work:
//!
//! * A group has one **root**, its only value used outside it: an elementwise op or a
//!   reduction over the last axis only (a row reduction: softmax and norm statistics). The
//!   root's *iteration shape* is its own shape, or its operand's for a reduction.
//! * A **producer** joins its consumer's group when every one of its users is already in the
//!   group and it is not a graph output (so no value is computed twice and none is needed
//!   outside), and it is either an elementwise op of the iteration shape whose users in the
//!   group are elementwise or the root, or a `reshape`/`broadcast` (a strided view of an
//!   outside value: its users in the group may be views too, but it never reads an
//!   elementwise member, which would change the iteration shape).
//! * Elementwise means unary, binary, compare, select and cast with every operand and the
//!   result float or bool (integer index arithmetic stays unfused). Reductions join only as
//!   roots; contractions, gathers, collectives, other data movement and composites never
//!   join a group: they cut it.
//!
//! * Views are first copied per fusing consumer ([`crate::remat`]), so a view shared by
//!   several kernels is read through by each instead of materialised.
//!
//! With a single root whose users are the only outside users, every member is an ancestor
//! of the root, so a group is convex (no path leaves it and comes back). The pass then
//! reorders the nodes so that each group's members directly precede its root, keeping
//! every other node (and the order of the inputs) where it was. Groups of one node are not
//! marked.

use crate::remat::rematerialise_views;
use crate::{Pass, PassReport, Rewriter};
use hyv_ir::{Graph, IrError, Node, NodeId, Op};
use std::collections::BinaryHeap;

/// The fusion pass (see the module docs for the rules). Runs last, after decomposition:
/// any later rewrite drops the groups.
#[derive(Debug, Clone, Copy, Default)]
pub struct Fuse;

impl Pass for Fuse {
    fn name(&self) -> &'static str {
        "fuse"
    }

    fn run(&self, graph: Graph) -> Result<(Graph, PassReport), IrError> {
        let before = graph.len();
        let graph = rematerialise_views(&graph)?;
        let groups: Vec<(NodeId, Vec<NodeId>)> = plan(&graph)
            .into_iter()
            .filter(|(_, members)| members.len() > 1)
            .collect();
        let mut group_of: Vec<Option<usize>> = vec![None; graph.len()];
        for (g, (_, members)) in groups.iter().enumerate() {
            for m in members {
                group_of[m.0] = Some(g);
            }
        }
        // Copy every node in order, except that a group's members are copied together
        // when its root is reached.
        let mut rw = Rewriter::new(&graph);
        let mut new_group: Vec<(NodeId, u32)> = Vec::new();
        for id in graph.ids() {
            match group_of[id.0] {
                None => {
                    rw.copy(id)?;
                }
                Some(g) if groups[g].0 == id => {
                    for &m in &groups[g].1 {
                        new_group.push((rw.copy(m)?, g as u32));
                    }
                }
                Some(_) => {}
            }
        }
        let mut out = rw.finish()?;
        for (id, g) in new_group {
            out.set_group(id, Some(g));
        }
        let ops: usize = groups.iter().map(|(_, m)| m.len()).sum();
        let report = PassReport::new(
            self.name(),
            !groups.is_empty() || out.len() != before,
            before,
            out.len(),
            format!("formed {} groups fusing {ops} ops", groups.len()),
        );
        Ok((out, report))
    }
}

/// Every group found, as (root, members in node order including the root). Groups of one
/// node are included; the caller skips them.
fn plan(graph: &Graph) -> Vec<(NodeId, Vec<NodeId>)> {
    let mut users: Vec<Vec<NodeId>> = vec![Vec::new(); graph.len()];
    for id in graph.ids() {
        for &i in &graph.node(id).inputs {
            users[i.0].push(id);
        }
    }
    let mut is_output = vec![false; graph.len()];
    for o in graph.outputs() {
        is_output[o.0] = true;
    }
    let mut group: Vec<Option<usize>> = vec![None; graph.len()];
    let mut groups = Vec::new();
    for root in (0..graph.len()).rev().map(NodeId) {
        if group[root.0].is_some() {
            continue;
        }
        let Some(shape) = root_shape(graph, graph.node(root)) else {
            continue;
        };
        let g = groups.len();
        group[root.0] = Some(g);
        let mut members = vec![root];
        // Candidates by descending id: every member that uses a candidate comes first.
        let mut work: BinaryHeap<NodeId> = graph.node(root).inputs.iter().copied().collect();
        while let Some(p) = work.pop() {
            if group[p.0].is_some() || is_output[p.0] {
                continue;
            }
            if !users[p.0].iter().all(|u| group[u.0] == Some(g)) {
                continue;
            }
            let node = graph.node(p);
            let users_are = |pred: fn(&Op) -> bool| {
                users[p.0]
                    .iter()
                    .all(|&u| u == root || pred(&graph.node(u).op))
            };
            let joins = if is_view(node) {
                true
            } else {
                is_elementwise(graph, node)
                    && node.ty.shape.dims() == shape
                    && users_are(|op| op.is_elementwise())
            };
            if joins {
                group[p.0] = Some(g);
                members.push(p);
                work.extend(node.inputs.iter().copied());
            }
        }
        members.sort();
        groups.push((root, members));
    }
    groups.reverse();
    groups
}

/// Whether `node` can be a group root (and so fuses the views it reads).
pub(crate) fn can_root(graph: &Graph, node: &Node) -> bool {
    root_shape(graph, node).is_some()
}

/// The iteration shape of `node` as a group root, or `None` when it cannot be one.
fn root_shape<'g>(graph: &'g Graph, node: &'g Node) -> Option<&'g [usize]> {
    if is_elementwise(graph, node) {
        return Some(node.ty.shape.dims());
    }
    let Op::Reduce { axes, .. } = &node.op else {
        return None;
    };
    let x = graph.ty(node.inputs[0]);
    let rank = x.shape.rank();
    (x.dtype.is_float() && axes.as_slice() == [rank.checked_sub(1)?]).then(|| x.shape.dims())
}

/// An elementwise op whose operands and result are all float or bool.
fn is_elementwise(graph: &Graph, node: &Node) -> bool {
    let fusible = |ty: &hyv_ir::TensorType| ty.dtype.is_float() || ty.dtype == hyv_ir::DType::Bool;
    node.op.is_elementwise()
        && fusible(&node.ty)
        && node.inputs.iter().all(|&i| fusible(graph.ty(i)))
}

/// A `reshape` or `broadcast` of a float or bool value: a view a fused kernel reads through.
pub(crate) fn is_view(node: &Node) -> bool {
    matches!(node.op, Op::Reshape { .. } | Op::Broadcast { .. })
        && (node.ty.dtype.is_float() || node.ty.dtype == hyv_ir::DType::Bool)
}
