//! Random graph generators for property tests of this and downstream crates (feature
//! `testing`).
//!
//! * [`random_graph`] builds a valid, numerically tame f32 graph: every value stays finite
//!   and O(1) (a value whose magnitude bound exceeds 4 is squashed with `tanh`), functions
//!   with a restricted domain only see safe operands (`exp(tanh x)`, `log(|x| + 1)`, ...),
//!   layer/RMS/group norms use a large epsilon, discontinuous ops (casts that round or
//!   truncate) are only applied to values every backend computes bit-exactly, and compares
//!   only feed `select(a ⋚ b, a, b)`, which is continuous. It also plants patterns for the
//!   passes: duplicate subexpressions (CSE), dead nodes (DCE), constant-only subgraphs
//!   (constant folding) and identities such as `x*1`, `x+0`, `neg(neg x)`,
//!   reshape-of-reshape or identity permutes (algebraic simplification).
//! * [`random_graph_all_ops`] builds a valid graph containing every op variant, every dtype,
//!   collectives, special float constants (NaN payloads, -0.0, infinities, subnormals) and
//!   odd names and paths: for round-trip tests of dumps, not for numerics.
//! * [`random_inputs`] and [`random_params`] give values in [-1, 1] for a graph's inputs and
//!   parameters; [`arb_graph`] and [`arb_graph_all_ops`] wrap the generators as proptest
//!   strategies.
//!
//! Everything is deterministic in the seed.

use crate::{
    BinaryOp, CmpOp, CommGroup, DType, Graph, HostTensor, Node, NodeId, Op, PadMode, ReduceOp,
    Shape, TensorData, TensorType, UnaryOp, F64,
};
use half::{bf16, f16};
use proptest::strategy::Strategy;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Module paths given to generated nodes.
const PATHS: [&str; 6] = [
    "",
    "embed",
    "blocks.0.attn",
    "blocks.1.mlp",
    "blocks.1.mlp.fc",
    "head",
];

/// A value's magnitude bound above which [`random_graph`] squashes it with `tanh`.
const SQUASH_ABOVE: f64 = 4.0;

/// Builds a valid f32 graph with at least `min_ops` non-source ops, deterministic in `seed`.
pub fn random_graph(seed: u64, min_ops: usize) -> Graph {
    let mut t = Tame::new(seed);
    let n_inputs = t.rng.random_range(1..=3);
    for i in 0..n_inputs {
        let shape = t.random_shape(1, 4);
        t.source(
            Op::Input {
                name: format!("x{i}"),
            },
            shape,
        );
    }
    for _ in 0..2 {
        let shape = t.random_shape(1, 3);
        t.param(shape);
    }
    for _ in 0..t.rng.random_range(1..=2) {
        let shape = t.random_shape(1, 3);
        let c = t.constant(shape);
        t.pool.push(c);
    }
    while t.non_source_ops() < min_ops {
        t.step();
    }
    t.finish()
}

/// Values in [-1, 1] for the graph's `input` nodes, in graph order.
pub fn random_inputs(graph: &Graph, seed: u64) -> Vec<HostTensor> {
    let mut rng = StdRng::seed_from_u64(seed);
    graph
        .inputs()
        .into_iter()
        .map(|id| random_tensor(&mut rng, graph.ty(id)))
        .collect()
}

/// Values in [-1, 1] for the graph's `parameter` nodes, in graph order, with their names.
pub fn random_params(graph: &Graph, seed: u64) -> Vec<(String, HostTensor)> {
    let mut rng = StdRng::seed_from_u64(seed);
    graph
        .parameters()
        .into_iter()
        .map(|id| {
            let name = match &graph.node(id).op {
                Op::Parameter { name } => name.clone(),
                _ => unreachable!("Graph::parameters returns parameter nodes"),
            };
            (name, random_tensor(&mut rng, graph.ty(id)))
        })
        .collect()
}

/// Proptest strategy of tame graphs from [`random_graph`] (1 to 40 non-source ops).
pub fn arb_graph() -> impl Strategy<Value = Graph> {
    (proptest::num::u64::ANY, 1usize..40).prop_map(|(seed, n)| random_graph(seed, n))
}

/// Proptest strategy of graphs from [`random_graph_all_ops`].
pub fn arb_graph_all_ops() -> impl Strategy<Value = Graph> {
    proptest::num::u64::ANY.prop_map(random_graph_all_ops)
}

fn random_tensor(rng: &mut StdRng, ty: &TensorType) -> HostTensor {
    let n = ty.shape.numel();
    let data = match ty.dtype {
        DType::Bool => TensorData::Bool((0..n).map(|_| rng.random_bool(0.5)).collect()),
        d if d.is_int() => {
            TensorData::from_f64(d, (0..n).map(|_| rng.random_range(-1i32..=1) as f64))
        }
        d => TensorData::from_f64(d, (0..n).map(|_| rng.random_range(-1.0..=1.0))),
    };
    HostTensor::new(ty.shape.clone(), data).expect("element count matches the shape")
}

/// State of [`random_graph`]: the graph, the pool of live f32 values, and per node a bound
/// on the magnitude and whether every backend computes it bit-exactly.
struct Tame {
    g: Graph,
    rng: StdRng,
    pool: Vec<NodeId>,
    bound: Vec<f64>,
    exact: Vec<bool>,
    n_params: usize,
}

impl Tame {
    fn new(seed: u64) -> Self {
        Tame {
            g: Graph::new(format!("random_{seed}")),
            rng: StdRng::seed_from_u64(seed),
            pool: Vec::new(),
            bound: Vec::new(),
            exact: Vec::new(),
            n_params: 0,
        }
    }

    fn non_source_ops(&self) -> usize {
        self.g.nodes().iter().filter(|n| !n.op.is_source()).count()
    }

