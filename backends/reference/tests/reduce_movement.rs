//! Reductions and data movement against hand-computed values.

mod common;
use common::*;
use hyv_ir::{DType, Op, PadMode, ReduceOp, Shape, F64};

fn reduce(op: ReduceOp, axes: &[usize], keep_dims: bool) -> Op {
    Op::Reduce {
        op,
        axes: axes.to_vec(),
        keep_dims,
    }
}

#[test]
fn reduce_sum_over_axes_with_and_without_keep_dims() {
    let x = f32t(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    assert_exact(
        &run(reduce(ReduceOp::Sum, &[0], false), &[&x]),
        &[3],
        &[5.0, 7.0, 9.0],
    );
    assert_exact(
        &run(reduce(ReduceOp::Sum, &[1], true), &[&x]),
        &[2, 1],
        &[6.0, 15.0],
    );
    assert_exact(
        &run(reduce(ReduceOp::Sum, &[0, 1], false), &[&x]),
        &[],
        &[21.0],
    );
    assert_exact(
        &run(reduce(ReduceOp::Sum, &[0, 1], true), &[&x]),
        &[1, 1],
        &[21.0],
    );
    let y = f32t(&[2, 2, 2], &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]);
    assert_exact(
        &run(reduce(ReduceOp::Sum, &[0, 2], false), &[&y]),
        &[2],
        &[10.0, 18.0],
    );
    assert_exact(
        &run(reduce(ReduceOp::Sum, &[0, 2], true), &[&y]),
        &[1, 2, 1],
        &[10.0, 18.0],
    );
}

#[test]
fn reduce_max_propagates_nan() {
    let x = f32t(&[2, 3], &[1.0, 7.0, 3.0, -4.0, f32::NAN, -6.0]);
    let r = run(reduce(ReduceOp::Max, &[1], false), &[&x]);
    assert_exact(&r, &[2], &[7.0, f64::NAN]);
    let r = run(reduce(ReduceOp::Max, &[0], true), &[&x]);
    assert_exact(&r, &[1, 3], &[1.0, f64::NAN, 3.0]);
    let y = f32t(&[2, 2, 2], &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, -7.0]);
    assert_exact(
        &run(reduce(ReduceOp::Max, &[1, 2], false), &[&y]),
        &[2],
        &[3.0, 6.0],
    );
}

#[test]
fn integer_reductions_are_exact_and_wrap() {
    let x = i32t(&[2, 2], &[i32::MAX, 1, -5, 3]);
    let s = run(reduce(ReduceOp::Sum, &[1], false), &[&x]);
    assert_eq!(s.dtype(), DType::I32);
    assert_exact(&s, &[2], &[i32::MIN as f64, -2.0]);
    let m = run(reduce(ReduceOp::Max, &[0], false), &[&x]);
    assert_exact(&m, &[2], &[i32::MAX as f64, 3.0]);
    let y = i64t(&[3], &[(1 << 60) + 1, 1, 1]);
    assert_eq!(
        run(reduce(ReduceOp::Sum, &[0], false), &[&y]),
        i64t(&[], &[(1 << 60) + 3])
    );
}

#[test]
fn reduce_sum_accumulates_wider_than_storage() {
    // Summed one by one in bf16, 1 + 2^-8 + 2^-8 rounds to 1 twice; in f64 it is 1 + 2^-7.
    let e = 2f64.powi(-8);
    let x = typed(DType::BF16, &[3], &[1.0, e, e]);
    let r = run(reduce(ReduceOp::Sum, &[0], false), &[&x]);
    assert_eq!(r.dtype(), DType::BF16);
    assert_exact(&r, &[], &[1.0 + 2.0 * e]);
}

