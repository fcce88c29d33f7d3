//! Matmul, conv and linear against hand-computed values.

mod common;
use common::*;
use hyv_ir::{DType, Op};

fn conv(stride: &[usize], padding: &[(usize, usize)], dilation: &[usize], groups: usize) -> Op {
    Op::Conv {
        stride: stride.to_vec(),
        padding: padding.to_vec(),
        dilation: dilation.to_vec(),
        groups,
    }
}

#[test]
fn matmul_rank_two() {
    let a = f32t(&[2, 2], &[1.0, 2.0, 3.0, 4.0]);
    let b = f32t(&[2, 2], &[5.0, 6.0, 7.0, 8.0]);
    assert_exact(
        &run(Op::MatMul, &[&a, &b]),
        &[2, 2],
        &[19.0, 22.0, 43.0, 50.0],
    );
    let c = f32t(&[2, 3], &[1.0, 0.0, -1.0, 2.0, 1.0, 0.0]);
    let d = f32t(&[3, 1], &[1.0, 2.0, 3.0]);
    assert_exact(&run(Op::MatMul, &[&c, &d]), &[2, 1], &[-2.0, 4.0]);
}

#[test]
fn matmul_batched_and_with_shared_rhs() {
    let a = f32t(&[2, 1, 2], &[1.0, 2.0, 3.0, 4.0]);
    let b = f32t(&[2, 2, 1], &[1.0, 1.0, 2.0, 0.5]);
    assert_exact(&run(Op::MatMul, &[&a, &b]), &[2, 1, 1], &[3.0, 8.0]);
    let shared = f32t(&[2, 1], &[1.0, -1.0]);
    assert_exact(&run(Op::MatMul, &[&a, &shared]), &[2, 1, 1], &[-1.0, -1.0]);
    let a4 = f32t(&[2, 1, 1, 2], &[1.0, 2.0, 3.0, 4.0]);
    let b4 = f32t(&[2, 1, 2, 2], &[1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0]);
    assert_exact(
        &run(Op::MatMul, &[&a4, &b4]),
        &[2, 1, 1, 2],
        &[1.0, 2.0, 4.0, 3.0],
    );
}

#[test]
fn integer_matmul_is_exact() {
    let a = i32t(&[1, 2], &[3, -4]);
    let b = i32t(&[2, 2], &[5, 6, 7, 8]);
    let r = run(Op::MatMul, &[&a, &b]);
    assert_eq!(r.dtype(), DType::I32);
    assert_exact(&r, &[1, 2], &[-13.0, -14.0]);
}

#[test]
fn matmul_accumulates_wider_than_storage() {
    // 1 + 2^-8 + 2^-8 in bf16: a bf16 accumulator would give 1, f64 gives 1 + 2^-7.
    let e = 2f64.powi(-8);
    let a = typed(DType::BF16, &[1, 3], &[1.0, e, e]);
    let b = typed(DType::BF16, &[3, 1], &[1.0, 1.0, 1.0]);
    assert_exact(&run(Op::MatMul, &[&a, &b]), &[1, 1], &[1.0 + 2.0 * e]);
}

#[test]
fn conv1d_stride_padding_dilation() {
    let x = f32t(&[1, 1, 5], &[1.0, 2.0, 3.0, 4.0, 5.0]);
    let w = f32t(&[1, 1, 3], &[1.0, 0.0, -1.0]);
    let r = run(conv(&[1], &[(0, 0)], &[1], 1), &[&x, &w]);
    assert_exact(&r, &[1, 1, 3], &[-2.0, -2.0, -2.0]);
    let r = run(conv(&[2], &[(1, 1)], &[1], 1), &[&x, &w]);
    assert_exact(&r, &[1, 1, 3], &[-2.0, -2.0, 4.0]);
    let r = run(conv(&[1], &[(0, 0)], &[2], 1), &[&x, &w]);
    assert_exact(&r, &[1, 1, 1], &[-4.0]);
}

