//! Unary, binary, compare, select and cast against hand-computed values.

mod common;
use common::*;
use hyv_ir::{BinaryOp, CmpOp, DType, Op, UnaryOp};
use std::f64::consts::{FRAC_1_SQRT_2, LN_2, SQRT_2};

const TOL: f64 = 1e-6;

#[test]
fn float_unary_ops() {
    let x = f32t(&[2], &[0.5, 2.0]);
    let cases: [(UnaryOp, [f64; 2]); 11] = [
        (UnaryOp::Neg, [-0.5, -2.0]),
        (UnaryOp::Abs, [0.5, 2.0]),
        (UnaryOp::Exp, [1.6487212707001282, 7.38905609893065]),
        (UnaryOp::Log, [-LN_2, LN_2]),
        (UnaryOp::Sqrt, [FRAC_1_SQRT_2, SQRT_2]),
        (UnaryOp::Rsqrt, [SQRT_2, FRAC_1_SQRT_2]),
        (UnaryOp::Recip, [2.0, 0.5]),
        (UnaryOp::Tanh, [0.46211715726000974, 0.9640275800758169]),
        (UnaryOp::Erf, [0.5204998778130465, 0.9953222650189527]),
        (UnaryOp::Sin, [0.479425538604203, 0.9092974268256817]),
        (UnaryOp::Cos, [0.8775825618903728, -0.4161468365471424]),
    ];
    for (u, want) in cases {
        assert_close(&run(Op::Unary(u), &[&x]), &[2], &want, TOL);
    }
}

#[test]
fn unary_edge_values() {
    let x = f32t(&[4], &[-1.5, 0.0, -1.0, 2.7]);
    assert_exact(
        &run(Op::Unary(UnaryOp::Abs), &[&x]),
        &[4],
        &[1.5, 0.0, 1.0, 2.7f32 as f64],
    );
    assert_exact(
        &run(Op::Unary(UnaryOp::Floor), &[&x]),
        &[4],
        &[-2.0, 0.0, -1.0, 2.0],
    );
    let l = run(Op::Unary(UnaryOp::Log), &[&x]).to_f64_vec();
    assert!(l[0].is_nan() && l[1] == f64::NEG_INFINITY && l[2].is_nan());
    let r = run(Op::Unary(UnaryOp::Recip), &[&x]).to_f64_vec();
    assert_eq!(r[1], f64::INFINITY);
    let e = run(
        Op::Unary(UnaryOp::Erf),
        &[&f32t(&[4], &[-1.0, 3.0, 0.1, 0.0])],
    );
    assert_close(
        &e,
        &[4],
        &[
            -0.8427007929497149,
            0.9999779095030014,
            0.1124629160182849,
            0.0,
        ],
        TOL,
    );
}

#[test]
fn integer_and_bool_unary_ops() {
    let x = i32t(&[3], &[-3, 5, i32::MIN]);
    assert_exact(
        &run(Op::Unary(UnaryOp::Neg), &[&x]),
        &[3],
        &[3.0, -5.0, i32::MIN as f64],
    );
    assert_exact(
        &run(Op::Unary(UnaryOp::Abs), &[&x]),
        &[3],
        &[3.0, 5.0, i32::MIN as f64],
    );
    let y = i64t(&[2], &[-4, 9]);
    assert_exact(&run(Op::Unary(UnaryOp::Neg), &[&y]), &[2], &[4.0, -9.0]);
    let b = boolt(&[2], &[true, false]);
    assert_exact(&run(Op::Unary(UnaryOp::Not), &[&b]), &[2], &[0.0, 1.0]);
}

