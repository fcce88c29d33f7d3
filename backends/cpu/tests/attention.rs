//! The tiled online-softmax attention kernel against the reference backend: odd sizes,
//! several key and query tiles, key masks, causal masking, fully masked rows.

mod common;

use common::{check, check_tol, random, rng, run_on, typed};
use hyv_backend_cpu::CpuBackend;
use hyv_ir::{DType, HostTensor, Op, F64};

fn attention(d: usize, causal: bool, has_mask: bool) -> Op {
    Op::Attention {
        scale: F64(1.0 / (d as f64).sqrt()),
        causal,
        has_mask,
    }
}

/// Attention sizes: (batch, heads, queries, keys, head dim, value dim).
type Sizes = (usize, usize, usize, usize, usize, usize);

/// Random q, k and v of the given sizes.
fn qkv(seed: u64, dtype: DType, (b, h, sq, sk, d, dv): Sizes) -> [HostTensor; 3] {
    let mut r = rng(seed);
    [
        random(&mut r, dtype, &[b, h, sq, d]),
        random(&mut r, dtype, &[b, h, sk, d]),
        random(&mut r, dtype, &[b, h, sk, dv]),
    ]
}

#[test]
fn unmasked_and_causal_attention_match_the_reference() {
    for (i, &(b, h, sq, sk, d, dv)) in [
        (1, 1, 1, 1, 1, 1),
        (2, 3, 5, 7, 4, 6),
        (1, 2, 130, 300, 16, 8),
        (2, 1, 64, 64, 33, 33),
        (1, 1, 200, 70, 8, 5),
    ]
    .iter()
    .enumerate()
    {
        let [q, k, v] = qkv(40 + i as u64, DType::F32, (b, h, sq, sk, d, dv));
        for causal in [false, true] {
            check(&attention(d, causal, false), &[&q, &k, &v]);
        }
    }
}

#[test]
fn masked_attention_matches_the_reference() {
    let (b, h, sq, sk, d) = (3, 2, 70, 150, 8);
    let [q, k, v] = qkv(50, DType::F32, (b, h, sq, sk, d, d));
    let mut r = rng(51);
    let mut mask = random(&mut r, DType::Bool, &[b, sk]).to_f64_vec();
    // Batch 1 sees no key at all (its rows are zeros); batch 2 only keys in the second tile.
    mask[sk..2 * sk].fill(0.0);
    mask[2 * sk..2 * sk + 128].fill(0.0);
    let mask = typed(DType::Bool, &[b, sk], &mask);
    for causal in [false, true] {
        check(&attention(d, causal, true), &[&q, &k, &v, &mask]);
    }
    let out = run_on(
        &CpuBackend::new(),
        &attention(d, false, true),
        &[&q, &k, &v, &mask],
    )
    .unwrap();
    let rows = out.to_f64_vec();
    let per_batch = h * sq * d;
    assert!(rows[per_batch..2 * per_batch].iter().all(|&e| e == 0.0));
}

#[test]
fn causal_rows_without_visible_keys_are_zero() {
    // With a mask hiding key 0, query 0 under causal masking sees nothing.
    let [q, k, v] = qkv(52, DType::F32, (1, 1, 4, 4, 2, 3));
    let mask = typed(DType::Bool, &[1, 4], &[0.0, 1.0, 1.0, 1.0]);
    let op = attention(2, true, true);
    check(&op, &[&q, &k, &v, &mask]);
    let out = run_on(&CpuBackend::new(), &op, &[&q, &k, &v, &mask]).unwrap();
    assert!(out.to_f64_vec()[..3].iter().all(|&e| e == 0.0));
}

#[test]
fn half_precision_attention_matches_the_reference() {
    for dtype in [DType::F16, DType::BF16] {
        let [q, k, v] = qkv(53, dtype, (1, 2, 33, 140, 16, 16));
        check(&attention(16, false, false), &[&q, &k, &v]);
        check_tol(
            &attention(16, true, false),
            &[&q, &k, &v],
            common::tolerance(dtype),
        );
    }
}
