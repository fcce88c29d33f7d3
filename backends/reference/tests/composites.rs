//! Composite ops run directly, against hand-computed values.

mod common;
use common::*;
use hyv_backend_reference::{erf, erfc};
use hyv_ir::{DType, Op, F64};

const TOL: f64 = 1e-6;

#[test]
fn erf_and_erfc_match_known_values() {
    let cases = [
        (0.1, 0.1124629160182849),
        (0.5, 0.5204998778130465),
        (1.0, 0.8427007929497149),
        (2.0, 0.9953222650189527),
        (2.5, 0.999593047982555),
        (3.0, 0.9999779095030014),
        (-1.0, -0.8427007929497149),
    ];
    for (x, want) in cases {
        assert!((erf(x) - want).abs() < 1e-15, "erf({x}) = {}", erf(x));
    }
    for (x, want) in [
        (3.0, 2.2090496998585438e-05),
        (4.0, 1.541725790028002e-08),
        (5.0, 1.5374597944280351e-12),
        (6.0, 2.1519736712498916e-17),
    ] {
        assert!(
            ((erfc(x) - want) / want).abs() < 1e-13,
            "erfc({x}) = {}",
            erfc(x)
        );
    }
    assert_eq!(erf(f64::INFINITY), 1.0);
    assert_eq!(erf(f64::NEG_INFINITY), -1.0);
    assert!(erf(f64::NAN).is_nan());
}

#[test]
fn softmax_along_last_and_first_axis() {
    let x = f32t(&[1, 3], &[1.0, 2.0, 3.0]);
    let r = run(Op::Softmax { axis: 1 }, &[&x]);
    assert_close(
        &r,
        &[1, 3],
        &[0.09003057317038046, 0.24472847105479767, 0.6652409557748219],
        TOL,
    );
    let y = f32t(&[2, 2], &[0.0, 1.0, 0.0, 3.0]);
    let r = run(Op::Softmax { axis: 0 }, &[&y]);
    assert_close(
        &r,
        &[2, 2],
        &[0.5, 0.11920292202211755, 0.5, 0.8807970779778823],
        TOL,
    );
    let big = f32t(&[2], &[1000.0, 1000.0]);
    assert_close(
        &run(Op::Softmax { axis: 0 }, &[&big]),
        &[2],
        &[0.5, 0.5],
        TOL,
    );
}

#[test]
fn layer_norm_plain_affine_and_eps() {
    let x = f32t(&[1, 4], &[1.0, 2.0, 3.0, 4.0]);
    let plain = Op::LayerNorm {
        eps: F64(0.0),
        affine: false,
    };
    let s = 1.0 / 1.25f64.sqrt();
    assert_close(
        &run(plain, &[&x]),
        &[1, 4],
        &[-1.5 * s, -0.5 * s, 0.5 * s, 1.5 * s],
        TOL,
    );
    let affine = Op::LayerNorm {
        eps: F64(0.0),
        affine: true,
    };
    let w = f32t(&[4], &[1.0, 2.0, 1.0, 2.0]);
    let b = f32t(&[4], &[0.0, 0.0, 1.0, 1.0]);
    assert_close(
        &run(affine, &[&x, &w, &b]),
        &[1, 4],
        &[-1.5 * s, -s, 0.5 * s + 1.0, 3.0 * s + 1.0],
        TOL,
    );
    let eps = Op::LayerNorm {
        eps: F64(1e-5),
        affine: false,
    };
    assert_close(
        &run(eps, &[&x]),
        &[1, 4],
        &[
            -1.3416354199689269,
            -0.447211806656309,
            0.447211806656309,
            1.3416354199689269,
        ],
        TOL,
    );
    // Rows are normalised independently.
    let rows = f32t(&[2, 2], &[1.0, 3.0, 10.0, 10.0]);
    let r = run(
        Op::LayerNorm {
            eps: F64(0.0),
            affine: false,
        },
        &[&rows],
    );
    let r = r.to_f64_vec();
    assert_close(
        &f32t(&[2], &[r[0] as f32, r[1] as f32]),
        &[2],
        &[-1.0, 1.0],
        TOL,
    );
    assert!(r[2].is_nan() && r[3].is_nan(), "0/0 with eps 0: {r:?}");
}

#[test]
fn rms_norm_plain_and_affine() {
    let x = f32t(&[2], &[3.0, 4.0]);
    let plain = Op::RmsNorm {
        eps: F64(0.0),
        affine: false,
    };
    let rms = 12.5f64.sqrt();
    assert_close(&run(plain, &[&x]), &[2], &[3.0 / rms, 4.0 / rms], TOL);
    let affine = Op::RmsNorm {
        eps: F64(1.5),
        affine: true,
    };
    let w = f32t(&[2], &[2.0, 0.5]);
    let rms = 14.0f64.sqrt();
    assert_close(&run(affine, &[&x, &w]), &[2], &[6.0 / rms, 2.0 / rms], TOL);
}

