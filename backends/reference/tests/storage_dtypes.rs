//! f16/bf16 storage: values are computed in f32 (or wider) and rounded once to the storage
//! type, round to nearest even.

mod common;
use common::*;
use hyv_ir::{BinaryOp, DType, Op, UnaryOp, F64};

#[test]
fn f16_add_rounds_ties_to_even() {
    let e = 2f64.powi(-11);
    // 1 + 2^-11 and 1 + 2^-10 + 2^-11 are ties in f16 (10 fraction bits).
    let a = typed(DType::F16, &[2], &[1.0, 1.0 + 2.0 * e]);
    let b = typed(DType::F16, &[2], &[e, e]);
    let r = run(Op::Binary(BinaryOp::Add), &[&a, &b]);
    assert_eq!(r.dtype(), DType::F16);
    assert_exact(&r, &[2], &[1.0, 1.0 + 4.0 * e]);
}

#[test]
fn bf16_add_rounds_ties_to_even() {
    let e = 2f64.powi(-8);
    let a = typed(DType::BF16, &[2], &[1.0, 1.0 + 2.0 * e]);
    let b = typed(DType::BF16, &[2], &[e, e]);
    let r = run(Op::Binary(BinaryOp::Add), &[&a, &b]);
    assert_eq!(r.dtype(), DType::BF16);
    assert_exact(&r, &[2], &[1.0, 1.0 + 4.0 * e]);
}

#[test]
fn transcendental_results_round_to_storage() {
    // e = 2.718281…: the nearest f16 (step 2^-9) and bf16 (step 2^-6) are both 2.71875.
    for dtype in [DType::F16, DType::BF16] {
        let x = typed(dtype, &[1], &[1.0]);
        let r = run(Op::Unary(UnaryOp::Exp), &[&x]);
        assert_eq!(r.dtype(), dtype);
        assert_exact(&r, &[1], &[2.71875]);
    }
}

#[test]
fn f16_overflow_gives_infinity() {
    let x = typed(DType::F16, &[1], &[60000.0]);
    let r = run(Op::Binary(BinaryOp::Add), &[&x, &x]);
    assert_eq!(r.to_f64_vec()[0], f64::INFINITY);
}

#[test]
fn composites_round_once_to_storage() {
    // softmax of (0, ln 3) = (0.25, 0.75), exact in bf16.
    let x = typed(DType::BF16, &[2], &[0.0, 3f64.ln()]);
    let r = run(Op::Softmax { axis: 0 }, &[&x]);
    assert_eq!(r.dtype(), DType::BF16);
    // ln 3 rounds to bf16 first (1.1015625), so the weights are 1/(1+e^1.1015625)…
    let l = half::bf16::from_f64(3f64.ln()).to_f64();
    let (p0, p1) = (1.0 / (1.0 + l.exp()), l.exp() / (1.0 + l.exp()));
    let want = [p0, p1].map(|p| half::bf16::from_f32(p as f32).to_f64());
    assert_exact(&r, &[2], &want);
    let op = Op::LayerNorm {
        eps: F64(0.0),
        affine: false,
    };
    let y = typed(DType::F16, &[2], &[1.0, 3.0]);
    assert_exact(&run(op, &[&y]), &[2], &[-1.0, 1.0]);
}