    fn path(&mut self) -> &'static str {
        PATHS[self.rng.random_range(0..PATHS.len())]
    }

    fn random_shape(&mut self, min_rank: usize, max_rank: usize) -> Vec<usize> {
        let rank = self.rng.random_range(min_rank..=max_rank);
        (0..rank).map(|_| self.rng.random_range(1..=5)).collect()
    }

    fn dims(&self, x: NodeId) -> Vec<usize> {
        self.g.ty(x).shape.dims().to_vec()
    }

    /// Appends a node; the generator only builds valid ops.
    fn add(&mut self, op: Op, inputs: &[NodeId], bound: f64, exact: bool) -> NodeId {
        let path = self.path();
        let id = self
            .g
            .add(op, inputs, path)
            .unwrap_or_else(|e| panic!("random_graph built an invalid op: {e}"));
        self.bound.push(bound);
        self.exact.push(exact);
        id
    }

    fn source(&mut self, op: Op, shape: Vec<usize>) -> NodeId {
        let path = self.path();
        let id = self.g.push(Node {
            op,
            inputs: vec![],
            ty: TensorType::new(DType::F32, shape),
            path: path.into(),
        });
        self.bound.push(1.0);
        self.exact.push(true);
        self.pool.push(id);
        id
    }

    fn param(&mut self, shape: Vec<usize>) -> NodeId {
        let name = format!("blocks.{}.weight", self.n_params);
        self.n_params += 1;
        self.source(Op::Parameter { name }, shape)
    }

    /// A weight: a parameter or a constant (not added to the pool).
    fn weight(&mut self, shape: Vec<usize>) -> NodeId {
        if self.rng.random_bool(0.5) {
            let id = self.param(shape);
            self.pool.pop();
            id
        } else {
            self.constant(shape)
        }
    }

    fn constant_with(&mut self, shape: Vec<usize>, values: Vec<f32>) -> NodeId {
        let bound = values.iter().fold(0.0f64, |m, v| m.max(v.abs() as f64));
        let value = HostTensor::from_f32(shape, values).expect("element count matches");
        self.add(Op::Constant { value }, &[], bound, true)
    }

    fn constant(&mut self, shape: Vec<usize>) -> NodeId {
        let n: usize = shape.iter().product();
        let values = (0..n).map(|_| self.rng.random_range(-1.0..=1.0)).collect();
        self.constant_with(shape, values)
    }

    /// `value` everywhere in `shape`: a full constant or a broadcast size-1 constant.
    fn splat(&mut self, shape: Vec<usize>, value: f32) -> NodeId {
        let n: usize = shape.iter().product();
        if self.rng.random_bool(0.5) || shape.iter().all(|&d| d == 1) {
            self.constant_with(shape, vec![value; n])
        } else {
            let ones = vec![1; shape.len()];
            let c = self.constant_with(ones, vec![value]);
            self.add(
                Op::Broadcast {
                    shape: shape.into(),
                },
                &[c],
                value.abs() as f64,
                true,
            )
        }
    }

    fn pick(&mut self) -> NodeId {
        let n = self.pool.len();
        if n > 4 && self.rng.random_bool(0.5) {
            self.pool[self.rng.random_range(n - 4..n)]
        } else {
            self.pool[self.rng.random_range(0..n)]
        }
    }

    fn pick_exact(&mut self) -> NodeId {
        let exact: Vec<NodeId> = self
            .pool
            .iter()
            .copied()
            .filter(|x| self.exact[x.0])
            .collect();
        exact[self.rng.random_range(0..exact.len())]
    }

    /// Adds `x` to the pool, squashed with `tanh` when its bound is too large.
    fn keep(&mut self, x: NodeId) -> NodeId {
        let x = if self.bound[x.0] > SQUASH_ABOVE {
            self.add(Op::Unary(UnaryOp::Tanh), &[x], 1.0, false)
        } else {
            x
        };
        self.pool.push(x);
        x
    }

    fn unary(&mut self, u: UnaryOp, x: NodeId) -> NodeId {
        let b = self.bound[x.0];
        let (bound, exact) = match u {
            UnaryOp::Neg | UnaryOp::Abs => (b, self.exact[x.0]),
            UnaryOp::Tanh | UnaryOp::Sin | UnaryOp::Cos | UnaryOp::Rsqrt | UnaryOp::Recip => {
                (1.0, false)
            }
            UnaryOp::Exp => (b.exp(), false),
            UnaryOp::Sqrt => (b.sqrt(), false),
            UnaryOp::Log => (b.ln().abs(), false),
            _ => (b, false),
        };
        self.add(Op::Unary(u), &[x], bound, exact)
    }

    fn binary(&mut self, op: BinaryOp, a: NodeId, b: NodeId) -> NodeId {
        let (ba, bb) = (self.bound[a.0], self.bound[b.0]);
        let bound = match op {
            BinaryOp::Add | BinaryOp::Sub => ba + bb,
            BinaryOp::Mul => ba * bb,
            BinaryOp::Div => ba,
            _ => ba.max(bb),
        };
        let exact =
            self.exact[a.0] && self.exact[b.0] && matches!(op, BinaryOp::Max | BinaryOp::Min);
        self.add(Op::Binary(op), &[a, b], bound, exact)
    }

    /// `|x| + 1` (at least 1, for ops with a restricted domain).
    fn abs_plus_one(&mut self, x: NodeId) -> NodeId {
        let a = self.unary(UnaryOp::Abs, x);
        let one = self.splat(self.dims(x), 1.0);
        self.binary(BinaryOp::Add, a, one)
    }

    fn reshape(&mut self, x: NodeId, shape: Vec<usize>) -> NodeId {
        let (b, e) = (self.bound[x.0], self.exact[x.0]);
        self.add(
            Op::Reshape {
                shape: shape.into(),
            },
            &[x],
            b,
            e,
        )
    }

    /// A value of shape `dims` derived from `x` by flattening, slicing or padding, and
    /// reshaping.
    fn fit(&mut self, x: NodeId, dims: &[usize]) -> NodeId {
        if self.dims(x) == dims {
            return x;
        }
        let (b, e) = (self.bound[x.0], self.exact[x.0]);
        let n = self.g.ty(x).shape.numel();
        let t: usize = dims.iter().product();
        let mut y = if self.dims(x).len() == 1 {
            x
        } else {
            self.reshape(x, vec![n])
        };
        if n > t {
            let step = if n >= 2 * t - 1 && self.rng.random_bool(0.5) {
                2
            } else {
                1
            };
            let start = self.rng.random_range(0..=(n - (t - 1) * step - 1));
            let op = Op::Slice {
                start: vec![start],
                end: vec![start + (t - 1) * step + 1],
                step: vec![step],
            };
            y = self.add(op, &[y], b, e);
        } else if n < t {
            let low = self.rng.random_range(0..=(t - n).min(2));
            let c = self.rng.random_range(-1.0f64..=1.0);
            let mode = if self.rng.random_bool(0.5) {
                PadMode::Replicate
            } else {
                PadMode::Constant(F64(c))
            };
            let op = Op::Pad {
                low: vec![low],
                high: vec![t - n - low],
                mode,
            };
            y = self.add(op, &[y], b.max(c.abs()), e);
        }
        if dims.len() == 1 {
            y
        } else {
            self.reshape(y, dims.to_vec())
        }
    }

    /// A random shape with `n` elements and rank 1 to 4.
    fn factor_shape(&mut self, mut n: usize) -> Vec<usize> {
        let rank = self.rng.random_range(1..=4);
        let mut dims = vec![1; rank];
        let mut p = 2;
        while n > 1 {
            while !n.is_multiple_of(p) {
                p += 1;
            }
            n /= p;
            let d = self.rng.random_range(0..rank);
            dims[d] *= p;
        }
        dims
    }

    fn random_perm(&mut self, rank: usize) -> Vec<usize> {
        let mut perm: Vec<usize> = (0..rank).collect();
        for i in (1..rank).rev() {
            let j = self.rng.random_range(0..=i);
            perm.swap(i, j);
        }
        perm
    }

    fn permute(&mut self, x: NodeId, perm: Vec<usize>) -> NodeId {
        let (b, e) = (self.bound[x.0], self.exact[x.0]);
        self.add(Op::Permute { perm }, &[x], b, e)
    }

    /// A constant or a value derived from the pool, of shape `dims`.
    fn operand(&mut self, dims: &[usize]) -> NodeId {
        if self.rng.random_bool(0.2) {
            self.constant(dims.to_vec())
        } else {
            let y = self.pick();
            self.fit(y, dims)
        }
    }

    /// Adds one random template.
    fn step(&mut self) {
        let x = self.pick();
        let xd = self.dims(x);
        let r = self.rng.random_range(0..30);
        let y = match r {
            0 => {
                const U: [UnaryOp; 5] = [
                    UnaryOp::Tanh,
                    UnaryOp::Sin,
                    UnaryOp::Cos,
                    UnaryOp::Abs,
                    UnaryOp::Neg,
                ];
                let u = U[self.rng.random_range(0..U.len())];
                self.unary(u, x)
            }
            1 => {
                let t = self.unary(UnaryOp::Tanh, x);
                self.unary(UnaryOp::Exp, t)
            }
            2 => {
                const U: [UnaryOp; 4] =
                    [UnaryOp::Sqrt, UnaryOp::Rsqrt, UnaryOp::Log, UnaryOp::Recip];
                let u = U[self.rng.random_range(0..U.len())];
                let a = self.abs_plus_one(x);
                self.unary(u, a)
            }
            3 | 4 => {
                const B: [BinaryOp; 6] = [
                    BinaryOp::Add,
                    BinaryOp::Sub,
                    BinaryOp::Mul,
                    BinaryOp::Max,
                    BinaryOp::Min,
                    BinaryOp::Div,
                ];
                let op = B[self.rng.random_range(0..B.len())];
                let y = self.operand(&xd);
                let y = if op == BinaryOp::Div {
                    self.abs_plus_one(y)
                } else {
                    y
                };
                self.binary(op, x, y)
            }
            5 => {
                const C: [CmpOp; 6] = [
                    CmpOp::Eq,
                    CmpOp::Ne,
                    CmpOp::Lt,
                    CmpOp::Le,
                    CmpOp::Gt,
                    CmpOp::Ge,
                ];
                let c = C[self.rng.random_range(0..C.len())];
                let y = self.operand(&xd);
                let cond = self.add(Op::Compare(c), &[x, y], 1.0, false);
                let (a, b) = if self.rng.random_bool(0.5) {
                    (x, y)
                } else {
                    (y, x)
                };
                let bound = self.bound[x.0].max(self.bound[y.0]);
                let exact = self.exact[x.0] && self.exact[y.0];
                self.add(Op::Select, &[cond, a, b], bound, exact)
            }
            6 => self.casts(),
            7 | 8 => self.reduce(x),
            9 => {
                let n = self.g.ty(x).shape.numel();
                let s1 = self.factor_shape(n);
                let a = self.reshape(x, s1);
                let s2 = self.factor_shape(n);
                self.reshape(a, s2)
            }
            10 if xd.len() >= 2 => {
                let p = self.random_perm(xd.len());
                let a = self.permute(x, p);
                let p2 = self.random_perm(xd.len());
                if self.rng.random_bool(0.5) {
                    self.permute(a, p2)
                } else {
                    a
                }
            }
            11 => self.broadcast(x),
            12 => {
                let mut start = Vec::new();
                let mut end = Vec::new();
                let mut step = Vec::new();
                for &d in &xd {
                    let s = self.rng.random_range(0..d);
                    start.push(s);
                    end.push(self.rng.random_range(s + 1..=d));
                    step.push(self.rng.random_range(1..=3));
                }
                let (b, e) = (self.bound[x.0], self.exact[x.0]);
                self.add(Op::Slice { start, end, step }, &[x], b, e)
            }
            13 => {
                let axis = self.rng.random_range(0..xd.len());
                let mut parts = vec![x];
                for _ in 0..self.rng.random_range(1..=2) {
                    let mut d = xd.clone();
                    d[axis] = self.rng.random_range(1..=3);
                    let p = self.operand(&d);
                    parts.push(p);
                }
                let b = parts.iter().fold(0.0f64, |m, p| m.max(self.bound[p.0]));
                let e = parts.iter().all(|p| self.exact[p.0]);
                self.add(Op::Concat { axis }, &parts, b, e)
            }
            14 => {
                let low: Vec<usize> = xd.iter().map(|_| self.rng.random_range(0..=2)).collect();
                let high: Vec<usize> = xd.iter().map(|_| self.rng.random_range(0..=2)).collect();
                let c: f64 = self.rng.random_range(-1.0..=1.0);
                let mode = if self.rng.random_bool(0.5) {
                    PadMode::Replicate
                } else {
                    PadMode::Constant(F64(c))
                };
                let (b, e) = (self.bound[x.0].max(c.abs()), self.exact[x.0]);
                self.add(Op::Pad { low, high, mode }, &[x], b, e)
            }
            15 => {
                let axis = self.rng.random_range(0..xd.len());
                let ishape = self.random_shape(1, 2);
                let n: usize = ishape.iter().product();
                let idx: Vec<i64> = (0..n)
                    .map(|_| self.rng.random_range(0..xd[axis] as i64))
                    .collect();
                let data = if self.rng.random_bool(0.5) {
                    TensorData::I64(idx)
                } else {
                    TensorData::I32(idx.into_iter().map(|i| i as i32).collect())
                };
                let value = HostTensor::new(ishape, data).expect("element count matches");
                let i = self.add(Op::Constant { value }, &[], 0.0, true);
                let (b, e) = (self.bound[x.0], self.exact[x.0]);
                self.add(Op::Gather { axis }, &[x, i], b, e)
            }
            16 => self.matmul(x),
            17 => self.conv(x),
            18 => {
                let axis = self.rng.random_range(0..xd.len());
                let iota = if self.rng.random_bool(0.5) {
                    let op = Op::Iota {
                        shape: xd.clone().into(),
                        axis,
                        dtype: DType::F32,
                    };
                    self.add(op, &[], 4.0, true)
                } else {
                    let op = Op::Iota {
                        shape: xd.clone().into(),
                        axis,
                        dtype: DType::I32,
                    };
                    let i = self.add(op, &[], 4.0, true);
                    self.add(Op::Cast { to: DType::F32 }, &[i], 4.0, true)
                };
                let q = self.splat(xd.clone(), 0.25);
                let s = self.binary(BinaryOp::Mul, iota, q);
                self.binary(BinaryOp::Add, x, s)
            }
            19 => {
                let op = Op::RandomNormal {
                    shape: xd.clone().into(),
                    dtype: DType::F32,
                    seed: self.rng.random(),
                    offset: self.rng.random_range(0..1000),
                };
                let n = self.add(op, &[], 6.0, false);
                let t = self.unary(UnaryOp::Tanh, n);
                self.binary(BinaryOp::Add, x, t)
            }
            20 => {
                let inf = *xd.last().expect("pool values have rank ≥ 1");
                let out = self.rng.random_range(1..=5);
                let w = self.weight(vec![out, inf]);
                let has_bias = self.rng.random_bool(0.5);
                let mut ops = vec![x, w];
                if has_bias {
                    let b = self.weight(vec![out]);
                    ops.push(b);
                }
                let bound = self.bound[x.0] * inf as f64 + 1.0;
                self.add(Op::Linear { has_bias }, &ops, bound, false)
            }
            21 => {
                let axis = self.rng.random_range(0..xd.len());
                self.add(Op::Softmax { axis }, &[x], 1.0, false)
            }
            22 => self.norm(x),
            23 => {
                let op = match self.rng.random_range(0..3) {
                    0 => Op::Gelu { tanh: true },
                    1 => Op::Gelu { tanh: false },
                    _ => Op::Silu,
                };
                let b = self.bound[x.0];
                self.add(op, &[x], b, false)
            }
            24 => self.attention(x),
            25 => self.rope(x),
            26 => {
                let n = self.rng.random_range(1..=2);
                let c = self.rng.random_range(1..=2);
                let mut d = vec![n, c];
                let rank = self.rng.random_range(1..=2);
                for _ in 0..rank {
                    d.push(self.rng.random_range(1..=3));
                }
                let v = self.fit(x, &d);
                let scale = (0..rank).map(|_| self.rng.random_range(1..=2)).collect();
                let (b, e) = (self.bound[v.0], self.exact[v.0]);
                self.add(Op::UpsampleNearest { scale }, &[v], b, e)
            }
            27 => {
                // CSE: the same op on the same operands again.
                let candidates: Vec<NodeId> = self
                    .pool
                    .iter()
                    .copied()
                    .filter(|p| !self.g.node(*p).op.is_source())
                    .collect();
                if candidates.is_empty() {
                    return;
                }
                let p = candidates[self.rng.random_range(0..candidates.len())];
                let node = self.g.node(p).clone();
                let (b, e) = (self.bound[p.0], self.exact[p.0]);
                self.add(node.op, &node.inputs, b, e)
            }
            28 => {
                // DCE: nodes that never reach an output.
                let a = self.unary(UnaryOp::Sin, x);
                let b = self.operand(&xd);
                self.binary(BinaryOp::Mul, a, b);
                return;
            }
            // The rest, and `10` with rank < 2.
            _ => {
                if self.rng.random_bool(0.3) {
                    self.constant_subgraph(&xd, x)
                } else {
                    self.identity(x)
                }
            }
        };
        self.keep(y);
    }

    /// Round-trips through bf16 and i32 (only on exactly computed values).
    fn casts(&mut self) -> NodeId {
        let x = self.pick_exact();
        let b = self.bound[x.0];
        if self.rng.random_bool(0.5) {
            let h = self.add(Op::Cast { to: DType::BF16 }, &[x], b, true);
            self.add(Op::Cast { to: DType::F32 }, &[h], b, true)
        } else {
            let four = self.splat(self.dims(x), 4.0);
            let s = self.binary(BinaryOp::Mul, x, four);
            self.exact[s.0] = self.exact[x.0];
            let i = self.add(Op::Cast { to: DType::I32 }, &[s], 4.0 * b, true);
            let f = self.add(Op::Cast { to: DType::F32 }, &[i], 4.0 * b, true);
            let q = self.splat(self.dims(x), 0.25);
            let y = self.binary(BinaryOp::Mul, f, q);
            self.exact[y.0] = true;
            y
        }
    }

    fn reduce(&mut self, x: NodeId) -> NodeId {
        let xd = self.dims(x);
        let mut axes: Vec<usize> = (0..xd.len())
            .filter(|_| self.rng.random_bool(0.5))
            .collect();
        if axes.is_empty() {
            axes.push(self.rng.random_range(0..xd.len()));
        }
        let keep_dims = axes.len() == xd.len() || self.rng.random_bool(0.5);
        let sum = self.rng.random_bool(0.5);
        let count: usize = axes.iter().map(|&a| xd[a]).product();
        let b = self.bound[x.0];
        let (op, bound, exact) = if sum {
            (ReduceOp::Sum, b * count as f64, false)
        } else {
            (ReduceOp::Max, b, self.exact[x.0])
        };
        self.add(
            Op::Reduce {
                op,
                axes,
                keep_dims,
            },
            &[x],
            bound,
            exact,
        )
    }

    fn broadcast(&mut self, x: NodeId) -> NodeId {
        let mut d = self.dims(x);
        let src = if d.contains(&1) {
            x
        } else {
            let at = self.rng.random_range(0..=d.len().min(3));
            d.insert(at, 1);
            if d.len() > 4 {
                d.remove(if at == 0 { 1 } else { 0 });
                d[0] = 1;
            }
            let n: usize = d.iter().product();
            if n == self.g.ty(x).shape.numel() {
                self.reshape(x, d.clone())
            } else {
                self.fit(x, &d)
            }
        };
        let target: Vec<usize> = d
            .iter()
            .map(|&e| {
                if e == 1 {
                    self.rng.random_range(1..=4)
                } else {
                    e
                }
            })
            .collect();
        let (b, e) = (self.bound[src.0], self.exact[src.0]);
        self.add(
            Op::Broadcast {
                shape: target.into(),
            },
            &[src],
            b,
            e,
        )
    }

    fn matmul(&mut self, x: NodeId) -> NodeId {
        let mut d = self.dims(x);
        let x = if d.len() < 2 {
            d = vec![self.rng.random_range(1..=3), d[0]];
            self.fit(x, &d)
        } else {
            x
        };
        let r = d.len();
        let (k, n) = (d[r - 1], self.rng.random_range(1..=5));
        let rhs_dims = if self.rng.random_bool(0.5) {
            vec![k, n]
        } else {
            let mut v = d[..r - 2].to_vec();
            v.extend([k, n]);
            v
        };
        let w = if rhs_dims.len() == 2 && self.rng.random_bool(0.5) {
            self.weight(rhs_dims)
        } else {
            self.operand(&rhs_dims)
        };
        let bound = self.bound[x.0] * self.bound[w.0] * k as f64;
        self.add(Op::MatMul, &[x, w], bound, false)
    }

    fn conv(&mut self, x: NodeId) -> NodeId {
        let sd = self.rng.random_range(1..=2);
        let c = [1, 2, 4][self.rng.random_range(0..3)];
        let groups = [1, c, if c % 2 == 0 { 2 } else { 1 }][self.rng.random_range(0..3)];
        let o = groups * self.rng.random_range(1..=2);
        let mut xd = vec![self.rng.random_range(1..=2), c];
        let mut wd = vec![o, c / groups];
        let (mut stride, mut padding, mut dilation) = (vec![], vec![], vec![]);
        for _ in 0..sd {
            let s = self.rng.random_range(3..=6);
            let k = self.rng.random_range(1..=3);
            let pad = (self.rng.random_range(0..=1), self.rng.random_range(0..=1));
            let mut dil = self.rng.random_range(1..=2);
            if s + pad.0 + pad.1 < dil * (k - 1) + 1 {
                dil = 1;
            }
            xd.push(s);
            wd.push(k);
            stride.push(self.rng.random_range(1..=2));
            padding.push(pad);
            dilation.push(dil);
        }
        let v = self.fit(x, &xd);
        let w = self.weight(wd.clone());
        let fan_in: usize = wd[1..].iter().product();
        let bound = self.bound[v.0] * self.bound[w.0] * fan_in as f64;
        let op = Op::Conv {
            stride,
            padding,
            dilation,
            groups,
        };
        self.add(op, &[v, w], bound, false)
    }

    fn norm(&mut self, x: NodeId) -> NodeId {
        let eps = F64([0.1, 0.25, 0.5][self.rng.random_range(0..3)]);
        let affine = self.rng.random_bool(0.5);
        match self.rng.random_range(0..3) {
            0 | 1 => {
                let xd = self.dims(x);
                let c = *xd.last().expect("rank ≥ 1");
                let layer = self.rng.random_bool(0.5);
                let mut ops = vec![x];
                if affine {
                    let w = self.weight(vec![c]);
                    ops.push(w);
                    if layer {
                        let b = self.weight(vec![c]);
                        ops.push(b);
                    }
                }
                let bound = (c as f64).sqrt() + 1.0;
                let op = if layer {
                    Op::LayerNorm { eps, affine }
                } else {
                    Op::RmsNorm { eps, affine }
                };
                self.add(op, &ops, bound, false)
            }
            _ => {
                let groups = self.rng.random_range(1..=2);
                let c = groups * self.rng.random_range(1..=2);
                let mut d = vec![self.rng.random_range(1..=2), c];
                for _ in 0..self.rng.random_range(0..=2) {
                    d.push(self.rng.random_range(1..=4));
                }
                let v = self.fit(x, &d);
                let mut ops = vec![v];
                if affine {
                    let w = self.weight(vec![c]);
                    let b = self.weight(vec![c]);
                    ops.extend([w, b]);
                }
                let per_group: usize = d[2..].iter().product::<usize>() * (c / groups);
                let bound = (per_group as f64).sqrt() + 1.0;
                self.add(
                    Op::GroupNorm {
                        groups,
                        eps,
                        affine,
                    },
                    &ops,
                    bound,
                    false,
                )
            }
        }
    }

    fn attention(&mut self, x: NodeId) -> NodeId {
        let mut r = |lo, hi| self.rng.random_range(lo..=hi);
        let (b, h, sq, sk, d, dv) = (r(1, 2), r(1, 2), r(1, 4), r(1, 4), r(1, 4), r(1, 4));
        let q = self.fit(x, &[b, h, sq, d]);
        let k = self.operand(&[b, h, sk, d]);
        let v = self.operand(&[b, h, sk, dv]);
        let causal = self.rng.random_bool(0.5);
        let has_mask = self.rng.random_bool(0.5);
        let mut ops = vec![q, k, v];
        if has_mask {
            let mask: Vec<bool> = (0..b * sk)
                .map(|i| i % sk == 0 || self.rng.random_bool(0.6))
                .collect();
            let value = HostTensor::new(vec![b, sk], TensorData::Bool(mask)).expect("matches");
            let m = self.add(Op::Constant { value }, &[], 1.0, true);
            ops.push(m);
        }
        let scale = F64(1.0 / (d as f64).sqrt());
        let bound = self.bound[v.0];
        self.add(
            Op::Attention {
                scale,
                causal,
                has_mask,
            },
            &ops,
            bound,
            false,
        )
    }

    fn rope(&mut self, x: NodeId) -> NodeId {
        let s = self.rng.random_range(1..=4);
        let d = 2 * self.rng.random_range(1..=3);
        let lead = self.rng.random_range(1..=2);
        let v = self.fit(x, &[lead, s, d]);
        let (cos, sin) = if self.rng.random_bool(0.5) {
            let angles: Vec<f32> = (0..s * d)
                .map(|_| self.rng.random_range(-3.0..=3.0))
                .collect();
            let c = self.constant_with(vec![s, d], angles.iter().map(|a| a.cos()).collect());
            let sn = self.constant_with(vec![s, d], angles.iter().map(|a| a.sin()).collect());
            (c, sn)
        } else {
            let a = self.operand(&[s, d]);
            (self.unary(UnaryOp::Cos, a), self.unary(UnaryOp::Sin, a))
        };
        let interleaved = self.rng.random_bool(0.5);
        let bound = 2.0 * self.bound[v.0];
        self.add(Op::Rope { interleaved }, &[v, cos, sin], bound, false)
    }

    /// A subgraph of constants only, combined with `x` at the end.
    fn constant_subgraph(&mut self, xd: &[usize], x: NodeId) -> NodeId {
        let a = self.constant(xd.to_vec());
        let b = self.constant(xd.to_vec());
        let s = self.binary(BinaryOp::Add, a, b);
        let t = self.unary(UnaryOp::Tanh, s);
        let c = self.splat(xd.to_vec(), 0.5);
        let u = self.binary(BinaryOp::Mul, t, c);
        self.binary(BinaryOp::Add, x, u)
    }

    /// An identity for algebraic simplification: `x*1`, `x+0`, `x-0`, `x/1`, `neg(neg x)`,
    /// or an identity reshape, permute, broadcast or cast.
    fn identity(&mut self, x: NodeId) -> NodeId {
        let xd = self.dims(x);
        let (b, e) = (self.bound[x.0], self.exact[x.0]);
        let y = match self.rng.random_range(0..9) {
            0 => {
                let one = self.splat(xd, 1.0);
                self.binary(BinaryOp::Mul, x, one)
            }
            1 => {
                let zero = self.splat(xd, 0.0);
                self.binary(BinaryOp::Add, x, zero)
            }
            2 => {
                let zero = self.splat(xd, 0.0);
                self.binary(BinaryOp::Sub, x, zero)
            }
            3 => {
                let one = self.splat(xd, 1.0);
                self.binary(BinaryOp::Div, x, one)
            }
            4 => {
                let n = self.unary(UnaryOp::Neg, x);
                self.unary(UnaryOp::Neg, n)
            }
            5 => self.reshape(x, xd),
            6 => self.permute(x, (0..xd.len()).collect()),
            7 => self.add(Op::Broadcast { shape: xd.into() }, &[x], b, e),
            _ => self.add(Op::Cast { to: DType::F32 }, &[x], b, e),
        };
        self.bound[y.0] = b;
        self.exact[y.0] = e;
        y
    }

    /// Outputs: up to four of the most recent unused values (so most of the graph is
    /// live), plus a random pool value when that gives fewer than two.
    fn finish(mut self) -> Graph {
        let uses = self.g.use_counts();
        let mut outs: Vec<NodeId> = self
            .pool
            .iter()
            .rev()
            .copied()
            .filter(|p| uses[p.0] == 0)
            .take(4)
            .collect();
        let extra = self.pool[self.rng.random_range(0..self.pool.len())];
        if outs.is_empty() || (outs.len() < 2 && !outs.contains(&extra)) {
            outs.push(extra);
        }
        self.g.set_outputs(outs);
        self.g
    }
}

