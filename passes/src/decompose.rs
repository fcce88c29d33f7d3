//! Decomposition of composite ops into primitives, exactly following the semantics in
//! `hyv_ir`'s op documentation.
//!
//! Floating-point composites whose reference computes in f32 or wider (softmax, the norms,
//! GELU, SiLU, attention, rotary embedding) are decomposed in f32: f16/bf16 operands are cast
//! to f32, the primitives run in f32 and the result is cast back once. `linear` runs in the
//! storage dtype (a matmul plus a bias add) and `upsample_nearest` only moves data.

use crate::{Pass, PassReport, Rewriter};
use hyv_ir::{
    BinaryOp, CmpOp, DType, Graph, HostTensor, IrError, NodeId, Op, ReduceOp, Shape, TensorType,
    UnaryOp,
};

/// Replaces every composite node that `claims` returns false for by primitives. New nodes
/// carry the module path of the composite they replace.
pub struct Decompose<F: Fn(&Op) -> bool> {
    claims: F,
}

impl<F: Fn(&Op) -> bool> Decompose<F> {
    /// A decomposition pass keeping the composites for which `claims` is true (the ones the
    /// backend runs natively).
    pub fn new(claims: F) -> Self {
        Decompose { claims }
    }
}

impl<F: Fn(&Op) -> bool> Pass for Decompose<F> {
    fn name(&self) -> &'static str {
        "decompose"
    }

    fn run(&self, graph: Graph) -> Result<(Graph, PassReport), IrError> {
        let mut rw = Rewriter::new(&graph);
        let mut count = 0;
        for id in graph.ids() {
            let node = graph.node(id);
            if !node.op.is_composite() || (self.claims)(&node.op) {
                rw.copy(id)?;
                continue;
            }
            let inputs = rw.operands(id)?;
            let mut b = Builder {
                rw: &mut rw,
                path: &node.path,
            };
            let out = b.lower(&node.op, &inputs)?;
            if rw.graph().ty(out) != &node.ty {
                return Err(IrError::Op {
                    op: node.op.name().into(),
                    path: node.path.clone(),
                    message: format!(
                        "decomposition produced {} instead of {}",
                        rw.graph().ty(out),
                        node.ty
                    ),
                });
            }
            rw.replace(id, out);
            count += 1;
        }
        let out = rw.finish()?;
        let report = PassReport::new(
            self.name(),
            count > 0,
            graph.len(),
            out.len(),
            format!("decomposed {count} composite nodes"),
        );
        Ok((out, report))
    }
}

type R = Result<NodeId, IrError>;

/// Emits primitives into the rewriter, all with one module path.
struct Builder<'a, 'g> {
    rw: &'a mut Rewriter<'g>,
    path: &'a str,
}

impl Builder<'_, '_> {
    fn op(&mut self, op: Op, inputs: &[NodeId]) -> R {
        self.rw.add(op, inputs, self.path)
    }

    fn ty(&self, x: NodeId) -> &TensorType {
        self.rw.graph().ty(x)
    }

    fn dims(&self, x: NodeId) -> Vec<usize> {
        self.ty(x).shape.dims().to_vec()
    }

    fn unary(&mut self, u: UnaryOp, x: NodeId) -> R {
        self.op(Op::Unary(u), &[x])
    }

    fn binary(&mut self, b: BinaryOp, x: NodeId, y: NodeId) -> R {
        self.op(Op::Binary(b), &[x, y])
    }

    fn cast(&mut self, x: NodeId, to: DType) -> R {
        if self.ty(x).dtype == to {
            return Ok(x);
        }
        self.op(Op::Cast { to }, &[x])
    }

    /// `x` in f32 (cast up from f16/bf16).
    fn up(&mut self, x: NodeId) -> R {
        self.cast(x, DType::F32)
    }

    fn reshape(&mut self, x: NodeId, dims: Vec<usize>) -> R {
        if self.dims(x) == dims {
            return Ok(x);
        }
        self.op(Op::Reshape { shape: dims.into() }, &[x])
    }

