//! [`FusedProgram`]: the expression program of one fusion group, and its construction from
//! the group's nodes.

use hyv_ir::{BinaryOp, CmpOp, DType, Graph, NodeId, Op, ReduceOp, Shape, UnaryOp};
use std::collections::HashMap;

/// A register: the index of the instruction that computes it. Every register holds one f32
/// per element of the iteration space (bools as 0.0 / 1.0).
pub type Reg = usize;

/// One instruction: computes a register from earlier ones, element by element.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Instr {
    /// Reads [`FusedProgram::inputs`]`[i]` (f16/bf16 widened exactly, bools as 0/1).
    Load(usize),
    /// A float unary op (`not` on bools).
    Unary(UnaryOp, Reg),
    /// A float binary op (`and`/`or` on bools).
    Binary(BinaryOp, Reg, Reg),
    /// A comparison: 1.0 when it holds, else 0.0 (false whenever an operand is NaN, except `ne`).
    Compare(CmpOp, Reg, Reg),
    /// `cond != 0 ? a : b`, as `(cond, a, b)`.
    Select(Reg, Reg, Reg),
    /// Conversion to `to`: rounding to nearest even for f16/bf16 (a node of a 16-bit type
    /// rounds its f32 result this way, as when it is stored), `!= 0` for bool, none for f32.
    Cast(DType, Reg),
}

/// How the program reads one operand of the kernel: element `e` of the iteration space,
/// written in row-major coordinates `i` over `dims`, reads element `Σ i[d]·strides[d]` of the
/// operand's row-major storage. `dims` multiply to the iteration space's element count;
/// stride 0 is a broadcast. Adjacent dimensions that step like one are merged.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InputAccess {
    /// Index of the kernel operand read.
    pub operand: usize,
    /// The operand's storage type (float or bool).
    pub dtype: DType,
    /// Extents of the (merged) iteration dimensions.
    pub dims: Vec<usize>,
    /// Element stride of each dimension in the operand.
    pub strides: Vec<usize>,
}

/// What the program does with its result register.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tail {
    /// Stores one element per element of the iteration space.
    Store,
    /// Reduces every row (the last dimension of the iteration space) to one element: sums in
    /// f64 in row order, max with NaN propagation, as the eager `reduce` kernel does.
    ReduceRows(ReduceOp),
}

/// The expression program of one fusion group: instructions in the group's node order,
/// each evaluated over the same iteration space, then a [`Tail`]. Self-contained (no graph
/// references), so a backend can interpret it or generate a kernel from it.
#[derive(Debug, Clone, PartialEq)]
pub struct FusedProgram {
    /// The iteration space (row-major).
    pub shape: Vec<usize>,
    /// The loads, one per distinct (operand, access pattern).
    pub inputs: Vec<InputAccess>,
    /// The instructions; register `r` is computed by `instrs[r]`.
    pub instrs: Vec<Instr>,
    /// The register stored or reduced.
    pub result: Reg,
    /// Store or row reduction.
    pub tail: Tail,
    /// The dtype of the output tensor.
    pub out_dtype: DType,
}

/// A strided view of an outside value, as a chain of reshapes and broadcasts sees it.
#[derive(Clone)]
struct View {
    operand: usize,
    dims: Vec<usize>,
    strides: Vec<usize>,
}

/// Builds a program from a fusion group's `members` (in node order, the root last) and
/// collects the outside values it reads into `operands` (kernel operand order). `None`
/// when a program cannot express the group (the nodes then run one by one).
pub fn build(
    graph: &Graph,
    members: &[NodeId],
    operands: &mut Vec<NodeId>,
) -> Option<FusedProgram> {
    let root = *members.last()?;
    let root_node = graph.node(root);
    let (shape, tail) = match &root_node.op {
        Op::Reduce { op, axes, .. } => {
            let x = graph.ty(root_node.inputs[0]);
            let last = x.shape.rank().checked_sub(1)?;
            (axes == &[last] && x.dtype.is_float())
                .then(|| (x.shape.dims().to_vec(), Tail::ReduceRows(*op)))?
        }
        op if op.is_elementwise() => (root_node.ty.shape.dims().to_vec(), Tail::Store),
        _ => return None,
    };
    let mut b = Builder {
        graph,
        members,
        shape: &shape,
        operands,
        inputs: Vec::new(),
        instrs: Vec::new(),
        regs: HashMap::new(),
        loads: HashMap::new(),
    };
    for &m in members {
        let node = graph.node(m);
        if matches!(node.op, Op::Reshape { .. } | Op::Broadcast { .. }) {
            continue;
        }
        let mut args = Vec::with_capacity(node.inputs.len());
        for &i in &node.inputs {
            args.push(b.value(i)?);
        }
        let reg = match (&node.op, args.as_slice()) {
            (Op::Reduce { .. }, &[x]) => x,
            (op, args) => b.elementwise(op, args, node.ty.dtype, graph.ty(node.inputs[0]).dtype)?,
        };
        b.regs.insert(m, reg);
    }
    let result = *b.regs.get(&root)?;
    let (inputs, instrs) = (b.inputs, b.instrs);
    Some(FusedProgram {
        shape,
        inputs,
        instrs,
        result,
        tail,
        out_dtype: root_node.ty.dtype,
    })
}