// ---- every op ---------------------------------------------------------------------------

/// Odd strings for names and paths (quotes, escapes, spaces, `#`, Unicode).
const ODD: [&str; 10] = [
    "",
    "blocks.0.attn",
    "a path with spaces",
    "quote\"d",
    " leading space",
    "#hash # comment",
    "\"starts with a quote",
    "ünïcødé ✓ 漢字",
    "back\\slash\ttab",
    "line\nbreak\r",
];

/// Special f32 values: NaN payloads, signed zeros, infinities, subnormals, extremes.
const F32_SPECIAL: [u32; 12] = [
    0x7fc0_0000,
    0x7fc0_0001,
    0xffa0_0000,
    0x7f80_0001,
    0x8000_0000,
    0x0000_0000,
    0x7f80_0000,
    0xff80_0000,
    0x0000_0001,
    0x7f7f_ffff,
    0x3dcc_cccd,
    0xbf80_0000,
];

/// Special 16-bit patterns (f16 and bf16 NaNs, infinities, zeros, subnormals).
const HALF_SPECIAL: [u16; 10] = [
    0x7e00, 0x7c01, 0xfe00, 0x7f81, 0x8000, 0x0000, 0x7c00, 0x0001, 0x3c00, 0x7f80,
];

/// Builds a valid graph containing every op variant, every dtype and special values.
pub fn random_graph_all_ops(seed: u64) -> Graph {
    let mut a = AllOps {
        g: Graph::new(if seed.is_multiple_of(3) {
            format!("all ops \"{seed}\"")
        } else {
            format!("all_ops_{seed}")
        }),
        rng: StdRng::seed_from_u64(seed),
        names: 0,
    };
    a.build();
    a.g
}