    fn broadcast(&mut self, x: NodeId, dims: &[usize]) -> R {
        if self.dims(x) == dims {
            return Ok(x);
        }
        self.op(
            Op::Broadcast {
                shape: Shape::from(dims),
            },
            &[x],
        )
    }

    /// `x` reshaped to `rank` dims with its extents placed at `at` (others 1), then
    /// broadcast to `dims`.
    fn expand(&mut self, x: NodeId, dims: &[usize], at: usize) -> R {
        let own = self.dims(x);
        let mut shape = vec![1; dims.len()];
        shape[at..at + own.len()].copy_from_slice(&own);
        let r = self.reshape(x, shape)?;
        self.broadcast(r, dims)
    }

    /// A tensor of `dtype` and `dims` with every element `value` (a scalar constant,
    /// reshaped and broadcast).
    fn splat(&mut self, value: f64, dtype: DType, dims: &[usize]) -> R {
        let scalar = HostTensor::full(&TensorType::new(dtype, Shape::scalar()), value);
        let c = self.op(Op::Constant { value: scalar }, &[])?;
        self.expand(c, dims, 0)
    }

    /// `x <op> value` with the constant splat to `x`'s type.
    fn with_scalar(&mut self, b: BinaryOp, x: NodeId, value: f64) -> R {
        let ty = self.ty(x).clone();
        let c = self.splat(value, ty.dtype, ty.shape.dims())?;
        self.binary(b, x, c)
    }

    /// Reduction over `axis` keeping it as extent 1, broadcast back to `x`'s shape.
    fn reduce_bcast(&mut self, op: ReduceOp, x: NodeId, axis: usize) -> R {
        let dims = self.dims(x);
        let r = self.op(
            Op::Reduce {
                op,
                axes: vec![axis],
                keep_dims: true,
            },
            &[x],
        )?;
        self.broadcast(r, &dims)
    }

    /// Mean over `axis`, broadcast back to `x`'s shape.
    fn mean_bcast(&mut self, x: NodeId, axis: usize) -> R {
        let n = self.dims(x)[axis];
        let s = self.reduce_bcast(ReduceOp::Sum, x, axis)?;
        self.with_scalar(BinaryOp::Div, s, n as f64)
    }

    fn slice_last(&mut self, x: NodeId, start: usize, end: usize) -> R {
        let dims = self.dims(x);
        let r = dims.len();
        let mut s = vec![0; r];
        let mut e = dims.clone();
        s[r - 1] = start;
        e[r - 1] = end;
        self.op(
            Op::Slice {
                start: s,
                end: e,
                step: vec![1; r],
            },
            &[x],
        )
    }

    fn lower(&mut self, op: &Op, inputs: &[NodeId]) -> R {
        match (op, inputs) {
            (Op::Linear { .. }, &[x, w, ref bias @ ..]) => self.linear(x, w, bias.first().copied()),
            (Op::Softmax { axis }, &[x]) => self.softmax(x, *axis),
            (Op::LayerNorm { eps, .. }, &[x, ref affine @ ..]) => self.layer_norm(x, eps.0, affine),
            (Op::RmsNorm { eps, .. }, &[x, ref affine @ ..]) => self.rms_norm(x, eps.0, affine),
            (Op::GroupNorm { groups, eps, .. }, &[x, ref affine @ ..]) => {
                self.group_norm(x, *groups, eps.0, affine)
            }
            (Op::Gelu { tanh }, &[x]) => self.gelu(x, *tanh),
            (Op::Silu, &[x]) => self.silu(x),
            (
                Op::Attention {
                    scale,
                    causal,
                    has_mask,
                },
                &[q, k, v, ref mask @ ..],
            ) if mask.len() == *has_mask as usize => {
                self.attention(q, k, v, mask.first().copied(), scale.0, *causal)
            }
            (Op::Rope { interleaved }, &[x, cos, sin]) => self.rope(x, cos, sin, *interleaved),
            (Op::UpsampleNearest { scale }, &[x]) => self.upsample(x, scale),
            _ => Err(IrError::Op {
                op: op.name().into(),
                path: self.path.into(),
                message: format!("cannot decompose with {} operands", inputs.len()),
            }),
        }
    }