#[test]
fn conv2d_windows_channels_and_batches() {
    let x = f32t(
        &[1, 1, 3, 3],
        &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
    );
    let w = f32t(&[1, 1, 2, 2], &[1.0; 4]);
    let r = run(conv(&[1, 1], &[(0, 0), (0, 0)], &[1, 1], 1), &[&x, &w]);
    assert_exact(&r, &[1, 1, 2, 2], &[12.0, 16.0, 24.0, 28.0]);
    // Two input channels into three output channels, batch of two.
    let x = f32t(&[2, 2, 1, 1], &[1.0, 2.0, -1.0, 3.0]);
    let w = f32t(&[3, 2, 1, 1], &[1.0, 1.0, 1.0, -1.0, 2.0, 0.0]);
    let r = run(conv(&[1, 1], &[(0, 0), (0, 0)], &[1, 1], 1), &[&x, &w]);
    assert_exact(&r, &[2, 3, 1, 1], &[3.0, -1.0, 2.0, 2.0, -4.0, -2.0]);
}

#[test]
fn conv2d_mixed_stride_padding_dilation() {
    let x = f32t(
        &[1, 1, 4, 4],
        &(0..16).map(|v| v as f32).collect::<Vec<_>>(),
    );
    let w = f32t(&[1, 1, 2, 2], &[1.0, 2.0, 3.0, 4.0]);
    let r = run(conv(&[2, 1], &[(1, 0), (0, 1)], &[1, 2], 1), &[&x, &w]);
    assert_exact(&r, &[1, 1, 2, 3], &[8.0, 15.0, 6.0, 80.0, 90.0, 36.0]);
}

#[test]
fn conv2d_groups() {
    let x = f32t(&[1, 2, 2, 2], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
    let w = f32t(&[2, 1, 1, 1], &[2.0, 3.0]);
    let r = run(conv(&[1, 1], &[(0, 0), (0, 0)], &[1, 1], 2), &[&x, &w]);
    assert_exact(
        &r,
        &[1, 2, 2, 2],
        &[2.0, 4.0, 6.0, 8.0, 15.0, 18.0, 21.0, 24.0],
    );
    // Four output channels over two groups: channels 0,1 read input 0; 2,3 read input 1.
    let x = f32t(&[1, 2, 1, 1], &[10.0, 100.0]);
    let w = f32t(&[4, 1, 1, 1], &[1.0, 2.0, 3.0, 4.0]);
    let r = run(conv(&[1, 1], &[(0, 0), (0, 0)], &[1, 1], 2), &[&x, &w]);
    assert_exact(&r, &[1, 4, 1, 1], &[10.0, 20.0, 300.0, 400.0]);
}

#[test]
fn conv3d_with_temporal_padding() {
    let x = f32t(&[1, 1, 2, 2, 2], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
    let w = f32t(&[1, 1, 2, 2, 2], &[1.0; 8]);
    let r = run(conv(&[1, 1, 1], &[(0, 0); 3], &[1, 1, 1], 1), &[&x, &w]);
    assert_exact(&r, &[1, 1, 1, 1, 1], &[36.0]);
    // Causal-style padding in time: one zero frame before.
    let r = run(
        conv(&[1, 1, 1], &[(1, 0), (0, 0), (0, 0)], &[1, 1, 1], 1),
        &[&x, &w],
    );
    assert_exact(&r, &[1, 1, 2, 1, 1], &[10.0, 36.0]);
}

#[test]
fn linear_with_and_without_bias() {
    let x = f32t(&[2, 2], &[1.0, 2.0, 3.0, 4.0]);
    let w = f32t(&[3, 2], &[1.0, 0.0, 0.0, 1.0, 1.0, 1.0]);
    let b = f32t(&[3], &[10.0, 20.0, 30.0]);
    let r = run(Op::Linear { has_bias: true }, &[&x, &w, &b]);
    assert_exact(&r, &[2, 3], &[11.0, 22.0, 33.0, 13.0, 24.0, 37.0]);
    let r = run(Op::Linear { has_bias: false }, &[&x, &w]);
    assert_exact(&r, &[2, 3], &[1.0, 2.0, 3.0, 3.0, 4.0, 7.0]);
    let x3 = f32t(&[2, 1, 2], &[1.0, 2.0, 3.0, 4.0]);
    let r = run(Op::Linear { has_bias: false }, &[&x3, &w]);
    assert_exact(&r, &[2, 1, 3], &[1.0, 2.0, 3.0, 3.0, 4.0, 7.0]);
}
