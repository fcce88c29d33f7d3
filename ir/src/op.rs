//! The op set: primitives every backend implements and composites with a reference
//! decomposition into primitives.
//!
//! Conventions shared by all ops (backends must follow them exactly):
//! * Every extent of every value is at least 1 (no empty tensors).
//! * Elementwise binary ops, compares and `select` take operands of identical shapes; the
//!   frontend inserts `reshape` + `broadcast` for numpy-style broadcasting. This keeps
//!   backends and fusion simple (XLA-style explicit broadcasting).
//! * Floating-point math on f16/bf16 values is done in f32 and rounded to the storage type
//!   (round to nearest even) when stored.
//! * Axes are non-negative, already normalised by the frontend.

use crate::{DType, HostTensor, Shape};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::hash::{Hash, Hasher};

/// An `f64` attribute compared and hashed by its bit pattern, so ops can be `Eq + Hash`
/// (CSE keys) and dumps round-trip exactly.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct F64(pub f64);

impl PartialEq for F64 {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_bits() == other.0.to_bits()
    }
}
impl Eq for F64 {}
impl Hash for F64 {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.to_bits().hash(state)
    }
}
impl fmt::Display for F64 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

/// Elementwise unary functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum UnaryOp {
    /// `-x` (floats and ints).
    Neg,
    /// `|x|` (floats and ints).
    Abs,
    /// `e^x` (floats).
    Exp,
    /// Natural logarithm (floats; `log(0) = -inf`, negative gives NaN).
    Log,
    /// Square root (floats).
    Sqrt,
    /// `1 / sqrt(x)` (floats).
    Rsqrt,
    /// `1 / x` (floats).
    Recip,
    /// Hyperbolic tangent (floats).
    Tanh,
    /// Gauss error function (floats).
    Erf,
    /// Sine (floats).
    Sin,
    /// Cosine (floats).
    Cos,
    /// Round toward negative infinity (floats).
    Floor,
    /// Logical not (bool only).
    Not,
}

impl UnaryOp {
    /// Every unary function defined on floats (all but `not`), for tests and tools.
    pub const FLOAT: [UnaryOp; 12] = [
        UnaryOp::Neg,
        UnaryOp::Abs,
        UnaryOp::Exp,
        UnaryOp::Log,
        UnaryOp::Sqrt,
        UnaryOp::Rsqrt,
        UnaryOp::Recip,
        UnaryOp::Tanh,
        UnaryOp::Erf,
        UnaryOp::Sin,
        UnaryOp::Cos,
        UnaryOp::Floor,
    ];
}

/// Elementwise binary functions. Both operands have the same dtype and shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BinaryOp {
    /// `a + b` (ints wrap).
    Add,
    /// `a - b` (ints wrap).
    Sub,
    /// `a * b` (ints wrap).
    Mul,
    /// `a / b`; ints truncate toward zero and division by zero gives 0.
    Div,
    /// Maximum; NaN if either float operand is NaN.
    Max,
    /// Minimum; NaN if either float operand is NaN.
    Min,
    /// `a^b` (floats only).
    Pow,
    /// Logical and (bool only).
    And,
    /// Logical or (bool only).
    Or,
}

/// Elementwise comparisons; the result is bool. NaN compares unequal to everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CmpOp {
    /// `a == b`.
    Eq,
    /// `a != b` (true when either is NaN).
    Ne,
    /// `a < b`.
    Lt,
    /// `a <= b`.
    Le,
    /// `a > b`.
    Gt,
    /// `a >= b`.
    Ge,
}

/// Reduction functions (reductions and collectives).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ReduceOp {
    /// Sum (floats accumulate in at least f64 in the reference backend).
    Sum,
    /// Maximum (NaN propagates).
    Max,
}

/// How `pad` fills the new border.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PadMode {
    /// A constant value (converted to the tensor's dtype).
    Constant(F64),
    /// Repeat the edge element (like `torch.nn.functional.pad(mode="replicate")`).
    Replicate,
}

/// A communication group for collectives: a name (e.g. `sp`, `dp`) and its size.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CommGroup {
    /// Name of the group (`sp`, `dp`, `world`, ...).
    pub name: String,
    /// Number of ranks in the group.
    pub size: usize,
}