    /// `x @ wᵀ (+ b)`: a matmul with the rank-2 transposed weight on `x` flattened to rows.
    fn linear(&mut self, x: NodeId, w: NodeId, bias: Option<NodeId>) -> R {
        let xd = self.dims(x);
        let (out_f, in_f) = (self.dims(w)[0], self.dims(w)[1]);
        let wt = self.op(Op::Permute { perm: vec![1, 0] }, &[w])?;
        let rows = xd.iter().product::<usize>() / in_f;
        let x2 = self.reshape(x, vec![rows, in_f])?;
        let y2 = self.op(Op::MatMul, &[x2, wt])?;
        let mut yd = xd;
        if let Some(last) = yd.last_mut() {
            *last = out_f;
        }
        let y = self.reshape(y2, yd.clone())?;
        match bias {
            Some(b) => {
                let bb = self.expand(b, &yd, yd.len() - 1)?;
                self.binary(BinaryOp::Add, y, bb)
            }
            None => Ok(y),
        }
    }

    /// `exp(x - max) / sum(exp(x - max))` along `axis`, in f32.
    fn softmax(&mut self, x: NodeId, axis: usize) -> R {
        let dtype = self.ty(x).dtype;
        let xf = self.up(x)?;
        let m = self.reduce_bcast(ReduceOp::Max, xf, axis)?;
        let d = self.binary(BinaryOp::Sub, xf, m)?;
        let e = self.unary(UnaryOp::Exp, d)?;
        let s = self.reduce_bcast(ReduceOp::Sum, e, axis)?;
        let y = self.binary(BinaryOp::Div, e, s)?;
        self.cast(y, dtype)
    }

    /// Scales by `w` and shifts by `b` along axis `at` (the channel axis) of `y`, when given.
    fn affine(&mut self, y: NodeId, params: &[NodeId], at: usize) -> R {
        let dims = self.dims(y);
        let mut y = y;
        for (&p, op) in params.iter().zip([BinaryOp::Mul, BinaryOp::Add]) {
            let pf = self.up(p)?;
            let pb = self.expand(pf, &dims, at)?;
            y = self.binary(op, y, pb)?;
        }
        Ok(y)
    }

    /// `(x - mean) * rsqrt(biased var + eps)` over the last axis of the f32 value `xf`.
    fn normalise_last(&mut self, xf: NodeId, eps: f64) -> R {
        let last = self.dims(xf).len() - 1;
        let mean = self.mean_bcast(xf, last)?;
        let xc = self.binary(BinaryOp::Sub, xf, mean)?;
        let sq = self.binary(BinaryOp::Mul, xc, xc)?;
        let var = self.mean_bcast(sq, last)?;
        let ve = self.with_scalar(BinaryOp::Add, var, eps)?;
        let inv = self.unary(UnaryOp::Rsqrt, ve)?;
        self.binary(BinaryOp::Mul, xc, inv)
    }

    /// Layer norm over the last axis (biased variance), in f32.
    fn layer_norm(&mut self, x: NodeId, eps: f64, affine: &[NodeId]) -> R {
        let dtype = self.ty(x).dtype;
        let xf = self.up(x)?;
        let n = self.normalise_last(xf, eps)?;
        let last = self.dims(x).len() - 1;
        let y = self.affine(n, affine, last)?;
        self.cast(y, dtype)
    }

