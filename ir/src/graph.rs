//! The graph: a topologically ordered SSA list of nodes with named inputs, parameters and
//! ordered outputs.
//!
//! **Fusion groups.** A graph may carry a fusion plan: a group number per node, set by the
//! fusion pass (`hyv_passes::Fuse`) for backends that ask for it. Nodes with the same
//! number form one kernel; the pass puts each group's members next to each other, the last
//! member being the group's only value used outside it (its *root*). Groups are
//! annotations only: ops and their semantics do not change, and a backend that ignores them
//! runs the graph correctly node by node. The text dump writes the number as a `group=N`
//! attribute, RON as a `groups` map. Rewriting a graph (any pass) drops the plan.

use crate::{infer, IrError, Op, TensorType};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Index of a node in its graph. Printed as `%N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct NodeId(pub usize);

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "%{}", self.0)
    }
}

/// One SSA value: an op applied to earlier nodes, with its output type and the module path
/// of the model code that created it (e.g. `transformer_blocks.3.attn`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Node {
    /// The operation.
    pub op: Op,
    /// Operands, all earlier in the graph.
    pub inputs: Vec<NodeId>,
    /// Output type.
    pub ty: TensorType,
    /// Module path of the creating model code (empty at the top level).
    pub path: String,
}

/// A typed SSA dataflow graph in topological order.
///
/// Invariants (checked by [`crate::verify`]): every operand precedes its user, every stored
/// type equals the inferred one, input and parameter names are unique, outputs exist.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Graph {
    /// Name of the graph (used in dumps and file names).
    pub name: String,
    nodes: Vec<Node>,
    outputs: Vec<NodeId>,
    /// Fusion group of each grouped node (see the module docs).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    groups: BTreeMap<NodeId, u32>,
}

impl Graph {
    /// An empty graph.
    pub fn new(name: impl Into<String>) -> Self {
        Graph {
            name: name.into(),
            nodes: Vec::new(),
            outputs: Vec::new(),
            groups: BTreeMap::new(),
        }
    }

    /// Appends `op` applied to `inputs`, inferring its type. On error nothing is added and
    /// the error names the op, `path` and the operand types.
    pub fn add(
        &mut self,
        op: Op,
        inputs: &[NodeId],
        path: impl Into<String>,
    ) -> Result<NodeId, IrError> {
        let path = path.into();
        let mut tys = Vec::with_capacity(inputs.len());
        for &i in inputs {
            match self.nodes.get(i.0) {
                Some(n) => tys.push(&n.ty),
                None => {
                    return Err(IrError::Op {
                        op: op.name().into(),
                        path,
                        message: format!(
                            "operand {i} does not exist (graph has {} nodes)",
                            self.nodes.len()
                        ),
                    })
                }
            }
        }
        let ty = infer::infer(&op, &tys).map_err(|message| IrError::Op {
            op: op.name().into(),
            path: path.clone(),
            message,
        })?;
        Ok(self.push(Node {
            op,
            inputs: inputs.to_vec(),
            ty,
            path,
        }))
    }

    /// Appends a node as given, without inference (for parsers and rewriters that already
    /// know the type). Run [`crate::verify`] afterwards.
    pub fn push(&mut self, node: Node) -> NodeId {
        self.nodes.push(node);
        NodeId(self.nodes.len() - 1)
    }

    /// The node with id `id`. Panics if out of range (ids come from this graph).
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.0]
    }

    /// Every node in topological order.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True when the graph has no nodes.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Ids of all nodes.
    pub fn ids(&self) -> impl Iterator<Item = NodeId> {
        (0..self.nodes.len()).map(NodeId)
    }

    /// The type of node `id`.
    pub fn ty(&self, id: NodeId) -> &TensorType {
        &self.nodes[id.0].ty
    }

    /// Sets the ordered outputs.
    pub fn set_outputs(&mut self, outputs: Vec<NodeId>) {
        self.outputs = outputs;
    }

    /// The ordered outputs.
    pub fn outputs(&self) -> &[NodeId] {
        &self.outputs
    }

    /// The `input` nodes in graph order (the order in which values are fed).
    pub fn inputs(&self) -> Vec<NodeId> {
        self.ids()
            .filter(|&i| matches!(self.node(i).op, Op::Input { .. }))
            .collect()
    }

    /// The names of the `input` nodes in graph order: what an executable of this graph
    /// must be fed, in that order.
    pub fn input_names(&self) -> Vec<&str> {
        self.nodes()
            .iter()
            .filter_map(|node| match &node.op {
                Op::Input { name } => Some(name.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The `parameter` nodes in graph order.
    pub fn parameters(&self) -> Vec<NodeId> {
        self.ids()
            .filter(|&i| matches!(self.node(i).op, Op::Parameter { .. }))
            .collect()
    }

    /// The fusion group of node `id`, if it has one.
    pub fn group(&self, id: NodeId) -> Option<u32> {
        self.groups.get(&id).copied()
    }

    /// Puts node `id` in fusion group `group`, or out of any group with `None`.
    pub fn set_group(&mut self, id: NodeId, group: Option<u32>) {
        match group {
            Some(g) => self.groups.insert(id, g),
            None => self.groups.remove(&id),
        };
    }

    /// Every grouped node with its group, by node id.
    pub fn groups(&self) -> impl Iterator<Item = (NodeId, u32)> + '_ {
        self.groups.iter().map(|(&id, &g)| (id, g))
    }

    /// How many nodes use each node as an operand (outputs count as one use each).
    pub fn use_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.nodes.len()];
        // Ids outside the graph (an unverified graph) are skipped; the verifier reports them.
        let ids = self
            .nodes
            .iter()
            .flat_map(|n| &n.inputs)
            .chain(&self.outputs);
        for id in ids {
            if let Some(c) = counts.get_mut(id.0) {
                *c += 1;
            }
        }
        counts
    }
}
