//! Scalar f32 functions missing from `std` and the activation functions built on them.

/// Numerator coefficients (in x², highest power first) of the Eigen/XLA rational
/// approximation of erf on [-4, 4]; shared with the JIT's vectorised erf.
pub(crate) const ERF_ALPHA: [f32; 7] = [
    -2.726_142_3e-10,
    2.770_681_4e-8,
    -2.101_024e-6,
    -5.692_506_4e-5,
    -7.349_906_3e-4,
    -2.954_6e-3,
    -1.609_603_3e-2,
];

/// Denominator coefficients of the same approximation.
pub(crate) const ERF_BETA: [f32; 5] = [
    -1.456_607_2e-5,
    -2.133_740_6e-4,
    -1.682_827e-3,
    -7.373_329_3e-3,
    -1.426_474e-2,
];

/// The Gauss error function in f32: a rational minimax approximation on [-4, 4] (the one
/// Eigen and XLA use, a few ulps from the exact value), ±1 beyond.
pub fn erf(x: f32) -> f32 {
    if x.is_nan() {
        return x;
    }
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let p = ERF_ALPHA.iter().fold(0.0, |acc, &c| acc * x2 + c) * x;
    let q = ERF_BETA.iter().fold(0.0, |acc, &c| acc * x2 + c);
    p / q
}

/// GELU with the tanh approximation: `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`.
pub fn gelu_tanh(x: f32) -> f32 {
    const C: f32 = 0.797_884_6; // √(2/π)
    0.5 * x * (1.0 + (C * (x + 0.044715 * x * x * x)).tanh())
}

/// Exact GELU: `0.5·x·(1 + erf(x/√2))`.
pub fn gelu_erf(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}

/// SiLU: `x·sigmoid(x)`.
pub fn silu(x: f32) -> f32 {
    x / (1.0 + (-x).exp())
}

/// Maximum that propagates NaN (IR `max` and `reduce_max` semantics).
pub fn max_nan(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() {
        f32::NAN
    } else {
        a.max(b)
    }
}

/// Minimum that propagates NaN.
pub fn min_nan(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() {
        f32::NAN
    } else {
        a.min(b)
    }
}

/// `e^x` for `x ≤ 0` (softmax and attention weights), in a form the compiler vectorises:
/// Cephes' range reduction `x = n·ln2 + r` and degree-5 polynomial, within 2 ulps of the
/// exact value. Below -87 (e⁻⁸⁷ ≈ 1.6e-38, near the normal range's end) and at `-∞` it
/// gives 0; NaN stays NaN.
#[inline(always)]
pub fn exp_nonpos(x: f32) -> f32 {
    exp_nonpos_with::<false>(x)
}

/// [`exp_nonpos`] with its polynomial in fused multiply-adds when `FMA` (for code compiled
/// with the `fma` target feature; a rounding per step fewer, so not bit-identical).
#[inline(always)]
fn exp_nonpos_with<const FMA: bool>(x: f32) -> f32 {
    let madd = |a: f32, b: f32, c: f32| if FMA { a.mul_add(b, c) } else { a * b + c };
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Adding and subtracting 1.5·2²³ rounds to the nearest integer.
    const ROUND: f32 = 12_582_912.0;
    const P: [f32; 6] = [
        1.987_569_1e-4,
        1.398_2e-3,
        8.333_452e-3,
        4.166_579_6e-2,
        1.666_666_5e-1,
        0.5,
    ];
    let xc = if x < -87.0 { -87.0 } else { x };
    let t = xc * LOG2E + ROUND;
    let n = t - ROUND;
    let r = xc - n * LN2_HI - n * LN2_LO;
    let p = P.iter().fold(0.0, |acc, &c| madd(acc, r, c));
    let y = madd(p * r, r, r) + 1.0;
    // 2ⁿ from the integer `n` held in the low mantissa bits of `t` (integer lane ops, which
    // vectorise; `n as i32` compiles to a scalar conversion per lane). NaN inputs give a
    // meaningless scale, but `y` is NaN then.
    let n_int = t.to_bits().wrapping_sub(ROUND.to_bits());
    let scale = f32::from_bits(n_int.wrapping_add(127) << 23);
    if x < -87.0 {
        0.0
    } else {
        y * scale
    }
}

/// For a row-major block of rows of `shift.len()` columns: replaces every `e` in column `c`
/// by `exp(e - shift[c])` (`shift[c]` at least every element of the column, or `+∞`, which
/// gives zeros) and writes each column's sum to `sums`, with AVX2 code where the CPU has
/// it. The attention kernel's softmax over keys, one query per column.
pub fn exp_sub_columns(block: &mut [f32], shift: &[f32], sums: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU supports AVX2 and FMA, checked just above.
        return unsafe { exp_sub_columns_avx2(block, shift, sums) };
    }
    exp_sub_columns_portable::<false>(block, shift, sums)
}

/// [`exp_sub_columns`] compiled for AVX2 + FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn exp_sub_columns_avx2(block: &mut [f32], shift: &[f32], sums: &mut [f32]) {
    exp_sub_columns_portable::<true>(block, shift, sums)
}

#[inline(always)]
fn exp_sub_columns_portable<const FMA: bool>(block: &mut [f32], shift: &[f32], sums: &mut [f32]) {
    sums.fill(0.0);
    for row in block.chunks_exact_mut(shift.len()) {
        for ((e, &m), s) in row.iter_mut().zip(shift).zip(sums.iter_mut()) {
            *e = exp_nonpos_with::<FMA>(*e - m);
            *s += *e;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_nonpos_is_within_two_ulps() {
        for i in 0..=197_000 {
            let x = -(i as f32) * 4.4e-4;
            let want = (x as f64).exp();
            for got in [exp_nonpos(x), exp_nonpos_with::<true>(x)] {
                let got = got as f64;
                assert!(
                    (got - want).abs() <= 2.4e-7 * want,
                    "exp({x}) = {got}, want {want}"
                );
            }
        }
        for exp in [exp_nonpos, exp_nonpos_with::<true>] {
            assert_eq!(exp(f32::NEG_INFINITY), 0.0);
            assert_eq!(exp(0.0), 1.0);
            assert!(exp(f32::NAN).is_nan());
        }
    }

    #[test]
    fn column_exponentials_and_sums_match_the_scalar_exp() {
        let mut block: Vec<f32> = (0..7 * 5).map(|i| -((i * 37 % 23) as f32) * 0.3).collect();
        block[3] = f32::NEG_INFINITY;
        let shift = [0.5, 0.0, 1.0, f32::INFINITY, 0.25];
        let orig = block.clone();
        let mut sums = [9.0f32; 5];
        exp_sub_columns(&mut block, &shift, &mut sums);
        for c in 0..5 {
            let col: Vec<f32> = (0..7)
                .map(|r| match shift[c] {
                    m if m.is_infinite() => 0.0,
                    m => exp_nonpos(orig[r * 5 + c] - m),
                })
                .collect();
            let want: f32 = col.iter().sum();
            assert!(
                (sums[c] - want).abs() <= 1e-6 * want.max(1.0),
                "column {c}: {} vs {want}",
                sums[c]
            );
            for r in 0..7 {
                let (got, want) = (block[r * 5 + c], col[r]);
                assert!(
                    (got - want).abs() <= 2.4e-7 * want,
                    "({r}, {c}): {got} vs {want}"
                );
            }
        }
    }
}
