//! [`plan`]: the steps of a compiled graph, one per fused group or unfused node.

use super::program::{build, FusedProgram};
use hyv_ir::{Graph, NodeId, Op};

/// One kernel of a compiled graph's run, in node order.
#[derive(Debug, Clone)]
pub enum Step {
    /// A node run on its own (inputs and parameters are bound, not launched).
    Node(NodeId),
    /// A fusion group: `program` computes the group's `root` from `operands` (outside
    /// values, in [`InputAccess::operand`](super::InputAccess::operand) order).
    Fused {
        /// The group's last member, the only one used outside it.
        root: NodeId,
        /// The values the program reads.
        operands: Vec<NodeId>,
        /// The group's expression program.
        program: FusedProgram,
    },
}

impl Step {
    /// The node whose value the step produces and the values it reads.
    pub fn io<'g>(&'g self, graph: &'g Graph) -> (NodeId, &'g [NodeId]) {
        match self {
            Step::Node(id) => (*id, &graph.node(*id).inputs),
            Step::Fused { root, operands, .. } => (*root, operands),
        }
    }

    /// Whether running the step launches a kernel: every step except a bound input or
    /// parameter.
    pub fn launches(&self, graph: &Graph) -> bool {
        !matches!(self, Step::Node(id)
            if matches!(graph.node(*id).op, Op::Input { .. } | Op::Parameter { .. }))
    }
}

/// The steps of a run of `graph`: a fused program for every fusion group whose members
/// are contiguous (as `Fuse` leaves them), used outside only through the last one and
/// expressible as a [`FusedProgram`]; one step per node otherwise.
pub fn plan(graph: &Graph) -> Vec<Step> {
    let uses = graph.use_counts();
    let mut steps = Vec::new();
    let mut next = 0;
    while next < graph.len() {
        let id = NodeId(next);
        let Some(group) = graph.group(id) else {
            steps.push(Step::Node(id));
            next += 1;
            continue;
        };
        let members: Vec<NodeId> = (next..graph.len())
            .map(NodeId)
            .take_while(|&m| graph.group(m) == Some(group))
            .collect();
        next += members.len();
        let mut operands = Vec::new();
        match fusible(graph, &members, &uses).then(|| build(graph, &members, &mut operands)) {
            Some(Some(program)) => steps.push(Step::Fused {
                root: *members.last().expect("a group has members"),
                operands,
                program,
            }),
            _ => steps.extend(members.into_iter().map(Step::Node)),
        }
    }
    steps
}

/// Whether only the last of `members` is used outside them (and the group has two or more
/// nodes): every other member's uses (`uses` counts them, outputs included) are operands of
/// members.
fn fusible(graph: &Graph, members: &[NodeId], uses: &[usize]) -> bool {
    let Some((_, inner)) = members.split_last() else {
        return false;
    };
    !inner.is_empty()
        && inner.iter().all(|&m| {
            let inside: usize = members
                .iter()
                .map(|&u| graph.node(u).inputs.iter().filter(|&&i| i == m).count())
                .sum();
            inside == uses[m.0]
        })
}