struct AllOps {
    g: Graph,
    rng: StdRng,
    names: usize,
}

impl AllOps {
    fn path(&mut self) -> String {
        ODD[self.rng.random_range(0..ODD.len())].to_string()
    }

    fn name(&mut self) -> String {
        self.names += 1;
        format!("{}{}", ODD[self.rng.random_range(0..ODD.len())], self.names)
    }

    fn add(&mut self, op: Op, inputs: &[NodeId]) -> NodeId {
        let path = self.path();
        self.g
            .add(op, inputs, path)
            .unwrap_or_else(|e| panic!("random_graph_all_ops built an invalid op: {e}"))
    }

    fn source(&mut self, parameter: bool, ty: TensorType) -> NodeId {
        let name = self.name();
        let op = if parameter {
            Op::Parameter { name }
        } else {
            Op::Input { name }
        };
        let path = self.path();
        self.g.push(Node {
            op,
            inputs: vec![],
            ty,
            path,
        })
    }

    fn f64_attr(&mut self) -> F64 {
        match self.rng.random_range(0..6) {
            0 => F64(f64::from_bits(self.rng.random())),
            1 => F64(-0.0),
            2 => F64(f64::from_bits(0x7ff8_0000_0000_0001)),
            3 => F64(f64::NEG_INFINITY),
            4 => F64(1e-5),
            _ => F64(self.rng.random_range(-10.0..10.0)),
        }
    }

