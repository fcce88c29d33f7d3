//! Shape and dtype inference of every op: valid cases give the documented type, invalid ones
//! an error naming the offending types; `Graph::add` errors name the op and module path.

use hyv_ir::infer::infer;
use hyv_ir::{
    BinaryOp, CmpOp, CommGroup, DType, Graph, HostTensor, IrError, Node, Op, PadMode, ReduceOp,
    TensorType, UnaryOp, F64,
};
use proptest::prelude::*;
use std::slice::from_ref;

fn t(d: DType, dims: &[usize]) -> TensorType {
    TensorType::new(d, dims.to_vec())
}

fn f(dims: &[usize]) -> TensorType {
    t(DType::F32, dims)
}

fn run(op: &Op, tys: &[TensorType]) -> Result<TensorType, String> {
    infer(op, &tys.iter().collect::<Vec<_>>())
}

fn err(op: &Op, tys: &[TensorType]) -> String {
    match run(op, tys) {
        Ok(ty) => panic!("{} on {tys:?} should fail, gave {ty}", op.name()),
        Err(m) => m,
    }
}

fn dims(min: usize, max: usize) -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(1usize..6, min..=max)
}

fn float() -> impl Strategy<Value = DType> {
    prop_oneof![Just(DType::F32), Just(DType::F16), Just(DType::BF16)]
}

fn any_dtype() -> impl Strategy<Value = DType> {
    prop::sample::select(DType::ALL.to_vec())
}

fn group(size: usize) -> CommGroup {
    CommGroup {
        name: "sp".into(),
        size,
    }
}

const FLOAT_UNARY: [UnaryOp; 11] = [
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
];

