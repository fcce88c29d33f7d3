//! Softmax, the norms and rotary embedding against the reference backend.

mod common;

use common::{check, random, rng, FLOATS};
use hyv_ir::{Op, F64};

#[test]
fn softmax_along_every_axis_matches_the_reference() {
    let mut r = rng(30);
    for dtype in FLOATS {
        for shape in [&[7][..], &[3, 5], &[2, 1, 33], &[4, 3, 2, 5]] {
            let x = random(&mut r, dtype, shape);
            for axis in 0..shape.len() {
                check(&Op::Softmax { axis }, &[&x]);
            }
        }
    }
}

#[test]
fn norms_match_the_reference() {
    let mut r = rng(31);
    for dtype in FLOATS {
        for shape in [&[1, 1][..], &[3, 7], &[2, 5, 33]] {
            let c = *shape.last().unwrap();
            let x = random(&mut r, dtype, shape);
            let (w, b) = (random(&mut r, dtype, &[c]), random(&mut r, dtype, &[c]));
            let eps = F64(1e-5);
            check(&Op::LayerNorm { eps, affine: false }, &[&x]);
            check(&Op::LayerNorm { eps, affine: true }, &[&x, &w, &b]);
            check(&Op::RmsNorm { eps, affine: false }, &[&x]);
            check(&Op::RmsNorm { eps, affine: true }, &[&x, &w]);
        }
        for (shape, groups) in [
            (&[2, 6, 5, 3][..], 3),
            (&[1, 4, 7][..], 4),
            (&[3, 8][..], 1),
        ] {
            let x = random(&mut r, dtype, shape);
            let c = shape[1];
            let (w, b) = (random(&mut r, dtype, &[c]), random(&mut r, dtype, &[c]));
            let eps = F64(1e-6);
            let gn = |affine| Op::GroupNorm {
                groups,
                eps,
                affine,
            };
            check(&gn(false), &[&x]);
            check(&gn(true), &[&x, &w, &b]);
        }
    }
}

#[test]
fn rope_matches_the_reference() {
    let mut r = rng(32);
    for dtype in FLOATS {
        for shape in [&[5, 2][..], &[2, 3, 7, 8], &[1, 4, 6]] {
            let n = shape.len();
            let (s, d) = (shape[n - 2], shape[n - 1]);
            let x = random(&mut r, dtype, shape);
            let cos = random(&mut r, dtype, &[s, d]);
            let sin = random(&mut r, dtype, &[s, d]);
            for interleaved in [false, true] {
                check(&Op::Rope { interleaved }, &[&x, &cos, &sin]);
            }
        }
    }
}