    /// `x * rsqrt(mean(x²) + eps) (* w)` over the last axis, in f32.
    fn rms_norm(&mut self, x: NodeId, eps: f64, affine: &[NodeId]) -> R {
        let dtype = self.ty(x).dtype;
        let last = self.dims(x).len() - 1;
        let xf = self.up(x)?;
        let sq = self.binary(BinaryOp::Mul, xf, xf)?;
        let ms = self.mean_bcast(sq, last)?;
        let me = self.with_scalar(BinaryOp::Add, ms, eps)?;
        let inv = self.unary(UnaryOp::Rsqrt, me)?;
        let n = self.binary(BinaryOp::Mul, xf, inv)?;
        let y = self.affine(n, affine, last)?;
        self.cast(y, dtype)
    }

    /// Group norm: statistics over `[N, G, C/G · spatial]` in f32, then the per-channel
    /// affine on the original layout.
    fn group_norm(&mut self, x: NodeId, groups: usize, eps: f64, affine: &[NodeId]) -> R {
        let dtype = self.ty(x).dtype;
        let dims = self.dims(x);
        let group_len = dims[1..].iter().product::<usize>() / groups;
        let xf = self.up(x)?;
        let xg = self.reshape(xf, vec![dims[0], groups, group_len])?;
        let n = self.normalise_last(xg, eps)?;
        let n = self.reshape(n, dims)?;
        let y = self.affine(n, affine, 1)?;
        self.cast(y, dtype)
    }

    /// GELU in f32. The tanh form `0.5·x·(1 + tanh(u))`, `u = √(2/π)·(x + 0.044715·x³)`, is
    /// emitted as the identical `x / (1 + exp(-2u))`, which avoids the cancellation in
    /// `1 + tanh(u)` for negative `x`. The exact form `0.5·x·(1 + erf(x/√2))` is used for
    /// `x ≥ 0`; for `x < 0` it equals `0.5·x·erfc(-x/√2)`, where `1 + erf` would cancel, so
    /// `erfc` is evaluated with the Chebyshev fit of Numerical Recipes (`erfcc`, relative
    /// error below 1.2e-7 everywhere).
    fn gelu(&mut self, x: NodeId, tanh: bool) -> R {
        let dtype = self.ty(x).dtype;
        let xf = self.up(x)?;
        let y = if tanh {
            let x2 = self.binary(BinaryOp::Mul, xf, xf)?;
            let x3 = self.binary(BinaryOp::Mul, x2, xf)?;
            let c3 = self.with_scalar(BinaryOp::Mul, x3, 0.044715)?;
            let inner = self.binary(BinaryOp::Add, xf, c3)?;
            let minus_2u = self.with_scalar(
                BinaryOp::Mul,
                inner,
                -2.0 * (2.0 / std::f64::consts::PI).sqrt(),
            )?;
            let e = self.unary(UnaryOp::Exp, minus_2u)?;
            let d = self.with_scalar(BinaryOp::Add, e, 1.0)?;
            self.binary(BinaryOp::Div, xf, d)?
        } else {
            let half_x = self.with_scalar(BinaryOp::Mul, xf, 0.5)?;
            let z = self.with_scalar(BinaryOp::Div, xf, std::f64::consts::SQRT_2)?;
            let erf = self.unary(UnaryOp::Erf, z)?;
            let one_plus = self.with_scalar(BinaryOp::Add, erf, 1.0)?;
            let positive = self.binary(BinaryOp::Mul, half_x, one_plus)?;
            let za = self.unary(UnaryOp::Abs, z)?;
            let erfc = self.erfc(za)?;
            let negative = self.binary(BinaryOp::Mul, half_x, erfc)?;
            let ty = self.ty(xf).clone();
            let zero = self.splat(0.0, ty.dtype, ty.shape.dims())?;
            let is_neg = self.op(Op::Compare(CmpOp::Lt), &[xf, zero])?;
            self.op(Op::Select, &[is_neg, negative, positive])?
        };
        self.cast(y, dtype)
    }