    fn group(&mut self) -> CommGroup {
        CommGroup {
            name: ["sp", "dp", "world", "odd \"grp\""][self.rng.random_range(0..4)].into(),
            size: self.rng.random_range(1..=2),
        }
    }

    fn constant(&mut self, dtype: DType, n: usize) -> NodeId {
        let r = &mut self.rng;
        let data = match dtype {
            DType::F32 => TensorData::F32(
                (0..n)
                    .map(|_| match r.random_range(0..3) {
                        0 => f32::from_bits(F32_SPECIAL[r.random_range(0..F32_SPECIAL.len())]),
                        1 => f32::from_bits(r.random()),
                        _ => r.random_range(-2.0..2.0),
                    })
                    .collect(),
            ),
            DType::F16 | DType::BF16 => {
                let bits: Vec<u16> = (0..n)
                    .map(|_| match r.random_range(0..2) {
                        0 => HALF_SPECIAL[r.random_range(0..HALF_SPECIAL.len())],
                        _ => r.random(),
                    })
                    .collect();
                if dtype == DType::F16 {
                    TensorData::F16(bits.into_iter().map(f16::from_bits).collect())
                } else {
                    TensorData::BF16(bits.into_iter().map(bf16::from_bits).collect())
                }
            }
            DType::I32 => TensorData::I32((0..n).map(|_| r.random()).collect()),
            DType::I64 => TensorData::I64(
                (0..n)
                    .map(|i| match i % 3 {
                        0 => i64::MIN,
                        1 => i64::MAX,
                        _ => r.random(),
                    })
                    .collect(),
            ),
            DType::Bool => TensorData::Bool((0..n).map(|_| r.random_bool(0.5)).collect()),
        };
        let value = HostTensor::new(vec![n], data).expect("element count matches");
        self.add(Op::Constant { value }, &[])
    }