#[test]
fn float_binary_ops_and_nan_propagation() {
    let nan = f64::NAN;
    let a = f32t(&[5], &[1.0, -2.0, 3.0, f32::NAN, 1.0]);
    let b = f32t(&[5], &[2.0, 4.0, -0.5, 1.0, f32::NAN]);
    let cases: [(BinaryOp, [f64; 5]); 6] = [
        (BinaryOp::Add, [3.0, 2.0, 2.5, nan, nan]),
        (BinaryOp::Sub, [-1.0, -6.0, 3.5, nan, nan]),
        (BinaryOp::Mul, [2.0, -8.0, -1.5, nan, nan]),
        (BinaryOp::Div, [0.5, -0.5, -6.0, nan, nan]),
        (BinaryOp::Max, [2.0, 4.0, 3.0, nan, nan]),
        (BinaryOp::Min, [1.0, -2.0, -0.5, nan, nan]),
    ];
    for (op, want) in cases {
        assert_exact(&run(Op::Binary(op), &[&a, &b]), &[5], &want);
    }
    let p = run(
        Op::Binary(BinaryOp::Pow),
        &[&f32t(&[2], &[2.0, 3.0]), &f32t(&[2], &[3.0, 0.5])],
    );
    assert_close(&p, &[2], &[8.0, 1.7320508075688772], TOL);
}

#[test]
fn integer_binary_ops_wrap_and_truncate() {
    let a = i32t(&[4], &[7, -7, i32::MAX, 5]);
    let b = i32t(&[4], &[2, 2, 1, 0]);
    let m = i32::MAX as f64;
    let cases: [(BinaryOp, [f64; 4]); 6] = [
        (BinaryOp::Add, [9.0, -5.0, i32::MIN as f64, 5.0]),
        (BinaryOp::Sub, [5.0, -9.0, m - 1.0, 5.0]),
        (BinaryOp::Mul, [14.0, -14.0, m, 0.0]),
        (BinaryOp::Div, [3.0, -3.0, m, 0.0]),
        (BinaryOp::Max, [7.0, 2.0, m, 5.0]),
        (BinaryOp::Min, [2.0, -7.0, 1.0, 0.0]),
    ];
    for (op, want) in cases {
        let r = run(Op::Binary(op), &[&a, &b]);
        assert_eq!(r.dtype(), DType::I32);
        assert_exact(&r, &[4], &want);
    }
    let w = run(
        Op::Binary(BinaryOp::Mul),
        &[&i32t(&[1], &[i32::MAX]), &i32t(&[1], &[2])],
    );
    assert_exact(&w, &[1], &[-2.0]);
    let d = run(
        Op::Binary(BinaryOp::Div),
        &[&i64t(&[3], &[i64::MIN, -9, 4]), &i64t(&[3], &[-1, 4, 0])],
    );
    assert_eq!(d, i64t(&[3], &[i64::MIN, -2, 0]));
}

#[test]
fn bool_binary_ops() {
    let a = boolt(&[4], &[true, true, false, false]);
    let b = boolt(&[4], &[true, false, true, false]);
    assert_exact(
        &run(Op::Binary(BinaryOp::And), &[&a, &b]),
        &[4],
        &[1.0, 0.0, 0.0, 0.0],
    );
    assert_exact(
        &run(Op::Binary(BinaryOp::Or), &[&a, &b]),
        &[4],
        &[1.0, 1.0, 1.0, 0.0],
    );
}

#[test]
fn comparisons_with_nan() {
    let a = f32t(&[3], &[1.0, 2.0, f32::NAN]);
    let b = f32t(&[3], &[2.0, 2.0, f32::NAN]);
    let cases = [
        (CmpOp::Eq, [0.0, 1.0, 0.0]),
        (CmpOp::Ne, [1.0, 0.0, 1.0]),
        (CmpOp::Lt, [1.0, 0.0, 0.0]),
        (CmpOp::Le, [1.0, 1.0, 0.0]),
        (CmpOp::Gt, [0.0, 0.0, 0.0]),
        (CmpOp::Ge, [0.0, 1.0, 0.0]),
    ];
    for (c, want) in cases {
        let r = run(Op::Compare(c), &[&a, &b]);
        assert_eq!(r.dtype(), DType::Bool);
        assert_exact(&r, &[3], &want);
    }
}

#[test]
fn integer_comparisons_are_exact() {
    // 2^60 + 1 and 2^60 are equal as f64; an exact compare tells them apart.
    let a = i64t(&[2], &[(1 << 60) + 1, -3]);
    let b = i64t(&[2], &[1 << 60, -3]);
    assert_exact(&run(Op::Compare(CmpOp::Gt), &[&a, &b]), &[2], &[1.0, 0.0]);
    assert_exact(&run(Op::Compare(CmpOp::Eq), &[&a, &b]), &[2], &[0.0, 1.0]);
    let p = boolt(&[2], &[true, false]);
    let q = boolt(&[2], &[false, false]);
    assert_exact(&run(Op::Compare(CmpOp::Gt), &[&p, &q]), &[2], &[1.0, 0.0]);
}

