//! Vectorised transcendental functions as f32x4 Cranelift IR: range reduction plus
//! minimax/Taylor polynomials (Cephes' single-precision coefficients), with the special
//! values handled by lane masks.
//!
//! Measured maximum errors against f64 (`std`, and a series/continued-fraction erf) in
//! `tests/jit.rs`, over dense sweeps (4M evenly spaced points unless stated), on the Zen 5
//! development machine (FMA used); the tests assert bounds a little above these:
//!
//! | function | sweep | max error | specials |
//! |---|---|---|---|
//! | exp | [-104, 89] | 1.002 ulp | inf above 88.72; subnormal results (e⁻¹⁰⁰ = 3.8e-44) rounded once; 0 below -103.98 and at -inf; exp(±0) = 1 |
//! | log | every 61st bit pattern from the smallest subnormal to f32::MAX | 0.795 ulp | log(±0) = -inf, log(<0) = NaN, log(inf) = inf |
//! | tanh | [-20, 20]; [-2e-3, 2e-3] | 1.256 ulp; 0.5 ulp | ±1 beyond ±9 and at ±inf; tanh(-0) = -0 |
//! | erf | [-20, 20] | 3.73e-7 absolute (the Eigen/XLA rational's own error, near 3.87) | exactly ±1 beyond ±3.9 and at ±inf |
//! | sigmoid | [-20, 20] | 2.47 ulp | 1 at inf, 0 at -inf |
//! | silu | [-20, 20] | 2.40 ulp | NaN at -inf (as the scalar kernel) |
//! | gelu (tanh) | [-6, 6] (2M points) | 4.3e-7 absolute | |
//! | gelu (erf) | [-6, 6] (2M points) | 1.32e-6 absolute (≤ 3 ulp of the result) | |
//! | sin, cos | [-1e4, 1e4] | 7.74e-8, 7.83e-8 absolute | NaN at ±inf |
//! | sin; cos | [-3, 3]; [-1.5, 1.5] (1M points) | 1.31 ulp; 1.47 ulp | |
//!
//! Code without FMA ([`super::JitCompiler::without_fma`], 1M-point sweeps): exp 0.99 ulp,
//! log 0.80 ulp, tanh 1.25 ulp, sin 1.32 ulp on [-3, 3], sin/cos 7.7e-8 absolute on
//! [-1e4, 1e4].
//!
//! sin/cos reduce by π/2 with a three-part Cody–Waite constant and round the quotient with
//! the 1.5·2²³ trick, so they work while |x|·2/π < 2²² (|x| ≤ 6.59e6): measured max
//! absolute errors 7.8e-8 on [1e4, 1e5], 1.1e-7 on [1e5, 1e6], 6.0e-6 on [1e6, 6e6].
//! Beyond 6.59e6 (and at ±inf, NaN) they return NaN rather than a wrong value. pow is
//! `exp(b·log|a|)` with C `powf`'s special cases, so its relative error grows with
//! `|b·log a|` (about `|b·log a|·2⁻²⁴`).

use super::simd::Simd;
use crate::kernels::fmath::{ERF_ALPHA, ERF_BETA};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::types::F32X4;
use cranelift_codegen::ir::{InstBuilder, Value};

/// `e^x`: `x = n·ln2 + r` with |r| ≤ ln2/2, a degree-7 polynomial, and `2^n` applied as two
/// halves so results down to the subnormal range round once.
pub fn exp(s: &mut Simd, x: Value) -> Value {
    const P: [f32; 6] = [
        1.987_569_1e-4,
        1.398_2e-3,
        8.333_452e-3,
        4.166_579_6e-2,
        1.666_666_5e-1,
        0.5,
    ];
    let xc = s.clamp(x, -104.0, 89.0);
    let t = s.mul_k(xc, std::f32::consts::LOG2_E);
    let (n, ni) = s.round(t);
    let r = s.madd_k(n, -0.693_359_4, xc);
    let r = s.madd_k(n, 2.121_944_4e-4, r);
    let p = s.poly(r, &P);
    let r2 = s.mul(r, r);
    let y = s.madd(p, r2, r);
    let y = s.add_k(y, 1.0);
    let n1 = s.sshr(ni, 1);
    let n2 = s.b.ins().isub(ni, n1);
    let s1 = s.pow2(n1);
    let s2 = s.pow2(n2);
    let y = s.mul(y, s1);
    s.mul(y, s2)
}