/// An IR operation. Operands are listed per variant as `(a, b, ...)`; attributes are fields.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Op {
    // ---- sources -------------------------------------------------------------------------
    /// A graph input, fed at run time. `()`. Inputs are ordered by their position in the graph.
    Input {
        /// Name of the input (e.g. `hidden_states`).
        name: String,
    },
    /// A named weight (`transformer_blocks.0.attn.to_q.weight`), bound at run time. `()`.
    Parameter {
        /// Hierarchical parameter name, as in the checkpoint.
        name: String,
    },
    /// A constant tensor stored in the graph. `()`.
    Constant {
        /// The value.
        value: HostTensor,
    },
    /// `iota[i...] = i[axis]`, converted to `dtype`. `()`.
    Iota {
        /// Output shape.
        shape: Shape,
        /// Axis whose index is the value.
        axis: usize,
        /// Output dtype.
        dtype: DType,
    },
    /// Counter-based normal samples: element `i` (row-major) is
    /// [`crate::random::normal_sample`]`(seed, offset + i)`, rounded to `dtype`. `()`.
    /// Identical on every backend.
    RandomNormal {
        /// Output shape.
        shape: Shape,
        /// Output dtype (float).
        dtype: DType,
        /// Seed (the Philox key).
        seed: u64,
        /// Counter offset of element 0.
        offset: u64,
    },

    // ---- elementwise ---------------------------------------------------------------------
    /// `(x)` → same type (bool for `Not`).
    Unary(UnaryOp),
    /// `(a, b)` → same type.
    Binary(BinaryOp),
    /// `(a, b)` → bool of the same shape.
    Compare(CmpOp),
    /// `(cond: bool, a, b)` → `cond ? a : b`.
    Select,
    /// `(x)` → `x` converted to `to`. Float→int truncates toward zero and saturates (NaN→0),
    /// anything→bool is `x != 0`, bool→number is 0/1, float narrowing rounds to nearest even.
    Cast {
        /// Target dtype.
        to: DType,
    },

    // ---- reductions ----------------------------------------------------------------------
    /// `(x)` reduced over `axes` (sorted, unique, non-empty).
    Reduce {
        /// Sum or max.
        op: ReduceOp,
        /// Reduced axes.
        axes: Vec<usize>,
        /// Keep reduced axes as extent 1.
        keep_dims: bool,
    },

    // ---- data movement -------------------------------------------------------------------
    /// `(x)` with the same elements in row-major order and a new shape (same numel).
    Reshape {
        /// New shape.
        shape: Shape,
    },
    /// `(x)` with dimensions reordered: `out.dims[i] = x.dims[perm[i]]`.
    Permute {
        /// A permutation of `0..rank`.
        perm: Vec<usize>,
    },
    /// `(x)` expanded to `shape` (same rank; each input extent is 1 or equal).
    Broadcast {
        /// Output shape.
        shape: Shape,
    },
    /// `(x)` restricted to `start[d]..end[d]` with stride `step[d]` in every dimension.
    Slice {
        /// First index per dimension.
        start: Vec<usize>,
        /// One past the last index per dimension.
        end: Vec<usize>,
        /// Stride per dimension (≥ 1).
        step: Vec<usize>,
    },
    /// `(x0, x1, ...)` joined along `axis`; other extents and dtypes equal.
    Concat {
        /// Axis to join along.
        axis: usize,
    },
    /// `(x)` padded with `low[d]` elements before and `high[d]` after in every dimension.
    Pad {
        /// Padding before, per dimension.
        low: Vec<usize>,
        /// Padding after, per dimension.
        high: Vec<usize>,
        /// Fill rule.
        mode: PadMode,
    },
    /// `(x, indices: i32|i64)` → `x.shape[..axis] ++ indices.shape ++ x.shape[axis+1..]`,
    /// taking `x[.., indices[j..], ..]`. An index outside `0..x.shape[axis]` is a run-time error.
    Gather {
        /// Axis of `x` indexed.
        axis: usize,
    },

    // ---- contractions --------------------------------------------------------------------
    /// `(lhs [B..., m, k], rhs [B..., k, n] | [k, n])` → `[B..., m, n]`. Same dtype;
    /// accumulation in at least f32 (f64 in the reference backend).
    MatMul,
    /// `(x [N, C, s...], w [O, C/groups, k...])` → `[N, O, o...]` with
    /// `o = (s + lo + hi - dilation*(k-1) - 1) / stride + 1` per spatial dimension.
    /// Cross-correlation, like PyTorch's `convNd` without bias.
    Conv {
        /// Stride per spatial dimension.
        stride: Vec<usize>,
        /// Zero padding `(low, high)` per spatial dimension.
        padding: Vec<(usize, usize)>,
        /// Dilation per spatial dimension.
        dilation: Vec<usize>,
        /// Number of groups (divides C and O).
        groups: usize,
    },

    // ---- collectives ---------------------------------------------------------------------
    /// `(x)` reduced elementwise over the group; same type.
    AllReduce {
        /// Sum or max.
        op: ReduceOp,
        /// The group.
        group: CommGroup,
    },
    /// `(x)` gathered from every rank, concatenated along `axis` (extent × group size).
    AllGather {
        /// Concatenation axis.
        axis: usize,
        /// The group.
        group: CommGroup,
    },
    /// `(x)` summed over the group, then split along `axis`; rank r keeps chunk r.
    ReduceScatter {
        /// Split axis (extent divisible by group size).
        axis: usize,
        /// The group.
        group: CommGroup,
    },
    /// `(x)` split along `split_axis` into group-size chunks, chunk j sent to rank j, the
    /// received chunks concatenated along `concat_axis` (Ulysses' heads ↔ sequence swap).
    AllToAll {
        /// Axis split (divisible by the group size).
        split_axis: usize,
        /// Axis along which received chunks are joined.
        concat_axis: usize,
        /// The group.
        group: CommGroup,
    },
    /// `(x)` replaced by rank `root`'s value.
    BroadcastFrom {
        /// The sending rank.
        root: usize,
        /// The group.
        group: CommGroup,
    },

    // ---- composites (single nodes with a reference decomposition) ------------------------
    /// `(x [..., in], w [out, in] [, b [out]])` → `x @ wᵀ (+ b)`, like `torch.nn.Linear`.
    Linear {
        /// Whether the bias operand is present.
        has_bias: bool,
    },
    /// `(x)` → `exp(x - max) / sum(exp(x - max))` along `axis`.
    Softmax {
        /// Normalised axis.
        axis: usize,
    },
    /// `(x [..., C] [, w [C], b [C]])`: layer norm over the last axis (biased variance).
    LayerNorm {
        /// Epsilon added to the variance.
        eps: F64,
        /// Whether weight and bias operands are present.
        affine: bool,
    },
    /// `(x [..., C] [, w [C]])` → `x * rsqrt(mean(x², last axis) + eps) (* w)`, computed in f32.
    RmsNorm {
        /// Epsilon added to the mean square.
        eps: F64,
        /// Whether the weight operand is present.
        affine: bool,
    },
    /// `(x [N, C, s...] [, w [C], b [C]])`: group norm over (C/groups, s...) per group,
    /// computed in f32 (like `torch.nn.GroupNorm`).
    GroupNorm {
        /// Number of groups (divides C).
        groups: usize,
        /// Epsilon added to the variance.
        eps: F64,
        /// Whether weight and bias operands are present.
        affine: bool,
    },
    /// `(x)` → GELU; `tanh: true` is the tanh approximation, else the exact erf form.
    Gelu {
        /// Use the tanh approximation.
        tanh: bool,
    },
    /// `(x)` → `x * sigmoid(x)`.
    Silu,
    /// `(q [B,H,Sq,D], k [B,H,Sk,D], v [B,H,Sk,Dv] [, key_mask: bool [B,Sk]])` →
    /// `softmax(scale·q·kᵀ + mask) · v`, `[B,H,Sq,Dv]`. Masked-out keys (false) and, with
    /// `causal`, keys after the query position get zero weight; a query row with no visible
    /// key yields zeros.
    Attention {
        /// Scale applied to the scores (usually `1/sqrt(D)`).
        scale: F64,
        /// Whether key `j` is hidden from query `i` when `j > i`.
        causal: bool,
        /// Whether the key-mask operand is present.
        has_mask: bool,
    },
    /// `(x [..., S, D], cos [S, D], sin [S, D])` → `x·cos + rot(x)·sin`. `interleaved`
    /// rotates pairs `(x[2i], x[2i+1]) → (-x[2i+1], x[2i])` (HunyuanVideo); otherwise halves
    /// `(x1, x2) → (-x2, x1)` (Llama's rotate_half).
    Rope {
        /// Pairwise (true) or half-split (false) rotation.
        interleaved: bool,
    },
    /// `(x [N, C, s...])` → each spatial extent multiplied by `scale[d]`, nearest neighbour.
    UpsampleNearest {
        /// Integer factor per spatial dimension.
        scale: Vec<usize>,
    },
}