    /// `erfc(z)` for `z ≥ 0` (Numerical Recipes' `erfcc`):
    /// `t·exp(-z² + P(t))`, `t = 1/(1 + z/2)`, `P` a degree-9 polynomial.
    fn erfc(&mut self, z: NodeId) -> R {
        const P: [f64; 10] = [
            -1.265_512_23,
            1.000_023_68,
            0.374_091_96,
            0.096_784_18,
            -0.186_288_06,
            0.278_868_07,
            -1.135_203_98,
            1.488_515_87,
            -0.822_152_23,
            0.170_872_77,
        ];
        let half_z = self.with_scalar(BinaryOp::Mul, z, 0.5)?;
        let d = self.with_scalar(BinaryOp::Add, half_z, 1.0)?;
        let t = self.unary(UnaryOp::Recip, d)?;
        let mut p = self.with_scalar(BinaryOp::Mul, t, P[9])?;
        for (i, &c) in P[..9].iter().enumerate().rev() {
            p = self.with_scalar(BinaryOp::Add, p, c)?;
            if i > 0 {
                p = self.binary(BinaryOp::Mul, p, t)?;
            }
        }
        let z2 = self.binary(BinaryOp::Mul, z, z)?;
        let arg = self.binary(BinaryOp::Sub, p, z2)?;
        let e = self.unary(UnaryOp::Exp, arg)?;
        self.binary(BinaryOp::Mul, t, e)
    }

    /// `x / (1 + exp(-x))`, in f32.
    fn silu(&mut self, x: NodeId) -> R {
        let dtype = self.ty(x).dtype;
        let xf = self.up(x)?;
        let n = self.unary(UnaryOp::Neg, xf)?;
        let e = self.unary(UnaryOp::Exp, n)?;
        let d = self.with_scalar(BinaryOp::Add, e, 1.0)?;
        let y = self.binary(BinaryOp::Div, xf, d)?;
        self.cast(y, dtype)
    }

    /// `softmax(scale·q·kᵀ over visible keys)·v` in f32. Hidden keys get score -inf; a row
    /// with no visible key has max -inf, which is replaced by 0 so the exponentials are 0,
    /// and its zero denominator by 1, so the row yields zeros (never NaN).
    fn attention(
        &mut self,
        q: NodeId,
        k: NodeId,
        v: NodeId,
        mask: Option<NodeId>,
        scale: f64,
        causal: bool,
    ) -> R {
        let dtype = self.ty(q).dtype;
        let (qd, kd, vd) = (self.dims(q), self.dims(k), self.dims(v));
        let (b, h, sq, sk, dv) = (qd[0], qd[1], qd[2], kd[2], vd[3]);
        let scores_dims = [b, h, sq, sk];
        let (qf, kf, vf) = (self.up(q)?, self.up(k)?, self.up(v)?);
        let kt = self.op(
            Op::Permute {
                perm: vec![0, 1, 3, 2],
            },
            &[kf],
        )?;
        let raw = self.op(Op::MatMul, &[qf, kt])?;
        let mut scores = self.with_scalar(BinaryOp::Mul, raw, scale)?;

        let mut visible = match mask {
            Some(m) => {
                let m4 = self.reshape(m, vec![b, 1, 1, sk])?;
                Some(self.broadcast(m4, &scores_dims)?)
            }
            None => None,
        };
        if causal {
            let iota = |axis| Op::Iota {
                shape: Shape::new([sq, sk]),
                axis,
                dtype: DType::I32,
            };
            let row = self.op(iota(0), &[])?;
            let col = self.op(iota(1), &[])?;
            let le = self.op(Op::Compare(CmpOp::Le), &[col, row])?;
            let c = self.expand(le, &scores_dims, 2)?;
            visible = Some(match visible {
                Some(m) => self.binary(BinaryOp::And, m, c)?,
                None => c,
            });
        }
        let masked = visible.is_some();
        if let Some(vis) = visible {
            let neg_inf = self.splat(f64::NEG_INFINITY, DType::F32, &scores_dims)?;
            scores = self.op(Op::Select, &[vis, scores, neg_inf])?;
        }

        let mut max = self.op(
            Op::Reduce {
                op: ReduceOp::Max,
                axes: vec![3],
                keep_dims: true,
            },
            &[scores],
        )?;
        let row_dims = [b, h, sq, 1];
        if masked {
            let neg_inf = self.splat(f64::NEG_INFINITY, DType::F32, &row_dims)?;
            let empty = self.op(Op::Compare(CmpOp::Eq), &[max, neg_inf])?;
            let zero = self.splat(0.0, DType::F32, &row_dims)?;
            max = self.op(Op::Select, &[empty, zero, max])?;
        }
        let max_b = self.broadcast(max, &scores_dims)?;
        let shifted = self.binary(BinaryOp::Sub, scores, max_b)?;
        let weights = self.unary(UnaryOp::Exp, shifted)?;
        let mut sum = self.op(
            Op::Reduce {
                op: ReduceOp::Sum,
                axes: vec![3],
                keep_dims: true,
            },
            &[weights],
        )?;
        if masked {
            let zero = self.splat(0.0, DType::F32, &row_dims)?;
            let empty = self.op(Op::Compare(CmpOp::Eq), &[sum, zero])?;
            let one = self.splat(1.0, DType::F32, &row_dims)?;
            sum = self.op(Op::Select, &[empty, one, sum])?;
        }
        let acc = self.op(Op::MatMul, &[weights, vf])?;
        let sum_b = self.broadcast(sum, &[b, h, sq, dv])?;
        let y = self.binary(BinaryOp::Div, acc, sum_b)?;
        self.cast(y, dtype)
    }