#[test]
fn rms_norm_in_f16_does_not_overflow() {
    // The mean square 125000 exceeds f16's range; computed wide, the result is finite.
    let x = typed(DType::F16, &[2], &[300.0, 400.0]);
    let op = Op::RmsNorm {
        eps: F64(0.0),
        affine: false,
    };
    let r = run(op, &[&x]);
    assert_eq!(r.dtype(), DType::F16);
    // 0.848528… and 1.131370… rounded to f16.
    assert_exact(&r, &[2], &[0.8486328125, 1.1318359375]);
}

#[test]
fn group_norm_over_channel_groups() {
    let x = f32t(&[1, 4, 1], &[1.0, 2.0, 3.0, 5.0]);
    let op = Op::GroupNorm {
        groups: 2,
        eps: F64(0.0),
        affine: false,
    };
    assert_close(&run(op, &[&x]), &[1, 4, 1], &[-1.0, 1.0, -1.0, 1.0], TOL);
    let op = Op::GroupNorm {
        groups: 2,
        eps: F64(0.0),
        affine: true,
    };
    let w = f32t(&[4], &[1.0, 2.0, 3.0, 4.0]);
    let b = f32t(&[4], &[0.0, 0.0, 0.0, 1.0]);
    assert_close(
        &run(op, &[&x, &w, &b]),
        &[1, 4, 1],
        &[-1.0, 2.0, -3.0, 5.0],
        TOL,
    );
    // One group over channels and space, two samples normalised separately.
    let y = f32t(&[2, 2, 2], &[1.0, 2.0, 3.0, 4.0, 0.0, 0.0, 2.0, 2.0]);
    let op = Op::GroupNorm {
        groups: 1,
        eps: F64(0.0),
        affine: false,
    };
    let s = 1.0 / 1.25f64.sqrt();
    assert_close(
        &run(op, &[&y]),
        &[2, 2, 2],
        &[-1.5 * s, -0.5 * s, 0.5 * s, 1.5 * s, -1.0, -1.0, 1.0, 1.0],
        TOL,
    );
}

#[test]
fn gelu_tanh_and_erf_forms() {
    let x = f32t(&[5], &[-1.0, 0.0, 1.0, 2.0, -4.0]);
    let tanh = run(Op::Gelu { tanh: true }, &[&x]);
    assert_close(
        &tanh,
        &[5],
        &[
            -0.15880800939172324,
            0.0,
            0.8411919906082768,
            1.954597694087775,
            -7.024594819227126e-05,
        ],
        TOL,
    );
    let exact = run(Op::Gelu { tanh: false }, &[&x]);
    assert_close(
        &exact,
        &[5],
        &[
            -0.15865525393145707,
            0.0,
            0.8413447460685429,
            1.9544997361036416,
            -0.00012668496733247991,
        ],
        TOL,
    );
    // Far tail: 0.5·x·erfc(10/√2) = -7.6198530e-23, still accurate relative to its size.
    let tail = run(Op::Gelu { tanh: false }, &[&f32t(&[1], &[-10.0])]).to_f64_vec()[0];
    assert!(
        ((tail + 7.619853024160593e-23) / 7.619853024160593e-23).abs() < 1e-6,
        "{tail}"
    );
}

#[test]
fn silu_is_x_times_sigmoid() {
    let x = f32t(&[3], &[-1.0, 0.0, 2.0]);
    assert_close(
        &run(Op::Silu, &[&x]),
        &[3],
        &[-0.2689414213699951, 0.0, 1.7615941559557646],
        TOL,
    );
}

fn attention(causal: bool, has_mask: bool) -> Op {
    Op::Attention {
        scale: F64(1.0),
        causal,
        has_mask,
    }
}