impl Op {
    /// For a collective op, its group once checked runnable on a single rank (size 1, and a
    /// broadcast's root inside the group) — how backends without the distributed runtime
    /// run collectives, as the identity; `None` for every other op.
    pub fn single_rank_collective(&self) -> Option<Result<&CommGroup, String>> {
        let group = match self {
            Op::AllReduce { group, .. }
            | Op::AllGather { group, .. }
            | Op::ReduceScatter { group, .. }
            | Op::AllToAll { group, .. } => group,
            Op::BroadcastFrom { root, group } if *root >= group.size => {
                return Some(Err(format!(
                    "root rank {root} is outside group `{}` of size {}",
                    group.name, group.size
                )));
            }
            Op::BroadcastFrom { group, .. } => group,
            _ => return None,
        };
        Some(if group.size == 1 {
            Ok(group)
        } else {
            Err(format!(
                "this backend runs a single rank; collectives of group `{}` (size {}) need the \
                 distributed runtime",
                group.name, group.size
            ))
        })
    }

    /// The mnemonic used in dumps and error messages (`matmul`, `reduce_sum`, `layer_norm`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            Op::Input { .. } => "input",
            Op::Parameter { .. } => "parameter",
            Op::Constant { .. } => "constant",
            Op::Iota { .. } => "iota",
            Op::RandomNormal { .. } => "random_normal",
            Op::Unary(u) => match u {
                UnaryOp::Neg => "neg",
                UnaryOp::Abs => "abs",
                UnaryOp::Exp => "exp",
                UnaryOp::Log => "log",
                UnaryOp::Sqrt => "sqrt",
                UnaryOp::Rsqrt => "rsqrt",
                UnaryOp::Recip => "recip",
                UnaryOp::Tanh => "tanh",
                UnaryOp::Erf => "erf",
                UnaryOp::Sin => "sin",
                UnaryOp::Cos => "cos",
                UnaryOp::Floor => "floor",
                UnaryOp::Not => "not",
            },
            Op::Binary(b) => match b {
                BinaryOp::Add => "add",
                BinaryOp::Sub => "sub",
                BinaryOp::Mul => "mul",
                BinaryOp::Div => "div",
                BinaryOp::Max => "max",
                BinaryOp::Min => "min",
                BinaryOp::Pow => "pow",
                BinaryOp::And => "and",
                BinaryOp::Or => "or",
            },
            Op::Compare(c) => match c {
                CmpOp::Eq => "eq",
                CmpOp::Ne => "ne",
                CmpOp::Lt => "lt",
                CmpOp::Le => "le",
                CmpOp::Gt => "gt",
                CmpOp::Ge => "ge",
            },
            Op::Select => "select",
            Op::Cast { .. } => "cast",
            Op::Reduce { op, .. } => match op {
                ReduceOp::Sum => "reduce_sum",
                ReduceOp::Max => "reduce_max",
            },
            Op::Reshape { .. } => "reshape",
            Op::Permute { .. } => "permute",
            Op::Broadcast { .. } => "broadcast",
            Op::Slice { .. } => "slice",
            Op::Concat { .. } => "concat",
            Op::Pad { .. } => "pad",
            Op::Gather { .. } => "gather",
            Op::MatMul => "matmul",
            Op::Conv { .. } => "conv",
            Op::AllReduce { .. } => "all_reduce",
            Op::AllGather { .. } => "all_gather",
            Op::ReduceScatter { .. } => "reduce_scatter",
            Op::AllToAll { .. } => "all_to_all",
            Op::BroadcastFrom { .. } => "broadcast_from",
            Op::Linear { .. } => "linear",
            Op::Softmax { .. } => "softmax",
            Op::LayerNorm { .. } => "layer_norm",
            Op::RmsNorm { .. } => "rms_norm",
            Op::GroupNorm { .. } => "group_norm",
            Op::Gelu { .. } => "gelu",
            Op::Silu => "silu",
            Op::Attention { .. } => "attention",
            Op::Rope { .. } => "rope",
            Op::UpsampleNearest { .. } => "upsample_nearest",
        }
    }

    /// True for composite ops, which have a reference decomposition into primitives.
    pub fn is_composite(&self) -> bool {
        matches!(
            self,
            Op::Linear { .. }
                | Op::Softmax { .. }
                | Op::LayerNorm { .. }
                | Op::RmsNorm { .. }
                | Op::GroupNorm { .. }
                | Op::Gelu { .. }
                | Op::Silu
                | Op::Attention { .. }
                | Op::Rope { .. }
                | Op::UpsampleNearest { .. }
        )
    }

    /// True for ops without operands (inputs, parameters, constants, iota, random).
    pub fn is_source(&self) -> bool {
        matches!(
            self,
            Op::Input { .. }
                | Op::Parameter { .. }
                | Op::Constant { .. }
                | Op::Iota { .. }
                | Op::RandomNormal { .. }
        )
    }

    /// True for collectives (they need a communicator at run time).
    pub fn is_collective(&self) -> bool {
        matches!(
            self,
            Op::AllReduce { .. }
                | Op::AllGather { .. }
                | Op::ReduceScatter { .. }
                | Op::AllToAll { .. }
                | Op::BroadcastFrom { .. }
        )
    }

    /// True for elementwise ops (unary, binary, compare, select, cast).
    pub fn is_elementwise(&self) -> bool {
        matches!(
            self,
            Op::Unary(_) | Op::Binary(_) | Op::Compare(_) | Op::Select | Op::Cast { .. }
        )
    }
}