/// State of [`build`].
struct Builder<'a> {
    graph: &'a Graph,
    members: &'a [NodeId],
    shape: &'a [usize],
    operands: &'a mut Vec<NodeId>,
    inputs: Vec<InputAccess>,
    instrs: Vec<Instr>,
    regs: HashMap<NodeId, Reg>,
    loads: HashMap<InputAccess, Reg>,
}

impl Builder<'_> {
    fn push(&mut self, instr: Instr) -> Reg {
        self.instrs.push(instr);
        self.instrs.len() - 1
    }

    /// The register holding node `id` over the iteration space: a member's, or a load.
    fn value(&mut self, id: NodeId) -> Option<Reg> {
        if let Some(&r) = self.regs.get(&id) {
            return Some(r);
        }
        let view = self.view(id)?;
        if view.dims != self.shape || !fusible(self.graph.ty(id).dtype) {
            return None;
        }
        let access = merged(InputAccess {
            operand: view.operand,
            dtype: self.graph.ty(id).dtype,
            dims: view.dims,
            strides: view.strides,
        });
        if let Some(&r) = self.loads.get(&access) {
            return Some(r);
        }
        self.inputs.push(access.clone());
        let r = self.push(Instr::Load(self.inputs.len() - 1));
        self.loads.insert(access, r);
        Some(r)
    }

    /// Node `id` as a strided view of an outside value (through member reshapes and
    /// broadcasts).
    fn view(&mut self, id: NodeId) -> Option<View> {
        let node = self.graph.node(id);
        if !self.members.contains(&id) {
            let operand = match self.operands.iter().position(|&o| o == id) {
                Some(k) => k,
                None => {
                    self.operands.push(id);
                    self.operands.len() - 1
                }
            };
            let dims = node.ty.shape.dims().to_vec();
            let strides = Shape::new(dims.clone()).strides();
            return Some(View {
                operand,
                dims,
                strides,
            });
        }
        let x = self.view(*node.inputs.first()?)?;
        let dims = node.ty.shape.dims().to_vec();
        let strides = match &node.op {
            Op::Broadcast { .. } => x
                .dims
                .iter()
                .zip(&x.strides)
                .zip(&dims)
                .map(|((&from, &s), &to)| if from == to { s } else { 0 })
                .collect(),
            Op::Reshape { .. } => reshape_strides(&x, &dims)?,
            _ => return None,
        };
        Some(View {
            operand: x.operand,
            dims,
            strides,
        })
    }

    /// The instructions of elementwise `op` on `args`, with dtype `out` (operand dtype `x`).
    fn elementwise(&mut self, op: &Op, args: &[Reg], out: DType, x: DType) -> Option<Reg> {
        if !fusible(out) || !fusible(x) {
            return None;
        }
        let bool_op = x == DType::Bool;
        let r = match (op, args) {
            (Op::Unary(u), &[a]) if bool_op == (*u == UnaryOp::Not) => {
                self.push(Instr::Unary(*u, a))
            }
            (Op::Binary(b), &[a, c]) if bool_op == matches!(b, BinaryOp::And | BinaryOp::Or) => {
                self.push(Instr::Binary(*b, a, c))
            }
            (Op::Compare(c), &[a, b]) => return Some(self.push(Instr::Compare(*c, a, b))),
            (Op::Select, &[c, a, b]) => return Some(self.push(Instr::Select(c, a, b))),
            (Op::Cast { to }, &[a]) => return Some(self.push(Instr::Cast(*to, a))),
            _ => return None,
        };
        Some(match out {
            DType::F16 | DType::BF16 => self.push(Instr::Cast(out, r)),
            _ => r,
        })
    }
}

/// Whether values of `dtype` live in f32 registers (floats and bools; not integers).
fn fusible(dtype: DType) -> bool {
    dtype.is_float() || dtype == DType::Bool
}

/// The strides of a reshape of view `x` to `dims`: the non-unit extents unchanged (unit
/// axes inserted or dropped), or `x` contiguous. `None` otherwise.
fn reshape_strides(x: &View, dims: &[usize]) -> Option<Vec<usize>> {
    let nonunit = |d: &[usize]| d.iter().copied().filter(|&e| e != 1).collect::<Vec<_>>();
    if nonunit(&x.dims) == nonunit(dims) {
        let mut kept = x
            .dims
            .iter()
            .zip(&x.strides)
            .filter(|(&e, _)| e != 1)
            .map(|(_, &s)| s);
        return Some(
            dims.iter()
                .map(|&e| if e == 1 { 0 } else { kept.next().unwrap_or(0) })
                .collect(),
        );
    }
    let contiguous = merged(InputAccess {
        operand: 0,
        dtype: DType::F32,
        dims: x.dims.clone(),
        strides: x.strides.clone(),
    });
    matches!(contiguous.strides.as_slice(), [] | [1]).then(|| Shape::new(dims.to_vec()).strides())
}

/// `access` with unit dimensions dropped and neighbours that step like one merged.
pub(super) fn merged(access: InputAccess) -> InputAccess {
    let mut dims: Vec<usize> = Vec::new();
    let mut strides: Vec<usize> = Vec::new();
    for (&e, &s) in access.dims.iter().zip(&access.strides) {
        if e == 1 {
            continue;
        }
        match (dims.last_mut(), strides.last_mut()) {
            (Some(d), Some(t)) if *t == s * e => {
                *d *= e;
                *t = s;
            }
            _ => {
                dims.push(e);
                strides.push(s);
            }
        }
    }
    InputAccess {
        dims,
        strides,
        ..access
    }
}
