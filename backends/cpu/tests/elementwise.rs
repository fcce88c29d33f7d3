//! Elementwise ops, GELU and SiLU against the reference backend on random operands of every
//! supported dtype.

mod common;

use common::{check, random, random_in, rng, typed, FLOATS, SHAPES};
use hyv_ir::{BinaryOp, CmpOp, DType, Op, UnaryOp};

#[test]
fn float_unary_ops_match_the_reference() {
    let mut r = rng(1);
    for dtype in FLOATS {
        for shape in SHAPES {
            for u in UnaryOp::FLOAT {
                // Positive operands for the functions with a restricted domain.
                let (lo, hi) = match u {
                    UnaryOp::Log | UnaryOp::Sqrt | UnaryOp::Rsqrt | UnaryOp::Recip => (0.05, 4.0),
                    _ => (-4.0, 4.0),
                };
                let x = random_in(&mut r, dtype, shape, lo, hi);
                check(&Op::Unary(u), &[&x]);
            }
        }
    }
}

#[test]
fn special_float_values_follow_the_ir_rules() {
    let x = typed(
        DType::F32,
        &[8],
        &[
            0.0,
            -0.0,
            -1.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            1e-40,
            88.0,
        ],
    );
    for u in UnaryOp::FLOAT {
        check(&Op::Unary(u), &[&x]);
    }
    let y = typed(
        DType::F32,
        &[8],
        &[f64::NAN, 1.0, 0.0, 2.0, -3.0, 0.0, 1.0, -1.0],
    );
    for b in [BinaryOp::Max, BinaryOp::Min, BinaryOp::Div, BinaryOp::Pow] {
        check(&Op::Binary(b), &[&x, &y]);
    }
}

#[test]
fn erf_is_accurate_across_its_range() {
    let v: Vec<f64> = (0..4001).map(|i| -10.0 + i as f64 * 0.005).collect();
    let x = typed(DType::F32, &[v.len()], &v);
    common::check_tol(&Op::Unary(UnaryOp::Erf), &[&x], 1e-6);
    common::check_tol(&Op::Gelu { tanh: false }, &[&x], 1e-6);
}

#[test]
fn integer_and_bool_unary_ops_match_the_reference() {
    let mut r = rng(2);
    for dtype in [DType::I32, DType::I64] {
        for shape in SHAPES {
            let x = random(&mut r, dtype, shape);
            check(&Op::Unary(UnaryOp::Neg), &[&x]);
            check(&Op::Unary(UnaryOp::Abs), &[&x]);
        }
    }
    let extremes = typed(DType::I32, &[3], &[i32::MIN as f64, i32::MAX as f64, 0.0]);
    check(&Op::Unary(UnaryOp::Neg), &[&extremes]);
    check(&Op::Unary(UnaryOp::Abs), &[&extremes]);
    let b = random(&mut r, DType::Bool, &[37]);
    check(&Op::Unary(UnaryOp::Not), &[&b]);
}

#[test]
fn binary_ops_match_the_reference() {
    let mut r = rng(3);
    let float_ops = [
        BinaryOp::Add,
        BinaryOp::Sub,
        BinaryOp::Mul,
        BinaryOp::Div,
        BinaryOp::Max,
        BinaryOp::Min,
    ];
    for shape in SHAPES {
        for dtype in FLOATS {
            let (a, b) = (random(&mut r, dtype, shape), random(&mut r, dtype, shape));
            for op in float_ops {
                check(&Op::Binary(op), &[&a, &b]);
            }
            let base = random_in(&mut r, dtype, shape, 0.1, 3.0);
            check(&Op::Binary(BinaryOp::Pow), &[&base, &b]);
        }
        for dtype in [DType::I32, DType::I64] {
            // Integer operands include zeros: division by zero gives 0.
            let (a, b) = (random(&mut r, dtype, shape), random(&mut r, dtype, shape));
            for op in float_ops {
                check(&Op::Binary(op), &[&a, &b]);
            }
        }
        let (p, q) = (
            random(&mut r, DType::Bool, shape),
            random(&mut r, DType::Bool, shape),
        );
        check(&Op::Binary(BinaryOp::And), &[&p, &q]);
        check(&Op::Binary(BinaryOp::Or), &[&p, &q]);
    }
    let wrap = typed(DType::I32, &[2], &[i32::MIN as f64, i32::MAX as f64]);
    let minus_one = typed(DType::I32, &[2], &[-1.0, 2.0]);
    for op in [BinaryOp::Div, BinaryOp::Mul, BinaryOp::Add, BinaryOp::Sub] {
        check(&Op::Binary(op), &[&wrap, &minus_one]);
    }
}

#[test]
fn compares_and_select_match_the_reference() {
    let mut r = rng(4);
    let cmps = [
        CmpOp::Eq,
        CmpOp::Ne,
        CmpOp::Lt,
        CmpOp::Le,
        CmpOp::Gt,
        CmpOp::Ge,
    ];
    for shape in SHAPES {
        for dtype in hyv_ir::DType::ALL {
            // Integers in -5..=5 and bools collide often, so equality is exercised.
            let (a, b) = (random(&mut r, dtype, shape), random(&mut r, dtype, shape));
            for c in cmps {
                check(&Op::Compare(c), &[&a, &b]);
            }
            let cond = random(&mut r, DType::Bool, shape);
            check(&Op::Select, &[&cond, &a, &b]);
        }
    }
    let nan = typed(DType::F32, &[3], &[f64::NAN, 1.0, f64::NAN]);
    let one = typed(DType::F32, &[3], &[f64::NAN, 1.0, 0.0]);
    for c in cmps {
        check(&Op::Compare(c), &[&nan, &one]);
    }
}

#[test]
fn casts_between_every_pair_of_dtypes_are_exact() {
    let mut r = rng(5);
    let specials = [
        0.0,
        -0.0,
        1.5,
        -2.5,
        2.5,
        1e10,
        -1e10,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        65504.0,
        70000.0,
        1e-8,
        0.333333333,
    ];
    for from in DType::ALL {
        let mut inputs = vec![random_in(&mut r, from, &[2, 17], -3.0, 3.0)];
        if from.is_float() {
            inputs.push(typed(from, &[specials.len()], &specials));
        }
        for x in &inputs {
            for to in DType::ALL {
                common::check_tol(&Op::Cast { to }, &[x], 0.0);
            }
        }
    }
}

#[test]
fn gelu_and_silu_match_the_reference() {
    let mut r = rng(6);
    for dtype in FLOATS {
        for shape in SHAPES {
            let x = random_in(&mut r, dtype, shape, -6.0, 6.0);
            check(&Op::Gelu { tanh: true }, &[&x]);
            check(&Op::Gelu { tanh: false }, &[&x]);
            check(&Op::Silu, &[&x]);
        }
    }
}