/// Natural logarithm: `x = m·2^e` with m in [√½, √2), `log(1 + f)` by a degree-9
/// polynomial, subnormals scaled by 2²³ first.
pub fn log(s: &mut Simd, x: Value) -> Value {
    const P: [f32; 9] = [
        7.037_683_6e-2,
        -1.151_461e-1,
        1.167_699_9e-1,
        -1.242_014_1e-1,
        1.424_932_3e-1,
        -1.666_805_8e-1,
        2.000_071_4e-1,
        -2.499_999_4e-1,
        0.333_333_3,
    ];
    let sub = s.fcmp_k(FloatCC::LessThan, x, f32::MIN_POSITIVE);
    let scaled = s.mul_k(x, 8_388_608.0);
    let xs = s.select(sub, scaled, x);
    let adj = s.i(-23);
    let zero = s.i(0);
    let adj = s.iselect(sub, adj, zero);
    let bits = s.bits(xs);
    let e = s.ushr(bits, 23);
    let e = s.iadd_k(e, -126);
    let e = s.b.ins().iadd(e, adj);
    let m = s.and_k(bits, 0x007f_ffff);
    let m = s.or_k(m, 0x3f00_0000);
    let m = s.float(m);
    let e = s.b.ins().fcvt_from_sint(F32X4, e);
    let small = s.fcmp_k(FloatCC::LessThan, m, std::f32::consts::FRAC_1_SQRT_2);
    let e1 = s.add_k(e, -1.0);
    let e = s.select(small, e1, e);
    let m2 = s.add(m, m);
    let m = s.select(small, m2, m);
    let m = s.add_k(m, -1.0);
    let z = s.mul(m, m);
    let p = s.poly(m, &P);
    let mz = s.mul(m, z);
    let y = s.mul(mz, p);
    let y = s.madd_k(e, -2.121_944_4e-4, y);
    let y = s.madd_k(z, -0.5, y);
    let r = s.add(m, y);
    let r = s.madd_k(e, 0.693_359_4, r);
    let inf = s.fcmp_k(FloatCC::Equal, x, f32::INFINITY);
    let r = s.select_k(inf, f32::INFINITY, r);
    let zero = s.fcmp_k(FloatCC::Equal, x, 0.0);
    let r = s.select_k(zero, f32::NEG_INFINITY, r);
    let ok = s.fcmp_k(FloatCC::GreaterThanOrEqual, x, 0.0);
    let nan = s.f(f32::NAN);
    s.select(ok, r, nan)
}

/// Hyperbolic tangent: an odd polynomial below |x| = 0.625, `1 - 2/(e^{2|x|} + 1)` with the
/// sign of `x` above (|x| clamped to 10, where the result is ±1 in f32).
pub fn tanh(s: &mut Simd, x: Value) -> Value {
    const P: [f32; 5] = [
        -5.704_988_7e-3,
        2.063_908_8e-2,
        -5.373_971_6e-2,
        1.333_144_2e-1,
        -0.333_332_8,
    ];
    let ax = s.b.ins().fabs(x);
    let z = s.mul(x, x);
    let p = s.poly(z, &P);
    let xz = s.mul(x, z);
    let small = s.madd(xz, p, x);
    let axc = s.clamp(ax, 0.0, 10.0);
    let two = s.add(axc, axc);
    let e = exp(s, two);
    let e1 = s.add_k(e, 1.0);
    let two = s.f(2.0);
    let q = s.div(two, e1);
    let one = s.f(1.0);
    let large = s.sub(one, q);
    let is_small = s.fcmp_k(FloatCC::LessThan, ax, 0.625);
    let r = s.select(is_small, small, large);
    // tanh is odd: the sign of x (also for -0, which the polynomial turns into +0).
    s.copysign(r, x)
}

/// The Gauss error function: the Eigen/XLA rational approximation (the one
/// `kernels::fmath::erf` uses) on [-3.9, 3.9], exactly ±1 beyond (where the true value
/// rounds to ±1 in f32; the rational is 1 ulp short there).
pub fn erf(s: &mut Simd, x: Value) -> Value {
    let x = s.clamp(x, -4.0, 4.0);
    let x2 = s.mul(x, x);
    let p = s.poly(x2, &ERF_ALPHA);
    let p = s.mul(p, x);
    let q = s.poly(x2, &ERF_BETA);
    let r = s.div(p, q);
    let ax = s.b.ins().fabs(x);
    let big = s.fcmp_k(FloatCC::GreaterThan, ax, 3.9);
    let one = s.f(1.0);
    let one = s.copysign(one, x);
    s.select(big, one, r)
}

