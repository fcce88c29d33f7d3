//! Special functions missing from `std`, in f64.

/// `2 / sqrt(pi)`.
const TWO_OVER_SQRT_PI: f64 = std::f64::consts::FRAC_2_SQRT_PI;

/// The Gauss error function, accurate to a few ulps of f64.
///
/// `|x| < 2.5`: the everywhere-convergent series with positive terms
/// `erf(x) = 2/sqrt(pi) · e^(-x²) · Σ (2x²)^n x / (1·3·…·(2n+1))` (no cancellation);
/// otherwise `1 - erfc(|x|)` with the sign of `x`.
pub fn erf(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    let a = x.abs();
    let r = if a < 2.5 {
        let x2 = 2.0 * a * a;
        let (mut term, mut sum, mut n) = (a, a, 0.0);
        while term > sum * 1e-18 {
            n += 1.0;
            term *= x2 / (2.0 * n + 1.0);
            sum += term;
        }
        TWO_OVER_SQRT_PI * (-a * a).exp() * sum
    } else {
        1.0 - erfc(a)
    };
    r.copysign(x)
}

/// The complementary error function `1 - erf(x)`, accurate in the far tail too.
///
/// `x ≥ 2.5`: Laplace's continued fraction
/// `erfc(x) = e^(-x²)/sqrt(pi) / (x + (1/2)/(x + (2/2)/(x + (3/2)/(x + …))))`,
/// evaluated backwards from 120 terms; below that, `1 - erf(x)`.
pub fn erfc(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x < 2.5 {
        return 1.0 - erf(x);
    }
    let mut t = x;
    for k in (1..=120).rev() {
        t = x + (k as f64 / 2.0) / t;
    }
    (-x * x).exp() / (std::f64::consts::PI.sqrt() * t)
}