    fn build(&mut self) {
        let r = &mut self.rng;
        let (b, c, s) = (
            r.random_range(1..=2),
            2 * r.random_range(1..=2),
            2 * r.random_range(1..=3),
        );
        let x = self.source(false, TensorType::new(DType::F32, [b, c, s]));
        let w = self.source(true, TensorType::new(DType::F32, [s, s]));
        let mut outs = vec![x];
        let consts: Vec<NodeId> = DType::ALL
            .into_iter()
            .map(|d| {
                let n = self.rng.random_range(1..=6);
                self.constant(d, n)
            })
            .collect();
        outs.extend(&consts);
        let bools = consts[5];
        let ints = consts[3];
        let sources = [
            Op::Iota {
                shape: Shape::new([b, c]),
                axis: self.rng.random_range(0..2),
                dtype: DType::ALL[self.rng.random_range(0..5)],
            },
            Op::RandomNormal {
                shape: Shape::new([c, s]),
                dtype: DType::ALL[self.rng.random_range(0..3)],
                seed: self.rng.random(),
                offset: self.rng.random(),
            },
        ];
        for op in sources {
            let id = self.add(op, &[]);
            outs.push(id);
        }
        use UnaryOp as U;
        for u in [
            U::Neg,
            U::Abs,
            U::Exp,
            U::Log,
            U::Sqrt,
            U::Rsqrt,
            U::Recip,
            U::Tanh,
            U::Erf,
            U::Sin,
            U::Cos,
            U::Floor,
        ] {
            outs.push(self.add(Op::Unary(u), &[x]));
        }
        outs.push(self.add(Op::Unary(U::Not), &[bools]));
        outs.push(self.add(Op::Unary(U::Neg), &[ints]));
        use BinaryOp as B;
        for op in [B::Add, B::Sub, B::Mul, B::Div, B::Max, B::Min, B::Pow] {
            outs.push(self.add(Op::Binary(op), &[x, x]));
        }
        for op in [B::And, B::Or] {
            outs.push(self.add(Op::Binary(op), &[bools, bools]));
        }
        outs.push(self.add(Op::Binary(B::Div), &[ints, ints]));
        let mut cond = x;
        for op in [
            CmpOp::Eq,
            CmpOp::Ne,
            CmpOp::Lt,
            CmpOp::Le,
            CmpOp::Gt,
            CmpOp::Ge,
        ] {
            cond = self.add(Op::Compare(op), &[x, x]);
        }
        outs.push(self.add(Op::Select, &[cond, x, x]));
        for to in DType::ALL {
            outs.push(self.add(Op::Cast { to }, &[x]));
        }
        let keep_dims = self.rng.random_bool(0.5);
        let red = self.add(
            Op::Reduce {
                op: ReduceOp::Sum,
                axes: vec![1],
                keep_dims: true,
            },
            &[x],
        );
        outs.push(self.add(
            Op::Reduce {
                op: ReduceOp::Max,
                axes: vec![0, 2],
                keep_dims,
            },
            &[x],
        ));
        outs.push(self.add(
            Op::Reshape {
                shape: Shape::new([b * c * s]),
            },
            &[x],
        ));
        outs.push(self.add(
            Op::Permute {
                perm: vec![2, 0, 1],
            },
            &[x],
        ));
        outs.push(self.add(
            Op::Broadcast {
                shape: Shape::new([b, 3, s]),
            },
            &[red],
        ));
        let step = self.rng.random_range(1..=3);
        outs.push(self.add(
            Op::Slice {
                start: vec![0, 1, 0],
                end: vec![b, c, s],
                step: vec![1, 1, step],
            },
            &[x],
        ));
        outs.push(self.add(Op::Concat { axis: 1 }, &[x, red, x]));
        for mode in [PadMode::Replicate, PadMode::Constant(self.f64_attr())] {
            outs.push(self.add(
                Op::Pad {
                    low: vec![0, 1, 2],
                    high: vec![1, 0, 0],
                    mode,
                },
                &[x],
            ));
        }
        let idx64 = HostTensor::new([2], TensorData::I64(vec![0, (s - 1) as i64])).expect("2");
        let idx32 = HostTensor::new([1, 2], TensorData::I32(vec![1, 0])).expect("2");
        let i64c = self.add(Op::Constant { value: idx64 }, &[]);
        let i32c = self.add(Op::Constant { value: idx32 }, &[]);
        outs.push(self.add(Op::Gather { axis: 2 }, &[x, i64c]));
        outs.push(self.add(Op::Gather { axis: 1 }, &[x, i32c]));
        outs.push(self.add(Op::MatMul, &[x, w]));
        let xt = self.add(
            Op::Permute {
                perm: vec![0, 2, 1],
            },
            &[x],
        );
        outs.push(self.add(Op::MatMul, &[x, xt]));
        // Convolutions with 1 to 3 spatial dims.
        for sd in 1..=3 {
            let groups = [1, 2][self.rng.random_range(0..2)];
            let mut dims = vec![b, c];
            dims.extend(std::iter::repeat_n(3, sd));
            let xin = self.source(false, TensorType::new(DType::F32, dims.clone()));
            let mut wd = vec![2 * groups, c / groups];
            wd.extend(std::iter::repeat_n(2, sd));
            let wk = self.source(true, TensorType::new(DType::F32, wd));
            let op = Op::Conv {
                stride: vec![self.rng.random_range(1..=2); sd],
                padding: vec![(self.rng.random_range(0..=1), 1); sd],
                dilation: vec![self.rng.random_range(1..=2); sd],
                groups,
            };
            outs.push(self.add(op, &[xin, wk]));
            outs.push(self.add(Op::UpsampleNearest { scale: vec![2; sd] }, &[xin]));
            let affine = self.rng.random_bool(0.5);
            let mut ops = vec![xin];
            if affine {
                let gw = self.source(true, TensorType::new(DType::F32, [c]));
                let gb = self.source(true, TensorType::new(DType::F32, [c]));
                ops.extend([gw, gb]);
            }
            let eps = self.f64_attr();
            outs.push(self.add(
                Op::GroupNorm {
                    groups,
                    eps,
                    affine,
                },
                &ops,
            ));
        }
        // Collectives.
        for op in [ReduceOp::Sum, ReduceOp::Max] {
            let group = self.group();
            outs.push(self.add(Op::AllReduce { op, group }, &[x]));
        }
        let group = self.group();
        outs.push(self.add(Op::AllGather { axis: 2, group }, &[x]));
        let group = self.group();
        outs.push(self.add(Op::ReduceScatter { axis: 1, group }, &[x]));
        let group = self.group();
        outs.push(self.add(
            Op::AllToAll {
                split_axis: 2,
                concat_axis: 0,
                group,
            },
            &[x],
        ));
        let group = self.group();
        let root = self.rng.random_range(0..group.size);
        outs.push(self.add(Op::BroadcastFrom { root, group }, &[x]));
        // Composites.
        let bias = self.source(true, TensorType::new(DType::F32, [s]));
        outs.push(self.add(Op::Linear { has_bias: false }, &[x, w]));
        outs.push(self.add(Op::Linear { has_bias: true }, &[x, w, bias]));
        let axis = self.rng.random_range(0..3);
        outs.push(self.add(Op::Softmax { axis }, &[x]));
        for affine in [false, true] {
            let mut ops = vec![x];
            if affine {
                ops.extend([bias, bias]);
            }
            let eps = self.f64_attr();
            outs.push(self.add(Op::LayerNorm { eps, affine }, &ops));
            let eps = self.f64_attr();
            outs.push(self.add(Op::RmsNorm { eps, affine }, &ops[..ops.len().min(2)]));
        }
        outs.push(self.add(Op::Gelu { tanh: true }, &[x]));
        outs.push(self.add(Op::Gelu { tanh: false }, &[x]));
        outs.push(self.add(Op::Silu, &[x]));
        let q = self.add(
            Op::Reshape {
                shape: Shape::new([b, 1, c, s]),
            },
            &[x],
        );
        let k = self.source(false, TensorType::new(DType::F32, [b, 1, 3, s]));
        let v = self.source(false, TensorType::new(DType::F32, [b, 1, 3, 2]));
        let mask = self.source(false, TensorType::new(DType::Bool, [b, 3]));
        for has_mask in [false, true] {
            let scale = self.f64_attr();
            let causal = self.rng.random_bool(0.5);
            let ops = if has_mask {
                vec![q, k, v, mask]
            } else {
                vec![q, k, v]
            };
            outs.push(self.add(
                Op::Attention {
                    scale,
                    causal,
                    has_mask,
                },
                &ops,
            ));
        }
        let cs = self.source(false, TensorType::new(DType::F32, [c, s]));
        for interleaved in [false, true] {
            outs.push(self.add(Op::Rope { interleaved }, &[x, cs, cs]));
        }
        // A random subset of the values, in random order, with a duplicate.
        let mut chosen: Vec<NodeId> = outs
            .into_iter()
            .filter(|_| self.rng.random_bool(0.5))
            .collect();
        chosen.push(NodeId(self.rng.random_range(0..self.g.len())));
        let dup = chosen[0];
        chosen.push(dup);
        self.g.set_outputs(chosen);
    }
}