#[test]
fn reshape_keeps_row_major_order() {
    let x = i32t(&[2, 3], &[1, 2, 3, 4, 5, 6]);
    let r = run(
        Op::Reshape {
            shape: Shape::new([3, 1, 2]),
        },
        &[&x],
    );
    assert_exact(&r, &[3, 1, 2], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
}

#[test]
fn permute_reorders_axes() {
    let x = f32t(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let r = run(Op::Permute { perm: vec![1, 0] }, &[&x]);
    assert_exact(&r, &[3, 2], &[1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
    // out[i][j][k] = y[j][k][i]
    let y = i64t(&[2, 2, 2], &[0, 1, 2, 3, 4, 5, 6, 7]);
    let r = run(
        Op::Permute {
            perm: vec![2, 0, 1],
        },
        &[&y],
    );
    assert_exact(&r, &[2, 2, 2], &[0.0, 2.0, 4.0, 6.0, 1.0, 3.0, 5.0, 7.0]);
    let z = f32t(&[1, 2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let r = run(
        Op::Permute {
            perm: vec![2, 1, 0],
        },
        &[&z],
    );
    assert_exact(&r, &[3, 2, 1], &[1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
}

#[test]
fn broadcast_repeats_unit_axes() {
    let row = f32t(&[1, 3], &[1.0, 2.0, 3.0]);
    let r = run(
        Op::Broadcast {
            shape: Shape::new([2, 3]),
        },
        &[&row],
    );
    assert_exact(&r, &[2, 3], &[1.0, 2.0, 3.0, 1.0, 2.0, 3.0]);
    let col = boolt(&[2, 1], &[true, false]);
    let r = run(
        Op::Broadcast {
            shape: Shape::new([2, 3]),
        },
        &[&col],
    );
    assert_exact(&r, &[2, 3], &[1.0, 1.0, 1.0, 0.0, 0.0, 0.0]);
    let s = f32t(&[1, 1], &[5.0]);
    let r = run(
        Op::Broadcast {
            shape: Shape::new([2, 2]),
        },
        &[&s],
    );
    assert_exact(&r, &[2, 2], &[5.0; 4]);
}

#[test]
fn slice_with_steps() {
    let x = f32t(&[10], &(0..10).map(|i| i as f32).collect::<Vec<_>>());
    let op = Op::Slice {
        start: vec![1],
        end: vec![8],
        step: vec![3],
    };
    assert_exact(&run(op, &[&x]), &[3], &[1.0, 4.0, 7.0]);
    let y = i32t(&[3, 4], &(0..12).collect::<Vec<_>>());
    let op = Op::Slice {
        start: vec![0, 1],
        end: vec![3, 4],
        step: vec![2, 2],
    };
    assert_exact(&run(op, &[&y]), &[2, 2], &[1.0, 3.0, 9.0, 11.0]);
    let op = Op::Slice {
        start: vec![1, 0],
        end: vec![3, 3],
        step: vec![1, 1],
    };
    assert_exact(&run(op, &[&y]), &[2, 3], &[4.0, 5.0, 6.0, 8.0, 9.0, 10.0]);
}

#[test]
fn concat_along_any_axis() {
    let a = f32t(&[2, 2], &[1.0, 2.0, 3.0, 4.0]);
    let b = f32t(&[2, 1], &[5.0, 6.0]);
    let r = run(Op::Concat { axis: 1 }, &[&a, &b]);
    assert_exact(&r, &[2, 3], &[1.0, 2.0, 5.0, 3.0, 4.0, 6.0]);
    let c = f32t(&[1, 2], &[7.0, 8.0]);
    let r = run(Op::Concat { axis: 0 }, &[&c, &a, &c]);
    assert_exact(&r, &[4, 2], &[7.0, 8.0, 1.0, 2.0, 3.0, 4.0, 7.0, 8.0]);
    let r = run(Op::Concat { axis: 0 }, &[&a]);
    assert_exact(&r, &[2, 2], &[1.0, 2.0, 3.0, 4.0]);
}

#[test]
fn pad_constant_and_replicate() {
    let x = f32t(&[3], &[1.0, 2.0, 3.0]);
    let op = Op::Pad {
        low: vec![2],
        high: vec![1],
        mode: PadMode::Constant(F64(-1.0)),
    };
    assert_exact(&run(op, &[&x]), &[6], &[-1.0, -1.0, 1.0, 2.0, 3.0, -1.0]);
    let y = i32t(&[2, 2], &[1, 2, 3, 4]);
    let op = Op::Pad {
        low: vec![1, 0],
        high: vec![0, 1],
        mode: PadMode::Replicate,
    };
    assert_exact(
        &run(op, &[&y]),
        &[3, 3],
        &[1.0, 2.0, 2.0, 1.0, 2.0, 2.0, 3.0, 4.0, 4.0],
    );
    let op = Op::Pad {
        low: vec![0, 1],
        high: vec![1, 0],
        mode: PadMode::Constant(F64(9.0)),
    };
    assert_exact(
        &run(op, &[&y]),
        &[3, 3],
        &[9.0, 1.0, 2.0, 9.0, 3.0, 4.0, 9.0, 9.0, 9.0],
    );
    let op = Op::Pad {
        low: vec![2],
        high: vec![2],
        mode: PadMode::Replicate,
    };
    assert_exact(&run(op, &[&x]), &[7], &[1.0, 1.0, 1.0, 2.0, 3.0, 3.0, 3.0]);
}

#[test]
fn gather_with_i32_and_i64_indices() {
    let x = f32t(&[3, 2], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let r = run(Op::Gather { axis: 0 }, &[&x, &i32t(&[2], &[2, 0])]);
    assert_exact(&r, &[2, 2], &[5.0, 6.0, 1.0, 2.0]);
    let idx = i64t(&[2, 2], &[1, 0, 1, 1]);
    let r = run(Op::Gather { axis: 1 }, &[&x, &idx]);
    assert_exact(
        &r,
        &[3, 2, 2],
        &[2.0, 1.0, 2.0, 2.0, 4.0, 3.0, 4.0, 4.0, 6.0, 5.0, 6.0, 6.0],
    );
    let scalar = i64t(&[], &[1]);
    assert_exact(
        &run(Op::Gather { axis: 0 }, &[&x, &scalar]),
        &[2],
        &[3.0, 4.0],
    );
}

#[test]
fn gather_out_of_range_is_an_error() {
    let x = f32t(&[3, 2], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let err = try_run(Op::Gather { axis: 0 }, &[&x, &i32t(&[2], &[0, 3])]).unwrap_err();
    for part in ["gather", "index 3", "axis 0", "extent 3", "test.module"] {
        assert!(err.contains(part), "`{part}` missing from: {err}");
    }
    let err = try_run(Op::Gather { axis: 1 }, &[&x, &i64t(&[1], &[-1])]).unwrap_err();
    assert!(err.contains("index -1") && err.contains("axis 1"), "{err}");
}