#[test]
fn select_picks_by_condition() {
    let c = boolt(&[2, 2], &[true, false, false, true]);
    let a = f32t(&[2, 2], &[1.0, 2.0, 3.0, 4.0]);
    let b = f32t(&[2, 2], &[-1.0, -2.0, -3.0, -4.0]);
    assert_exact(
        &run(Op::Select, &[&c, &a, &b]),
        &[2, 2],
        &[1.0, -2.0, -3.0, 4.0],
    );
    let ia = i64t(&[2, 2], &[1, 2, 3, 4]);
    let ib = i64t(&[2, 2], &[5, 6, 7, 8]);
    assert_exact(
        &run(Op::Select, &[&c, &ia, &ib]),
        &[2, 2],
        &[1.0, 6.0, 7.0, 4.0],
    );
}

#[test]
fn casts_follow_the_rules() {
    let x = f32t(&[6], &[1.7, -1.7, f32::NAN, 3e10, -3e10, 0.0]);
    let to_i32 = run(Op::Cast { to: DType::I32 }, &[&x]);
    assert_exact(
        &to_i32,
        &[6],
        &[1.0, -1.0, 0.0, i32::MAX as f64, i32::MIN as f64, 0.0],
    );
    let to_i64 = run(Op::Cast { to: DType::I64 }, &[&x]);
    assert_exact(
        &to_i64,
        &[6],
        &[1.0, -1.0, 0.0, 3e10f32 as f64, -3e10f32 as f64, 0.0],
    );
    let to_bool = run(Op::Cast { to: DType::Bool }, &[&x]);
    assert_exact(&to_bool, &[6], &[1.0, 1.0, 1.0, 1.0, 1.0, 0.0]);
    let b = boolt(&[2], &[true, false]);
    assert_exact(&run(Op::Cast { to: DType::F32 }, &[&b]), &[2], &[1.0, 0.0]);
    assert_exact(&run(Op::Cast { to: DType::I64 }, &[&b]), &[2], &[1.0, 0.0]);
    let i = i32t(&[2], &[-7, 0]);
    assert_exact(&run(Op::Cast { to: DType::F16 }, &[&i]), &[2], &[-7.0, 0.0]);
    assert_exact(&run(Op::Cast { to: DType::Bool }, &[&i]), &[2], &[1.0, 0.0]);
    assert_exact(&run(Op::Cast { to: DType::I64 }, &[&i]), &[2], &[-7.0, 0.0]);
}

#[test]
fn float_narrowing_casts_round_to_nearest_even() {
    let e = 2f64.powi(-11);
    // f16 has 10 fraction bits: 1 + 2^-11 is a tie (to 1.0), 1 + 3·2^-11 a tie (to 1 + 2^-9).
    let x = f32t(
        &[3],
        &[
            (1.0 + e) as f32,
            (1.0 + 3.0 * e) as f32,
            (1.0 + 1.5 * e) as f32,
        ],
    );
    let h = run(Op::Cast { to: DType::F16 }, &[&x]);
    assert_eq!(h.dtype(), DType::F16);
    assert_exact(&h, &[3], &[1.0, 1.0 + 4.0 * e, 1.0 + 2.0 * e]);
    // bf16 has 7 fraction bits.
    let e = 2f64.powi(-8);
    let x = f32t(&[2], &[(1.0 + e) as f32, (1.0 + 3.0 * e) as f32]);
    let b = run(Op::Cast { to: DType::BF16 }, &[&x]);
    assert_eq!(b.dtype(), DType::BF16);
    assert_exact(&b, &[2], &[1.0, 1.0 + 4.0 * e]);
    // Widening is exact, and f16 → bf16 rounds once.
    assert_exact(
        &run(Op::Cast { to: DType::F32 }, &[&h]),
        &[3],
        &h.to_f64_vec(),
    );
    let h2 = typed(DType::F16, &[1], &[1.0 + 2f64.powi(-10)]);
    assert_exact(&run(Op::Cast { to: DType::BF16 }, &[&h2]), &[1], &[1.0]);
}
