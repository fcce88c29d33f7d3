//! [`CpuExecutable`]: a compiled graph run step by step: fused kernels for fusion groups,
//! the eager kernels for every other node.

use crate::backend::{arg_of, backend_error, wrap};
use crate::fused::{build, native, FusedProgram};
use crate::jit::JitKernel;
use crate::CpuBackend;
use hyv_ir::{Graph, NodeId, Op};
use hyv_runtime::binding::{check_inputs, parameter};
use hyv_runtime::{Backend, DeviceTensor, Error, Executable, ParamMap, Result};

/// One kernel launch of a run.
#[derive(Debug, Clone)]
enum Step {
    /// A node run with its eager kernel (inputs and parameters are bound, not launched).
    Node(NodeId),
    /// A fusion group: `program` computes the group's root from `operands`, run by its JIT
    /// `kernel` where there is one, else interpreted.
    Fused {
        root: NodeId,
        operands: Vec<NodeId>,
        program: FusedProgram,
        kernel: Option<JitKernel>,
    },
}

impl Step {
    /// The node whose value the step produces and the values it reads.
    fn io<'g>(&'g self, graph: &'g Graph) -> (NodeId, &'g [NodeId]) {
        match self {
            Step::Node(id) => (*id, &graph.node(*id).inputs),
            Step::Fused { root, operands, .. } => (*root, operands),
        }
    }
}

/// A verified graph run in node order: each fusion group (contiguous members, the root
/// last, as `hyv_passes::Fuse` leaves them) as one fused kernel, every other node with the
/// same kernel as eager mode. A group the fused kernels cannot express runs node by node.
/// Fused groups are JIT-compiled when the executable is built, where the backend's JIT is
/// on and the JIT expresses them, and interpreted otherwise ([`CpuExecutable::jit_groups`],
/// [`CpuExecutable::interpreted_groups`]).
/// Each value is dropped right after its last use, so a run holds at most
/// [`Executable::planned_peak_bytes`] of activations (plus what kernels allocate
/// internally). Inputs bind by position, parameters by name, both type-checked.
#[derive(Debug, Clone)]
pub struct CpuExecutable {
    graph: Graph,
    backend: CpuBackend,
    steps: Vec<Step>,
    peak: u64,
}

impl CpuExecutable {
    /// Verifies `graph` and plans its run on `backend`.
    pub fn new(graph: &Graph, backend: CpuBackend) -> Result<Self> {
        hyv_ir::verify(graph)?;
        let steps = plan(graph, backend.jit());
        let io: Vec<_> = steps.iter().map(|s| s.io(graph)).collect();
        Ok(CpuExecutable {
            peak: hyv_ir::peak_scheduled_bytes(graph, &io),
            graph: graph.clone(),
            backend,
            steps,
        })
    }

    /// Fused groups that run as JIT kernels.
    pub fn jit_groups(&self) -> usize {
        self.fused_groups(true)
    }

    /// Fused groups that run on the interpreter (the JIT is off, cannot express the group,
    /// or failed to compile it).
    pub fn interpreted_groups(&self) -> usize {
        self.fused_groups(false)
    }

    fn fused_groups(&self, jit: bool) -> usize {
        self.steps
            .iter()
            .filter(|s| matches!(s, Step::Fused { kernel, .. } if kernel.is_some() == jit))
            .count()
    }

    fn run_steps(&self, inputs: &[DeviceTensor], params: &ParamMap) -> Result<Vec<DeviceTensor>> {
        let graph = &self.graph;
        check_inputs(graph, inputs)?;
        let mut uses = vec![0usize; graph.len()];
        for step in &self.steps {
            for i in step.io(graph).1 {
                uses[i.0] += 1;
            }
        }
        for o in graph.outputs() {
            uses[o.0] += 1;
        }
        let mut values: Vec<Option<DeviceTensor>> = vec![None; graph.len()];
        let mut next_input = inputs.iter();
        for step in &self.steps {
            let (id, operands) = step.io(graph);
            let node = graph.node(id);
            let args = operands
                .iter()
                .map(|i| values[i.0].as_ref().ok_or_else(|| missing(graph, *i, id)))
                .collect::<Result<Vec<&DeviceTensor>>>()?;
            let value = match (step, &node.op) {
                (Step::Node(_), Op::Input { .. }) => {
                    next_input.next().cloned().expect("input count checked")
                }
                (Step::Node(_), Op::Parameter { .. }) => parameter(graph, id, params)?.clone(),
                (Step::Node(_), op) => self.backend.execute(op, &node.ty, &args, &node.path)?,
                (
                    Step::Fused {
                        program, kernel, ..
                    },
                    _,
                ) => {
                    let context = |m: String| {
                        backend_error(format!(
                            "fused group ending in {} at `{}`: {m}",
                            node.op.name(),
                            node.path
                        ))
                    };
                    let data = args
                        .iter()
                        .map(|t| arg_of(t).map(|a| &**a.data))
                        .collect::<std::result::Result<Vec<_>, _>>()
                        .map_err(context)?;
                    let out = match kernel {
                        Some(k) => native::run(k, program, &data),
                        None => program.run(&data),
                    }
                    .map_err(context)?;
                    wrap(node.ty.clone(), std::sync::Arc::new(out))
                }
            };
            values[id.0] = Some(value);
            for i in operands {
                uses[i.0] -= 1;
                if uses[i.0] == 0 {
                    values[i.0] = None;
                }
            }
        }
        Ok(graph
            .outputs()
            .iter()
            .map(|o| values[o.0].clone().expect("outputs are computed"))
            .collect())
    }
}

/// The error for an operand not computed before its use (an unverified graph).
fn missing(graph: &Graph, operand: NodeId, user: NodeId) -> Error {
    Error::Binding(format!(
        "graph `{}`: operand {operand} of node {user} is not computed before it",
        graph.name
    ))
}

/// The steps of a run: a fused kernel for every fusion group whose members are contiguous,
/// used outside only through the last one and expressible as a [`FusedProgram`] (with its
/// JIT kernel when `jit` is on and the JIT expresses it); one step per node otherwise.
fn plan(graph: &Graph, jit: bool) -> Vec<Step> {
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
            Some(Some(program)) => {
                let root = *members.last().expect("a group has members");
                // Named by the root's op only, so identical groups share one cached kernel.
                let name = format!("fused {}", graph.node(root).op.name());
                let kernel = jit.then(|| native::compile(&program, &name)).flatten();
                steps.push(Step::Fused {
                    root,
                    operands,
                    program,
                    kernel,
                })
            }
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

impl Executable for CpuExecutable {
    fn run(&self, inputs: &[DeviceTensor], params: &ParamMap) -> Result<Vec<DeviceTensor>> {
        self.backend.install(|| self.run_steps(inputs, params))
    }

    /// One launch per fused group plus one per other node (inputs and parameters excluded).
    fn kernel_launches(&self) -> Option<usize> {
        Some(
            self.steps
                .iter()
                .filter(|s| {
                    !matches!(s, Step::Node(id)
                        if matches!(self.graph.node(*id).op, Op::Input { .. } | Op::Parameter { .. }))
                })
                .count(),
        )
    }

    /// The activation peak of one run (liveness over the steps, parameters excluded; the
    /// intermediates of fused groups never exist and do not count).
    fn planned_peak_bytes(&self) -> Option<u64> {
        Some(self.peak)
    }
}
