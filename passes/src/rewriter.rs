//! [`Rewriter`]: rebuilds a graph node by node with an old → new id map. Every pass uses it.

use hyv_ir::{Graph, IrError, Node, NodeId, Op};

/// Builds a new graph from an old one. A pass visits the old nodes in order and, for each,
/// either copies it ([`Rewriter::copy`]), maps it to an existing new node
/// ([`Rewriter::replace`]), emits new nodes for it ([`Rewriter::add`]) or drops it (maps
/// nothing). [`Rewriter::finish`] remaps the outputs.
#[derive(Debug)]
pub struct Rewriter<'g> {
    old: &'g Graph,
    new: Graph,
    map: Vec<Option<NodeId>>,
}

impl<'g> Rewriter<'g> {
    /// Starts an empty graph with the old graph's name.
    pub fn new(old: &'g Graph) -> Self {
        Rewriter {
            old,
            new: Graph::new(old.name.clone()),
            map: vec![None; old.len()],
        }
    }

    /// The graph being rewritten.
    pub fn old(&self) -> &'g Graph {
        self.old
    }

    /// The graph built so far.
    pub fn graph(&self) -> &Graph {
        &self.new
    }

    /// The new id of old node `old`, if it has one.
    pub fn get(&self, old: NodeId) -> Option<NodeId> {
        self.map.get(old.0).copied().flatten()
    }

    /// The new id of old node `old`; an error (naming `user`) when it was dropped.
    pub fn lookup(&self, old: NodeId, user: NodeId) -> Result<NodeId, IrError> {
        self.get(old).ok_or_else(|| IrError::Verify {
            graph: self.old.name.clone(),
            node: user.0,
            message: format!("operand {old} was removed by the pass"),
        })
    }

    /// The new ids of the operands of old node `old`.
    pub fn operands(&self, old: NodeId) -> Result<Vec<NodeId>, IrError> {
        self.old
            .node(old)
            .inputs
            .iter()
            .map(|&i| self.lookup(i, old))
            .collect()
    }

    /// Copies old node `old` (same op, type and path, remapped operands) and maps it.
    pub fn copy(&mut self, old: NodeId) -> Result<NodeId, IrError> {
        let inputs = self.operands(old)?;
        let n = self.old.node(old);
        let id = self.new.push(Node {
            op: n.op.clone(),
            inputs,
            ty: n.ty.clone(),
            path: n.path.clone(),
        });
        self.replace(old, id);
        Ok(id)
    }

    /// Maps old node `old` to new node `new`.
    pub fn replace(&mut self, old: NodeId, new: NodeId) {
        self.map[old.0] = Some(new);
    }

    /// Appends `op` on new nodes `inputs`, inferring its type (see [`Graph::add`]).
    pub fn add(
        &mut self,
        op: Op,
        inputs: &[NodeId],
        path: impl Into<String>,
    ) -> Result<NodeId, IrError> {
        self.new.add(op, inputs, path)
    }

    /// Appends a typed node to the new graph (operands are new ids).
    pub fn push(&mut self, node: Node) -> NodeId {
        self.new.push(node)
    }

    /// The new graph, with the old outputs remapped.
    pub fn finish(mut self) -> Result<Graph, IrError> {
        let outputs = self
            .old
            .outputs()
            .iter()
            .map(|&o| self.lookup(o, o))
            .collect::<Result<Vec<_>, _>>()?;
        self.new.set_outputs(outputs);
        Ok(self.new)
    }
}