    /// `x·cos + rot(x)·sin` in f32, with `rot` built from slices, a negation and a concat.
    fn rope(&mut self, x: NodeId, cos: NodeId, sin: NodeId, interleaved: bool) -> R {
        let dtype = self.ty(x).dtype;
        let dims = self.dims(x);
        let r = dims.len();
        let d = dims[r - 1];
        let xf = self.up(x)?;
        let rot = if interleaved {
            let mut pairs = dims.clone();
            pairs[r - 1] = d / 2;
            pairs.push(2);
            let xp = self.reshape(xf, pairs)?;
            let even = self.slice_last(xp, 0, 1)?;
            let odd = self.slice_last(xp, 1, 2)?;
            let neg_odd = self.unary(UnaryOp::Neg, odd)?;
            let rp = self.op(Op::Concat { axis: r }, &[neg_odd, even])?;
            self.reshape(rp, dims.clone())?
        } else {
            let x1 = self.slice_last(xf, 0, d / 2)?;
            let x2 = self.slice_last(xf, d / 2, d)?;
            let neg_x2 = self.unary(UnaryOp::Neg, x2)?;
            self.op(Op::Concat { axis: r - 1 }, &[neg_x2, x1])?
        };
        let cf = self.up(cos)?;
        let sf = self.up(sin)?;
        let cb = self.expand(cf, &dims, r - 2)?;
        let sb = self.expand(sf, &dims, r - 2)?;
        let a = self.binary(BinaryOp::Mul, xf, cb)?;
        let c = self.binary(BinaryOp::Mul, rot, sb)?;
        let y = self.binary(BinaryOp::Add, a, c)?;
        self.cast(y, dtype)
    }

    /// Nearest upsampling as `[N, C, s1, 1, s2, 1, ...]` broadcast to
    /// `[N, C, s1, f1, s2, f2, ...]` and reshaped to `[N, C, s1·f1, s2·f2, ...]`.
    fn upsample(&mut self, x: NodeId, scale: &[usize]) -> R {
        let dims = self.dims(x);
        let mut split = dims[..2].to_vec();
        let mut wide = dims[..2].to_vec();
        let mut out = dims[..2].to_vec();
        for (&s, &f) in dims[2..].iter().zip(scale) {
            split.extend([s, 1]);
            wide.extend([s, f]);
            out.push(s * f);
        }
        let xs = self.reshape(x, split)?;
        let xw = self.broadcast(xs, &wide)?;
        self.reshape(xw, out)
    }
}