#[test]
fn attention_plain_causal_and_masked() {
    let q = f32t(&[1, 1, 2, 1], &[1.0, 2.0]);
    let k = f32t(&[1, 1, 2, 1], &[1.0, 0.0]);
    let v = f32t(&[1, 1, 2, 1], &[10.0, 20.0]);
    // Row 0: scores (1, 0); row 1: scores (2, 0).
    let (r0, r1) = (12.689414213699951, 11.192029220221176);
    assert_close(
        &run(attention(false, false), &[&q, &k, &v]),
        &[1, 1, 2, 1],
        &[r0, r1],
        TOL,
    );
    assert_close(
        &run(attention(true, false), &[&q, &k, &v]),
        &[1, 1, 2, 1],
        &[10.0, r1],
        TOL,
    );
    let mask = boolt(&[1, 2], &[false, true]);
    assert_close(
        &run(attention(false, true), &[&q, &k, &v, &mask]),
        &[1, 1, 2, 1],
        &[20.0, 20.0],
        TOL,
    );
    // Causal and masked: query 0 sees no key at all and yields zeros.
    assert_close(
        &run(attention(true, true), &[&q, &k, &v, &mask]),
        &[1, 1, 2, 1],
        &[0.0, 20.0],
        TOL,
    );
    let none = boolt(&[1, 2], &[false, false]);
    assert_close(
        &run(attention(false, true), &[&q, &k, &v, &none]),
        &[1, 1, 2, 1],
        &[0.0, 0.0],
        TOL,
    );
}

#[test]
fn attention_scale_heads_and_value_width() {
    // Two heads, Sq = 1, Sk = 2, D = 2, Dv = 2, scale 0.5. Head 0 scores (1, 1) → equal
    // weights; head 1 scores 0.5·(2, 0) = (1, 0).
    let q = f32t(&[1, 2, 1, 2], &[1.0, 1.0, 2.0, 0.0]);
    let k = f32t(&[1, 2, 2, 2], &[1.0, 1.0, 2.0, 0.0, 1.0, 0.0, 0.0, 1.0]);
    let v = f32t(&[1, 2, 2, 2], &[1.0, 2.0, 3.0, 4.0, 10.0, 0.0, 0.0, 10.0]);
    let op = Op::Attention {
        scale: F64(0.5),
        causal: false,
        has_mask: false,
    };
    let w = 1.0f64.exp() / (1.0f64.exp() + 1.0);
    assert_close(
        &run(op, &[&q, &k, &v]),
        &[1, 2, 1, 2],
        &[2.0, 3.0, 10.0 * w, 10.0 * (1.0 - w)],
        TOL,
    );
}

#[test]
fn rope_interleaved_and_half_split() {
    let x = f32t(&[1, 4], &[1.0, 2.0, 3.0, 4.0]);
    let cos = f32t(&[1, 4], &[0.5, 0.5, 1.0, 1.0]);
    let sin = f32t(&[1, 4], &[0.1, 0.2, 0.3, 0.4]);
    // rot = (-2, 1, -4, 3)
    let r = run(Op::Rope { interleaved: true }, &[&x, &cos, &sin]);
    assert_close(&r, &[1, 4], &[0.3, 1.2, 1.8, 5.2], TOL);
    // rot = (-3, -4, 1, 2)
    let r = run(Op::Rope { interleaved: false }, &[&x, &cos, &sin]);
    assert_close(&r, &[1, 4], &[0.2, 0.2, 3.3, 4.8], TOL);
}

#[test]
fn rope_uses_the_row_of_each_position() {
    // Batch 2, S 2, D 2: position 0 keeps x, position 1 rotates it by 90°.
    let x = f32t(&[2, 2, 2], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
    let cos = f32t(&[2, 2], &[1.0, 1.0, 0.0, 0.0]);
    let sin = f32t(&[2, 2], &[0.0, 0.0, 1.0, 1.0]);
    for interleaved in [true, false] {
        let r = run(Op::Rope { interleaved }, &[&x, &cos, &sin]);
        assert_exact(&r, &[2, 2, 2], &[1.0, 2.0, -4.0, 3.0, 5.0, 6.0, -8.0, 7.0]);
    }
}

#[test]
fn upsample_nearest_repeats_elements() {
    let x = f32t(&[1, 1, 2], &[1.0, 2.0]);
    let r = run(Op::UpsampleNearest { scale: vec![2] }, &[&x]);
    assert_exact(&r, &[1, 1, 4], &[1.0, 1.0, 2.0, 2.0]);
    let y = i32t(&[1, 1, 2, 2], &[1, 2, 3, 4]);
    let r = run(Op::UpsampleNearest { scale: vec![2, 3] }, &[&y]);
    let want = [
        1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4,
    ]
    .map(f64::from);
    assert_exact(&r, &[1, 1, 4, 6], &want);
    let z = f32t(&[1, 2, 1, 1, 1], &[5.0, 6.0]);
    let r = run(
        Op::UpsampleNearest {
            scale: vec![2, 1, 1],
        },
        &[&z],
    );
    assert_exact(&r, &[1, 2, 2, 1, 1], &[5.0, 5.0, 6.0, 6.0]);
}