proptest! {
    #[test]
    fn unary_keeps_the_type(d in float(), s in dims(0, 4), i in 0usize..11) {
        let x = t(d, &s);
        assert_eq!(run(&Op::Unary(FLOAT_UNARY[i]), from_ref(&x)).unwrap(), x.clone());
        assert_eq!(run(&Op::Unary(UnaryOp::Floor), from_ref(&x)).unwrap(), x.clone());
        let m = err(&Op::Unary(UnaryOp::Not), from_ref(&x));
        assert!(m.contains(&x.to_string()), "{}", m);
        let b = t(DType::Bool, &s);
        assert_eq!(run(&Op::Unary(UnaryOp::Not), from_ref(&b)).unwrap(), b.clone());
        assert!(err(&Op::Unary(UnaryOp::Neg), from_ref(&b)).contains("numeric"));
        let n = t(DType::I32, &s);
        assert_eq!(run(&Op::Unary(UnaryOp::Abs), from_ref(&n)).unwrap(), n.clone());
        assert!(err(&Op::Unary(UnaryOp::Exp), &[n]).contains("float"));
    }

    #[test]
    fn binary_and_compare(d in float(), s in dims(1, 4), s2 in dims(1, 4), i in 0usize..7) {
        let ops = [BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul, BinaryOp::Div, BinaryOp::Max, BinaryOp::Min, BinaryOp::Pow];
        let x = t(d, &s);
        assert_eq!(run(&Op::Binary(ops[i]), &[x.clone(), x.clone()]).unwrap(), x.clone());
        assert_eq!(run(&Op::Compare(CmpOp::Le), &[x.clone(), x.clone()]).unwrap(), t(DType::Bool, &s));
        if s != s2 {
            let y = t(d, &s2);
            let m = err(&Op::Binary(ops[i]), &[x.clone(), y.clone()]);
            assert!(m.contains(&x.to_string()) && m.contains(&y.to_string()), "{}", m);
            err(&Op::Compare(CmpOp::Eq), &[x.clone(), y]);
        }
        let other = if d == DType::F32 { DType::F16 } else { DType::F32 };
        err(&Op::Binary(ops[i]), &[x.clone(), t(other, &s)]);
        assert!(err(&Op::Binary(BinaryOp::And), &[x.clone(), x.clone()]).contains("bool"));
        let b = t(DType::Bool, &s);
        assert_eq!(run(&Op::Binary(BinaryOp::Or), &[b.clone(), b.clone()]).unwrap(), b.clone());
        assert!(err(&Op::Binary(BinaryOp::Add), &[b.clone(), b]).contains("numeric"));
        let n = t(DType::I64, &s);
        assert!(err(&Op::Binary(BinaryOp::Pow), &[n.clone(), n]).contains("float"));
    }

    #[test]
    fn select_and_cast(d in any_dtype(), to in any_dtype(), s in dims(0, 4)) {
        let c = t(DType::Bool, &s);
        let x = t(d, &s);
        assert_eq!(run(&Op::Select, &[c.clone(), x.clone(), x.clone()]).unwrap(), x.clone());
        assert_eq!(run(&Op::Cast { to }, from_ref(&x)).unwrap(), t(to, &s));
        if d != DType::Bool {
            assert!(err(&Op::Select, &[x.clone(), x.clone(), x.clone()]).contains("condition"));
        }
        let mut s2 = s.clone();
        s2.push(2);
        err(&Op::Select, &[t(DType::Bool, &s2), x.clone(), x.clone()]);
        err(&Op::Select, &[c, x.clone(), t(d, &s2)]);
    }

    #[test]
    fn reduce(s in dims(1, 4), mask in prop::collection::vec(any::<bool>(), 4), keep in any::<bool>(), sum in any::<bool>()) {
        let r = s.len();
        let mut axes: Vec<usize> = (0..r).filter(|&a| mask[a]).collect();
        if axes.is_empty() {
            axes.push(r - 1);
        }
        let op = if sum { ReduceOp::Sum } else { ReduceOp::Max };
        let want: Vec<usize> = (0..r)
            .filter_map(|a| match (axes.contains(&a), keep) {
                (false, _) => Some(s[a]),
                (true, true) => Some(1),
                (true, false) => None,
            })
            .collect();
        let x = f(&s);
        let red = |axes: Vec<usize>| Op::Reduce { op, axes, keep_dims: keep };
        assert_eq!(run(&red(axes.clone()), from_ref(&x)).unwrap(), f(&want));
        assert!(err(&red(vec![]), from_ref(&x)).contains("empty"));
        assert!(err(&red(vec![r]), from_ref(&x)).contains("out of range"));
        if r >= 2 {
            assert!(err(&red(vec![1, 0]), from_ref(&x)).contains("sorted"));
            assert!(err(&red(vec![0, 0]), from_ref(&x)).contains("sorted"));
        }
        assert!(err(&red(axes), &[t(DType::Bool, &s)]).contains("numeric"));
    }

    #[test]
    fn reshape(s in dims(0, 4), extra in 2usize..4) {
        let n: usize = s.iter().product();
        let x = f(&s);
        assert_eq!(run(&Op::Reshape { shape: vec![n].into() }, from_ref(&x)).unwrap(), f(&[n]));
        let mut rev = s.clone();
        rev.reverse();
        assert_eq!(run(&Op::Reshape { shape: rev.clone().into() }, from_ref(&x)).unwrap(), f(&rev));
        let m = err(&Op::Reshape { shape: vec![n * extra].into() }, from_ref(&x));
        assert!(m.contains(&x.to_string()) && m.contains(&format!("[{}]", n * extra)), "{}", m);
        assert!(m.contains(&format!("{n} elements")), "{}", m);
        assert!(err(&Op::Reshape { shape: vec![0, n].into() }, &[x]).contains("zero extent"));
    }

    #[test]
    fn permute(s in dims(1, 4), perm in Just((0..4usize).collect::<Vec<_>>()).prop_shuffle()) {
        let r = s.len();
        let p: Vec<usize> = perm.into_iter().filter(|&i| i < r).collect();
        let want: Vec<usize> = p.iter().map(|&i| s[i]).collect();
        let x = f(&s);
        assert_eq!(run(&Op::Permute { perm: p.clone() }, from_ref(&x)).unwrap(), f(&want));
        let m = err(&Op::Permute { perm: vec![0; r + 1] }, from_ref(&x));
        assert!(m.contains("not a permutation") && m.contains(&x.to_string()), "{}", m);
        if r >= 2 {
            err(&Op::Permute { perm: vec![0; r] }, from_ref(&x));
        }
        let mut bad = p;
        bad[0] = r;
        err(&Op::Permute { perm: bad }, &[x]);
    }

    #[test]
    fn broadcast(s in dims(1, 4), ones in prop::collection::vec(any::<bool>(), 4)) {
        let src: Vec<usize> = s.iter().zip(&ones).map(|(&d, &o)| if o { 1 } else { d }).collect();
        let x = f(&src);
        assert_eq!(run(&Op::Broadcast { shape: s.clone().into() }, from_ref(&x)).unwrap(), f(&s));
        let m = err(&Op::Broadcast { shape: vec![1; s.len() + 1].into() }, from_ref(&x));
        assert!(m.contains("cannot broadcast") && m.contains(&x.to_string()), "{}", m);
        if let Some(a) = src.iter().position(|&d| d > 1) {
            let mut bad = src.clone();
            bad[a] += 1;
            err(&Op::Broadcast { shape: bad.into() }, &[x]);
        }
    }

    #[test]
    fn slice(s in dims(1, 4), seeds in prop::collection::vec((0usize..100, 0usize..100, 1usize..4), 4)) {
        let (mut start, mut end, mut step, mut want) = (vec![], vec![], vec![], vec![]);
        for (d, &(a, b, st)) in s.iter().zip(&seeds) {
            let lo = a % d;
            let hi = lo + 1 + b % (d - lo);
            start.push(lo);
            end.push(hi);
            step.push(st);
            want.push((hi - lo).div_ceil(st));
        }
        let x = f(&s);
        let sl = |start: Vec<usize>, end: Vec<usize>, step: Vec<usize>| Op::Slice { start, end, step };
        assert_eq!(run(&sl(start.clone(), end.clone(), step.clone()), from_ref(&x)).unwrap(), f(&want));
        let mut far = end.clone();
        far[0] = s[0] + 1;
        let m = err(&sl(start.clone(), far, step.clone()), from_ref(&x));
        assert!(m.contains("out of range") && m.contains(&x.to_string()), "{}", m);
        let mut empty = end.clone();
        empty[0] = start[0];
        err(&sl(start.clone(), empty, step.clone()), from_ref(&x));
        let mut zero = step.clone();
        zero[0] = 0;
        err(&sl(start.clone(), end.clone(), zero), from_ref(&x));
        err(&sl(start[1..].to_vec(), end, step), &[x]);
    }

    #[test]
    fn concat(s in dims(1, 4), extents in prop::collection::vec(1usize..5, 1..4), axis_seed in 0usize..4) {
        let axis = axis_seed % s.len();
        let parts: Vec<TensorType> = extents
            .iter()
            .map(|&e| {
                let mut d = s.clone();
                d[axis] = e;
                f(&d)
            })
            .collect();
        let mut want = s.clone();
        want[axis] = extents.iter().sum();
        assert_eq!(run(&Op::Concat { axis }, &parts).unwrap(), f(&want));
        err(&Op::Concat { axis }, &[]);
        assert!(err(&Op::Concat { axis: s.len() }, &parts).contains("out of range"));
        let mut bad = s.clone();
        bad.push(1);
        let m = err(&Op::Concat { axis }, &[f(&s), f(&bad)]);
        assert!(m.contains(&f(&bad).to_string()), "{}", m);
        err(&Op::Concat { axis }, &[f(&s), t(DType::F16, &s)]);
        if s.len() >= 2 {
            let other = (axis + 1) % s.len();
            let mut d = s.clone();
            d[other] += 1;
            err(&Op::Concat { axis }, &[f(&s), f(&d)]);
        }
    }

    #[test]
    fn pad_and_gather(s in dims(1, 4), low in prop::collection::vec(0usize..3, 4), high in prop::collection::vec(0usize..3, 4), idx in dims(0, 2), axis_seed in 0usize..4) {
        let r = s.len();
        let x = f(&s);
        let want: Vec<usize> = (0..r).map(|d| s[d] + low[d] + high[d]).collect();
        for mode in [PadMode::Replicate, PadMode::Constant(F64(0.0))] {
            let op = Op::Pad { low: low[..r].to_vec(), high: high[..r].to_vec(), mode };
            assert_eq!(run(&op, from_ref(&x)).unwrap(), f(&want));
        }
        let mut long = high[..r].to_vec();
        long.push(0);
        err(
            &Op::Pad { low: low[..r].to_vec(), high: long, mode: PadMode::Replicate },
            from_ref(&x),
        );
        let axis = axis_seed % r;
        let mut want = s[..axis].to_vec();
        want.extend(&idx);
        want.extend(&s[axis + 1..]);
        for d in [DType::I32, DType::I64] {
            assert_eq!(run(&Op::Gather { axis }, &[x.clone(), t(d, &idx)]).unwrap(), f(&want));
        }
        let m = err(&Op::Gather { axis }, &[x.clone(), f(&idx)]);
        assert!(m.contains("i32 or i64"), "{}", m);
        err(&Op::Gather { axis: r }, &[x, t(DType::I64, &idx)]);
    }

    #[test]
    fn matmul(batch in dims(0, 2), m in 1usize..6, k in 1usize..6, n in 1usize..6, k2 in 1usize..6) {
        let mk = |a: usize, b: usize| { let mut d = batch.clone(); d.extend([a, b]); d };
        let want = f(&mk(m, n));
        assert_eq!(run(&Op::MatMul, &[f(&mk(m, k)), f(&mk(k, n))]).unwrap(), want.clone());
        assert_eq!(run(&Op::MatMul, &[f(&mk(m, k)), f(&[k, n])]).unwrap(), want);
        if k2 != k {
            let (a, b) = (f(&mk(m, k)), f(&mk(k2, n)));
            let msg = err(&Op::MatMul, &[a.clone(), b.clone()]);
            assert!(msg.contains(&a.to_string()) && msg.contains(&b.to_string()), "{}", msg);
        }
        if !batch.is_empty() {
            let mut other = batch.clone();
            other[0] += 1;
            other.extend([k, n]);
            assert!(err(&Op::MatMul, &[f(&mk(m, k)), f(&other)]).contains("batch"));
        }
        err(&Op::MatMul, &[f(&[k]), f(&[k, n])]);
        err(&Op::MatMul, &[f(&mk(m, k)), t(DType::F16, &mk(k, n))]);
        err(&Op::MatMul, &[t(DType::Bool, &mk(m, k)), t(DType::Bool, &mk(k, n))]);
    }

    #[test]
    fn conv(sd in 1usize..4, nb in 1usize..3, cg in 1usize..3, groups in 1usize..3, og in 1usize..3,
            sp in prop::collection::vec((3usize..8, 1usize..4, 1usize..3, 1usize..3, 0usize..2, 0usize..2), 3)) {
        let c = cg * groups;
        let o = og * groups;
        let mut xd = vec![nb, c];
        let mut wd = vec![o, cg];
        let (mut stride, mut padding, mut dilation, mut want) = (vec![], vec![], vec![], vec![nb, o]);
        for &(s, k, st, dil, lo, hi) in &sp[..sd] {
            xd.push(s);
            wd.push(k);
            stride.push(st);
            padding.push((lo, hi));
            dilation.push(dil);
            let padded = s + lo + hi;
            let span = dil * (k - 1) + 1;
            if padded >= span {
                want.push((padded - span) / st + 1);
            }
        }
        let op = |groups| Op::Conv { stride: stride.clone(), padding: padding.clone(), dilation: dilation.clone(), groups };
        let (x, w) = (f(&xd), f(&wd));
        if want.len() == sd + 2 {
            assert_eq!(run(&op(groups), &[x.clone(), w.clone()]).unwrap(), f(&want));
        } else {
            assert!(err(&op(groups), &[x.clone(), w.clone()]).contains("smaller than the dilated kernel"));
        }
        let mut bad_w = wd.clone();
        bad_w[1] += 1;
        let m = err(&op(groups), &[x.clone(), f(&bad_w)]);
        assert!(m.contains("channels") && m.contains(&x.to_string()) && m.contains(&f(&bad_w).to_string()), "{}", m);
        err(&op(0), &[x.clone(), w.clone()]);
        err(&op(c + 1), &[x.clone(), w.clone()]);
        err(&Op::Conv { stride: vec![0; sd], padding: padding.clone(), dilation: dilation.clone(), groups }, &[x.clone(), w.clone()]);
        err(&Op::Conv { stride: vec![1; sd + 1], padding: padding.clone(), dilation: dilation.clone(), groups }, &[x.clone(), w.clone()]);
        err(&op(groups), &[x.clone(), f(&wd[1..])]);
        err(&op(groups), &[t(DType::I32, &xd), t(DType::I32, &wd)]);
    }

    #[test]
    fn collectives(s in dims(1, 4), size in 1usize..4, axis_seed in 0usize..4, d in any_dtype()) {
        let axis = axis_seed % s.len();
        let x = t(d, &s);
        for op in [ReduceOp::Sum, ReduceOp::Max] {
            assert_eq!(run(&Op::AllReduce { op, group: group(size) }, from_ref(&x)).unwrap(), x.clone());
        }
        assert_eq!(run(&Op::BroadcastFrom { root: 0, group: group(size) }, from_ref(&x)).unwrap(), x.clone());
        let mut g = s.clone();
        g[axis] *= size;
        assert_eq!(run(&Op::AllGather { axis, group: group(size) }, from_ref(&x)).unwrap(), t(d, &g));
        assert_eq!(run(&Op::ReduceScatter { axis, group: group(size) }, &[t(d, &g)]).unwrap(), x.clone());
        let other = (axis + 1) % s.len();
        let mut a2a = g.clone();
        a2a[axis] /= size;
        a2a[other] *= size;
        assert_eq!(run(&Op::AllToAll { split_axis: axis, concat_axis: other, group: group(size) }, &[t(d, &g)]).unwrap(), t(d, &a2a));
        if s[axis] % (size + 1) != 0 {
            let m = err(&Op::ReduceScatter { axis, group: group(size + 1) }, from_ref(&x));
            assert!(m.contains("not divisible"), "{}", m);
            err(&Op::AllToAll { split_axis: axis, concat_axis: axis, group: group(size + 1) }, from_ref(&x));
        }
        err(&Op::AllGather { axis: s.len(), group: group(size) }, from_ref(&x));
        err(&Op::AllReduce { op: ReduceOp::Sum, group: group(size) }, &[x.clone(), x]);
    }

    #[test]
    fn linear(lead in dims(1, 3), inf in 1usize..6, out in 1usize..6, d in float()) {
        let mut xd = lead.clone();
        xd.push(inf);
        let mut want = lead.clone();
        want.push(out);
        let (x, w, b) = (t(d, &xd), t(d, &[out, inf]), t(d, &[out]));
        assert_eq!(run(&Op::Linear { has_bias: false }, &[x.clone(), w.clone()]).unwrap(), t(d, &want));
        assert_eq!(run(&Op::Linear { has_bias: true }, &[x.clone(), w.clone(), b.clone()]).unwrap(), t(d, &want));
        let bad_w = t(d, &[out, inf + 1]);
        let m = err(&Op::Linear { has_bias: false }, &[x.clone(), bad_w.clone()]);
        assert!(m.contains(&x.to_string()) && m.contains(&bad_w.to_string()), "{}", m);
        assert!(err(&Op::Linear { has_bias: true }, &[x.clone(), w.clone(), t(d, &[out + 1])]).contains("bias"));
        assert!(err(&Op::Linear { has_bias: true }, &[x.clone(), w.clone()]).contains("expects 3 operands"));
        err(&Op::Linear { has_bias: false }, &[t(DType::I32, &xd), t(DType::I32, &[out, inf])]);
        err(&Op::Linear { has_bias: false }, &[x, t(d, &[out, inf, 1])]);
    }

    #[test]
    fn softmax_norms_and_activations(s in dims(1, 4), d in float(), groups in 1usize..4) {
        let x = t(d, &s);
        let c = *s.last().unwrap();
        let r = s.len();
        assert_eq!(run(&Op::Softmax { axis: r - 1 }, from_ref(&x)).unwrap(), x.clone());
        err(&Op::Softmax { axis: r }, from_ref(&x));
        let eps = F64(1e-5);
        let p = t(d, &[c]);
        assert_eq!(run(&Op::LayerNorm { eps, affine: true }, &[x.clone(), p.clone(), p.clone()]).unwrap(), x.clone());
        assert_eq!(run(&Op::LayerNorm { eps, affine: false }, from_ref(&x)).unwrap(), x.clone());
        assert_eq!(run(&Op::RmsNorm { eps, affine: true }, &[x.clone(), p.clone()]).unwrap(), x.clone());
        let bad = t(d, &[c + 1]);
        let m = err(&Op::RmsNorm { eps, affine: true }, &[x.clone(), bad.clone()]);
        assert!(m.contains(&bad.to_string()) && m.contains(&x.to_string()), "{}", m);
        err(&Op::LayerNorm { eps, affine: true }, &[x.clone(), p.clone()]);
        if r >= 2 {
            let ch = s[1];
            let gp = t(d, &[ch]);
            let gn = |groups| Op::GroupNorm { groups, eps, affine: true };
            if ch % groups == 0 {
                assert_eq!(run(&gn(groups), &[x.clone(), gp.clone(), gp.clone()]).unwrap(), x.clone());
            } else {
                assert!(err(&gn(groups), &[x.clone(), gp.clone(), gp.clone()]).contains("do not divide"));
            }
            err(&gn(0), &[x.clone(), gp.clone(), gp]);
        } else {
            err(&Op::GroupNorm { groups: 1, eps, affine: false }, from_ref(&x));
        }
        for op in [Op::Gelu { tanh: true }, Op::Gelu { tanh: false }, Op::Silu] {
            assert_eq!(run(&op, from_ref(&x)).unwrap(), x.clone());
            assert!(err(&op, &[t(DType::I64, &s)]).contains("float"));
        }
        err(&Op::Softmax { axis: 0 }, &[t(DType::I32, &s)]);
    }

    #[test]
    fn attention(b in 1usize..3, h in 1usize..3, sq in 1usize..5, sk in 1usize..5, dk in 1usize..5, dv in 1usize..5, causal in any::<bool>()) {
        let (q, k, v) = (f(&[b, h, sq, dk]), f(&[b, h, sk, dk]), f(&[b, h, sk, dv]));
        let mask = t(DType::Bool, &[b, sk]);
        let op = |has_mask| Op::Attention { scale: F64(0.5), causal, has_mask };
        let want = f(&[b, h, sq, dv]);
        assert_eq!(run(&op(false), &[q.clone(), k.clone(), v.clone()]).unwrap(), want.clone());
        assert_eq!(run(&op(true), &[q.clone(), k.clone(), v.clone(), mask.clone()]).unwrap(), want);
        let bad_k = f(&[b, h, sk, dk + 1]);
        let m = err(&op(false), &[q.clone(), bad_k.clone(), v.clone()]);
        assert!(m.contains(&q.to_string()) && m.contains(&bad_k.to_string()), "{}", m);
        let bad_v = f(&[b, h, sk + 1, dv]);
        assert!(err(&op(false), &[q.clone(), k.clone(), bad_v]).contains("agree on B, H and S"));
        assert!(err(&op(true), &[q.clone(), k.clone(), v.clone(), t(DType::Bool, &[b, sk + 1])]).contains("key mask"));
        err(&op(true), &[q.clone(), k.clone(), v.clone(), f(&[b, sk])]);
        err(&op(true), &[q.clone(), k.clone(), v.clone()]);
        err(&op(false), &[f(&[b, h, sq]), k.clone(), v.clone()]);
        err(&op(false), &[q, t(DType::F16, &[b, h, sk, dk]), v]);
    }

    #[test]
    fn rope_and_upsample(lead in dims(0, 2), s in 1usize..5, half in 1usize..4, inter in any::<bool>(), scale in prop::collection::vec(1usize..4, 1..4)) {
        let d = 2 * half;
        let mut xd = lead.clone();
        xd.extend([s, d]);
        let x = f(&xd);
        let cs = f(&[s, d]);
        assert_eq!(run(&Op::Rope { interleaved: inter }, &[x.clone(), cs.clone(), cs.clone()]).unwrap(), x.clone());
        let mut odd = lead.clone();
        odd.extend([s, d + 1]);
        let m = err(&Op::Rope { interleaved: inter }, &[f(&odd), f(&[s, d + 1]), f(&[s, d + 1])]);
        assert!(m.contains("even"), "{}", m);
        let bad = f(&[s + 1, d]);
        let m = err(&Op::Rope { interleaved: inter }, &[x.clone(), bad.clone(), cs.clone()]);
        assert!(m.contains(&bad.to_string()), "{}", m);
        err(&Op::Rope { interleaved: inter }, &[x, cs]);
        let mut ud = vec![1, 2];
        ud.extend(scale.iter().map(|_| 3));
        let mut want = vec![1, 2];
        want.extend(scale.iter().map(|&k| 3 * k));
        assert_eq!(run(&Op::UpsampleNearest { scale: scale.clone() }, &[f(&ud)]).unwrap(), f(&want));
        err(&Op::UpsampleNearest { scale: scale.clone() }, &[f(&[1, 2])]);
        let mut more = scale.clone();
        more.push(1);
        err(&Op::UpsampleNearest { scale: more }, &[f(&ud)]);
        let mut zero = scale;
        zero[0] = 0;
        err(&Op::UpsampleNearest { scale: zero }, &[f(&ud)]);
    }

    #[test]
    fn sources(s in dims(1, 3), d in any_dtype(), seed in any::<u64>(), axis_seed in 0usize..3) {
        let axis = axis_seed % s.len();
        let iota = Op::Iota { shape: s.clone().into(), axis, dtype: d };
        let rn = Op::RandomNormal { shape: s.clone().into(), dtype: d, seed, offset: seed / 2 };
        match d {
            DType::Bool => assert!(err(&iota, &[]).contains("bool")),
            _ => assert_eq!(run(&iota, &[]).unwrap(), t(d, &s)),
        }
        if d.is_float() {
            assert_eq!(run(&rn, &[]).unwrap(), t(d, &s));
        } else {
            assert!(err(&rn, &[]).contains("float"));
        }
        err(&Op::Iota { shape: s.clone().into(), axis: s.len(), dtype: DType::F32 }, &[]);
        let mut z = s.clone();
        z[0] = 0;
        assert!(err(&Op::RandomNormal { shape: z.into(), dtype: DType::F32, seed, offset: 0 }, &[]).contains("zero extent"));
        let value = HostTensor::full(&t(d, &s), 1.0);
        assert_eq!(run(&Op::Constant { value: value.clone() }, &[]).unwrap(), t(d, &s));
        err(&Op::Constant { value }, &[f(&s)]);
        err(&Op::Input { name: "x".into() }, &[]);
        err(&Op::Parameter { name: "w".into() }, &[]);
    }
}