/// Sine (`cos = false`) or cosine (`cos = true`): `x = j·π/2 + r` with |r| ≤ π/4 by a
/// three-part Cody–Waite reduction, the sine or cosine polynomial of `r` picked and signed
/// by the quadrant `j mod 4`.
pub fn sin_cos(s: &mut Simd, x: Value, cos: bool) -> Value {
    const SIN: [f32; 3] = [-1.951_529_6e-4, 8.332_161e-3, -1.666_665_5e-1];
    const COS: [f32; 3] = [2.443_315_7e-5, -1.388_731_6e-3, 4.166_664_6e-2];
    let t = s.mul_k(x, std::f32::consts::FRAC_2_PI);
    let (j, ji) = s.round(t);
    let r = s.madd_k(j, -1.570_312_5, x);
    let r = s.madd_k(j, -4.837_513e-4, r);
    let r = s.madd_k(j, -7.549_79e-8, r);
    let z = s.mul(r, r);
    let ps = s.poly(z, &SIN);
    let rz = s.mul(r, z);
    let sin = s.madd(rz, ps, r);
    let pc = s.poly(z, &COS);
    let zz = s.mul(z, z);
    let half = s.mul_k(z, -0.5);
    let c = s.madd(zz, pc, half);
    let cos_r = s.add_k(c, 1.0);
    let q = if cos { s.iadd_k(ji, 1) } else { ji };
    let odd = s.and_k(q, 1);
    let zero = s.i(0);
    let swap = s.icmp(IntCC::NotEqual, odd, zero);
    let v = s.select(swap, cos_r, sin);
    let neg = s.and_k(q, 2);
    let neg = s.shl(neg, 30);
    let vb = s.bits(v);
    let vb = s.b.ins().bxor(vb, neg);
    let v = s.float(vb);
    // Past 2²²·π/2 the quotient no longer rounds right: say so with NaN, not garbage.
    let ax = s.b.ins().fabs(x);
    let out = s.fcmp_k(FloatCC::GreaterThan, ax, SIN_COS_LIMIT);
    s.select_k(out, f32::NAN, v)
}

/// The largest |x| [`sin_cos`] reduces correctly, just below 2²²·π/2.
const SIN_COS_LIMIT: f32 = 6_588_397.0;

/// `1 / (1 + e^-x)`.
pub fn sigmoid(s: &mut Simd, x: Value) -> Value {
    let nx = s.b.ins().fneg(x);
    let e = exp(s, nx);
    let d = s.add_k(e, 1.0);
    let one = s.f(1.0);
    s.div(one, d)
}

/// SiLU as the CPU kernels write it, `x / (1 + e^-x)` (so NaN at -inf, like them).
pub fn silu(s: &mut Simd, x: Value) -> Value {
    let nx = s.b.ins().fneg(x);
    let e = exp(s, nx);
    let d = s.add_k(e, 1.0);
    s.div(x, d)
}

/// GELU with the tanh approximation, `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`.
pub fn gelu_tanh(s: &mut Simd, x: Value) -> Value {
    let x2 = s.mul(x, x);
    let x3 = s.mul(x2, x);
    let inner = s.madd_k(x3, 0.044715, x);
    let inner = s.mul_k(inner, 0.797_884_6);
    let t = tanh(s, inner);
    let t = s.add_k(t, 1.0);
    let hx = s.mul_k(x, 0.5);
    s.mul(hx, t)
}

/// Exact GELU, `0.5·x·(1 + erf(x/√2))`.
pub fn gelu_erf(s: &mut Simd, x: Value) -> Value {
    let xs = s.mul_k(x, std::f32::consts::FRAC_1_SQRT_2);
    let e = erf(s, xs);
    let e = s.add_k(e, 1.0);
    let hx = s.mul_k(x, 0.5);
    s.mul(hx, e)
}

/// `a^b = exp(b·log|a|)`, negated for a negative `a` and odd integer `b`, NaN for a finite
/// negative `a` and non-integer `b`, and 1 when `b = 0`, `a = 1` or `a = -1, b = ±inf`
/// (C `powf`'s special cases).
pub fn pow(s: &mut Simd, a: Value, b: Value) -> Value {
    let aa = s.b.ins().fabs(a);
    let l = log(s, aa);
    let bl = s.mul(b, l);
    let e = exp(s, bl);
    // Integer and odd exponents (±inf counts as an even integer).
    let fb = s.b.ins().floor(b);
    let int = s.fcmp(FloatCC::Equal, fb, b);
    let hb = s.mul_k(b, 0.5);
    let fhb = s.b.ins().floor(hb);
    let even = s.fcmp(FloatCC::Equal, fhb, hb);
    let odd = s.b.ins().band_not(int, even);
    let ab = s.bits(a);
    let zero = s.i(0);
    let neg = s.icmp(IntCC::SignedLessThan, ab, zero);
    let flip = s.b.ins().band(neg, odd);
    let ne = s.b.ins().fneg(e);
    let r = s.select(flip, ne, e);
    let lt0 = s.fcmp_k(FloatCC::LessThan, a, 0.0);
    let fin = s.fcmp_k(FloatCC::GreaterThan, a, f32::NEG_INFINITY);
    let bad = s.b.ins().band(lt0, fin);
    let bad = s.b.ins().band_not(bad, int);
    let r = s.select_k(bad, f32::NAN, r);
    let b0 = s.fcmp_k(FloatCC::Equal, b, 0.0);
    let a1 = s.fcmp_k(FloatCC::Equal, a, 1.0);
    let am1 = s.fcmp_k(FloatCC::Equal, a, -1.0);
    let ab_ = s.b.ins().fabs(b);
    let binf = s.fcmp_k(FloatCC::Equal, ab_, f32::INFINITY);
    let m1inf = s.b.ins().band(am1, binf);
    let one = s.b.ins().bor(b0, a1);
    let one = s.b.ins().bor(one, m1inf);
    s.select_k(one, 1.0, r)
}
