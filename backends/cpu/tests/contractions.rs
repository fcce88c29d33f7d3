//! matmul, linear and conv against the reference backend across layouts, odd sizes,
//! dtypes, strides, padding, dilation and groups.

mod common;

use common::{check, error, random, rng, run_on, FLOATS};
use hyv_backend_cpu::CpuBackend;
use hyv_ir::{DType, HostTensor, Op};

#[test]
fn matmul_matches_the_reference() {
    let mut r = rng(20);
    // (lhs, rhs): plain, batched, shared rank-2 rhs, size-1 extents, SIMD tails.
    let cases: [(&[usize], &[usize]); 8] = [
        (&[1, 1], &[1, 1]),
        (&[3, 5], &[5, 7]),
        (&[17, 33], &[33, 1]),
        (&[1, 65], &[65, 31]),
        (&[4, 9, 13], &[4, 13, 6]),
        (&[2, 3, 9, 13], &[13, 19]),
        (&[2, 2, 70, 40], &[2, 2, 40, 3]),
        (&[129, 67], &[67, 130]),
    ];
    for (a, b) in cases {
        for dtype in [DType::F32, DType::F16, DType::BF16, DType::I32, DType::I64] {
            let (x, y) = (random(&mut r, dtype, a), random(&mut r, dtype, b));
            check(&Op::MatMul, &[&x, &y]);
        }
    }
    // A large product takes the multi-threaded path.
    let (x, y) = (
        random(&mut r, DType::F32, &[300, 257]),
        random(&mut r, DType::F32, &[257, 301]),
    );
    check(&Op::MatMul, &[&x, &y]);
}

#[test]
fn linear_matches_the_reference() {
    let mut r = rng(21);
    for dtype in FLOATS {
        for (x_shape, out_f) in [(&[1, 1][..], 1), (&[3, 7][..], 5), (&[2, 5, 33][..], 17)] {
            let in_f = *x_shape.last().unwrap();
            let x = random(&mut r, dtype, x_shape);
            let w = random(&mut r, dtype, &[out_f, in_f]);
            let b = random(&mut r, dtype, &[out_f]);
            check(&Op::Linear { has_bias: false }, &[&x, &w]);
            check(&Op::Linear { has_bias: true }, &[&x, &w, &b]);
        }
    }
}

fn conv(stride: &[usize], padding: &[(usize, usize)], dilation: &[usize], groups: usize) -> Op {
    Op::Conv {
        stride: stride.to_vec(),
        padding: padding.to_vec(),
        dilation: dilation.to_vec(),
        groups,
    }
}

#[test]
fn conv1d_matches_the_reference() {
    let mut r = rng(22);
    for dtype in FLOATS {
        let x = random(&mut r, dtype, &[2, 4, 19]);
        let w = random(&mut r, dtype, &[6, 2, 3]);
        check(&conv(&[1], &[(0, 0)], &[1], 2), &[&x, &w]);
        check(&conv(&[2], &[(1, 2)], &[1], 2), &[&x, &w]);
        check(&conv(&[3], &[(2, 0)], &[2], 2), &[&x, &w]);
        let w1 = random(&mut r, dtype, &[5, 4, 1]);
        check(&conv(&[1], &[(0, 0)], &[1], 1), &[&x, &w1]);
    }
}

#[test]
fn conv2d_matches_the_reference() {
    let mut r = rng(23);
    let x = random(&mut r, DType::F32, &[2, 6, 11, 9]);
    for (groups, stride, padding, dilation) in [
        (1, [1, 1], [(1, 1), (1, 1)], [1, 1]),
        (2, [2, 1], [(0, 1), (2, 0)], [1, 2]),
        (3, [1, 3], [(2, 2), (0, 0)], [2, 1]),
        (6, [2, 2], [(1, 1), (1, 1)], [1, 1]),
        (2, [1, 1], [(0, 2), (3, 1)], [2, 3]),
        (3, [1, 1], [(0, 0), (0, 0)], [1, 1]),
    ] {
        let w = random(&mut r, DType::F32, &[6, 6 / groups, 3, 2]);
        check(&conv(&stride, &padding, &dilation, groups), &[&x, &w]);
    }
    let xb = random(&mut r, DType::BF16, &[1, 4, 8, 8]);
    let wb = random(&mut r, DType::BF16, &[8, 4, 3, 3]);
    check(&conv(&[1, 1], &[(1, 1), (1, 1)], &[1, 1], 1), &[&xb, &wb]);
}

#[test]
fn conv3d_matches_the_reference() {
    let mut r = rng(24);
    for dtype in [DType::F32, DType::F16] {
        let x = random(&mut r, dtype, &[1, 4, 5, 7, 6]);
        let w = random(&mut r, dtype, &[8, 4, 3, 3, 3]);
        // Causal VAE style: time padded on the front only.
        check(
            &conv(&[1, 1, 1], &[(2, 0), (1, 1), (1, 1)], &[1, 1, 1], 1),
            &[&x, &w],
        );
        let wg = random(&mut r, dtype, &[4, 2, 1, 3, 2]);
        check(
            &conv(&[2, 1, 2], &[(0, 0), (1, 0), (0, 1)], &[1, 2, 1], 2),
            &[&x, &wg],
        );
    }
}

#[test]
fn large_convs_match_the_reference() {
    // Stride 1: several column chunks of shifted products, two images. Stride 2: several
    // im2col bands.
    let mut r = rng(25);
    let x = random(&mut r, DType::F32, &[2, 64, 6, 24, 24]);
    let w = random(&mut r, DType::F32, &[8, 64, 3, 3, 3]);
    check(
        &conv(&[1, 1, 1], &[(1, 1), (1, 1), (1, 1)], &[1, 1, 1], 1),
        &[&x, &w],
    );
    check(
        &conv(&[1, 1, 2], &[(1, 1), (1, 1), (1, 1)], &[1, 1, 1], 1),
        &[&x, &w],
    );
}

#[test]
fn one_thread_gives_the_same_results_as_the_pool() {
    let mut r = rng(26);
    let x = random(&mut r, DType::F32, &[1, 8, 5, 20, 20]);
    let cases = [
        (
            conv(&[1, 1, 1], &[(1, 1), (1, 1), (1, 1)], &[1, 1, 1], 1),
            vec![x.clone(), random(&mut r, DType::F32, &[8, 8, 3, 3, 3])],
        ),
        (
            conv(&[2, 2, 1], &[(0, 0); 3], &[1, 1, 1], 2),
            vec![x, random(&mut r, DType::F32, &[8, 4, 3, 3, 3])],
        ),
        (
            Op::MatMul,
            vec![
                random(&mut r, DType::F32, &[300, 257]),
                random(&mut r, DType::F32, &[257, 70]),
            ],
        ),
    ];
    let single = CpuBackend::with_threads(1).unwrap();
    for (op, inputs) in cases {
        let inputs: Vec<&HostTensor> = inputs.iter().collect();
        let one = run_on(&single, &op, &inputs).unwrap();
        let pool = run_on(&CpuBackend::new(), &op, &inputs).unwrap();
        assert!(error(&one, &pool) <= 1e-6, "{op:?}");
    }
}