/// One op of every kind with a valid first operand list, to check arity errors.
#[test]
fn every_op_rejects_a_wrong_operand_count() {
    let x = f(&[2, 4]);
    let ops = [
        Op::Unary(UnaryOp::Tanh),
        Op::Binary(BinaryOp::Add),
        Op::Compare(CmpOp::Lt),
        Op::Select,
        Op::Cast { to: DType::I32 },
        Op::Reduce {
            op: ReduceOp::Sum,
            axes: vec![0],
            keep_dims: false,
        },
        Op::Reshape {
            shape: vec![8].into(),
        },
        Op::Permute { perm: vec![1, 0] },
        Op::Broadcast {
            shape: vec![2, 4].into(),
        },
        Op::Slice {
            start: vec![0, 0],
            end: vec![1, 1],
            step: vec![1, 1],
        },
        Op::Pad {
            low: vec![0, 0],
            high: vec![0, 0],
            mode: PadMode::Replicate,
        },
        Op::Gather { axis: 0 },
        Op::MatMul,
        Op::Conv {
            stride: vec![1],
            padding: vec![(0, 0)],
            dilation: vec![1],
            groups: 1,
        },
        Op::AllReduce {
            op: ReduceOp::Sum,
            group: group(2),
        },
        Op::AllGather {
            axis: 0,
            group: group(2),
        },
        Op::ReduceScatter {
            axis: 0,
            group: group(2),
        },
        Op::AllToAll {
            split_axis: 0,
            concat_axis: 1,
            group: group(2),
        },
        Op::BroadcastFrom {
            root: 0,
            group: group(2),
        },
        Op::Linear { has_bias: false },
        Op::Softmax { axis: 0 },
        Op::LayerNorm {
            eps: F64(1e-5),
            affine: false,
        },
        Op::RmsNorm {
            eps: F64(1e-5),
            affine: false,
        },
        Op::GroupNorm {
            groups: 1,
            eps: F64(1e-5),
            affine: false,
        },
        Op::Gelu { tanh: true },
        Op::Silu,
        Op::Attention {
            scale: F64(1.0),
            causal: false,
            has_mask: false,
        },
        Op::Rope { interleaved: true },
        Op::UpsampleNearest { scale: vec![2] },
        Op::Iota {
            shape: vec![2].into(),
            axis: 0,
            dtype: DType::F32,
        },
        Op::RandomNormal {
            shape: vec![2].into(),
            dtype: DType::F32,
            seed: 0,
            offset: 0,
        },
    ];
    for op in ops {
        let many = vec![x.clone(); 6];
        let m = err(&op, &many);
        assert!(
            m.contains("expects") && m.contains("got 6"),
            "{}: {m}",
            op.name()
        );
    }
    assert!(err(&Op::Concat { axis: 0 }, &[]).contains("at least one"));
}

#[test]
fn graph_add_errors_name_op_and_path() {
    let mut g = Graph::new("g");
    let a = g.push(Node {
        op: Op::Input { name: "a".into() },
        inputs: vec![],
        ty: f(&[2, 3]),
        path: String::new(),
    });
    let b = g.push(Node {
        op: Op::Input { name: "b".into() },
        inputs: vec![],
        ty: f(&[4, 5]),
        path: String::new(),
    });
    let e = g.add(Op::MatMul, &[a, b], "blocks.0.attn").unwrap_err();
    let IrError::Op { op, path, message } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(op, "matmul");
    assert_eq!(path, "blocks.0.attn");
    assert!(
        message.contains("f32[2,3]") && message.contains("f32[4,5]"),
        "{message}"
    );
    let text = e.to_string();
    assert!(text.starts_with("matmul at `blocks.0.attn`"), "{text}");
    assert_eq!(g.len(), 2, "a failed add leaves the graph unchanged");
    let e = g
        .add(Op::Unary(UnaryOp::Tanh), &[hyv_ir::NodeId(9)], "head")
        .unwrap_err();
    assert!(
        e.to_string().contains("tanh at `head`") && e.to_string().contains("does not exist"),
        "{e}"
    );
    let e = g
        .add(
            Op::Reshape {
                shape: vec![7].into(),
            },
            &[a],
            "x.y",
        )
        .unwrap_err();
    assert!(
        e.to_string().contains("reshape at `x.y`") && e.to_string().contains("f32[2,3]"),
        "{e}"
    );
}
