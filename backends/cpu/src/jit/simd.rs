//! Building blocks for f32x4/i32x4 Cranelift IR: splatted constants, bit casts, masks and
//! selects, Horner polynomials, and a multiply-add that uses FMA when the host has it.

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::types::{F32X4, I32, I32X4};
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Value};
use cranelift_frontend::FunctionBuilder;

/// An f32x4 instruction emitter over a function builder. Masks are i32x4 lanes of all ones
/// (true) or zeros (false), as vector `fcmp`/`icmp` produce them.
pub struct Simd<'a, 'f> {
    /// The builder positioned where instructions go.
    pub b: &'a mut FunctionBuilder<'f>,
    /// Whether `fma` lowers to a single instruction on this host.
    pub fma: bool,
}

impl Simd<'_, '_> {
    /// `v` in every f32 lane.
    pub fn f(&mut self, v: f32) -> Value {
        let s = self.b.ins().f32const(v);
        self.b.ins().splat(F32X4, s)
    }

    /// `v` in every i32 lane.
    pub fn i(&mut self, v: i32) -> Value {
        let s = self.b.ins().iconst(I32, i64::from(v));
        self.b.ins().splat(I32X4, s)
    }

    /// The bits of an f32x4 as an i32x4.
    pub fn bits(&mut self, x: Value) -> Value {
        self.b.ins().bitcast(I32X4, MemFlagsData::new(), x)
    }

    /// The bits of an i32x4 as an f32x4.
    pub fn float(&mut self, x: Value) -> Value {
        self.b.ins().bitcast(F32X4, MemFlagsData::new(), x)
    }

    /// `a + b` (floats).
    pub fn add(&mut self, a: Value, b: Value) -> Value {
        self.b.ins().fadd(a, b)
    }

    /// `a - b` (floats).
    pub fn sub(&mut self, a: Value, b: Value) -> Value {
        self.b.ins().fsub(a, b)
    }

    /// `a * b` (floats).
    pub fn mul(&mut self, a: Value, b: Value) -> Value {
        self.b.ins().fmul(a, b)
    }

    /// `a / b` (floats).
    pub fn div(&mut self, a: Value, b: Value) -> Value {
        self.b.ins().fdiv(a, b)
    }

    /// `a * b + c`, fused (one rounding) where the host has FMA.
    pub fn madd(&mut self, a: Value, b: Value, c: Value) -> Value {
        if self.fma {
            self.b.ins().fma(a, b, c)
        } else {
            let p = self.b.ins().fmul(a, b);
            self.b.ins().fadd(p, c)
        }
    }

    /// `a * k + c` for a constant `k`.
    pub fn madd_k(&mut self, a: Value, k: f32, c: Value) -> Value {
        let k = self.f(k);
        self.madd(a, k, c)
    }

    /// `x * k` for a constant `k`.
    pub fn mul_k(&mut self, x: Value, k: f32) -> Value {
        let k = self.f(k);
        self.mul(x, k)
    }

    /// `x + k` for a constant `k`.
    pub fn add_k(&mut self, x: Value, k: f32) -> Value {
        let k = self.f(k);
        self.add(x, k)
    }

    /// `c[0]·x^(n-1) + … + c[n-1]` by Horner's rule (coefficients highest degree first).
    pub fn poly(&mut self, x: Value, c: &[f32]) -> Value {
        let mut acc = self.f(c[0]);
        for &k in &c[1..] {
            let k = self.f(k);
            acc = self.madd(acc, x, k);
        }
        acc
    }

    /// Lane mask of the float comparison `a cc b`.
    pub fn fcmp(&mut self, cc: FloatCC, a: Value, b: Value) -> Value {
        self.b.ins().fcmp(cc, a, b)
    }

    /// Lane mask of `a cc k` for a constant `k`.
    pub fn fcmp_k(&mut self, cc: FloatCC, a: Value, k: f32) -> Value {
        let k = self.f(k);
        self.fcmp(cc, a, k)
    }

    /// Lane mask of the integer comparison `a cc b`.
    pub fn icmp(&mut self, cc: IntCC, a: Value, b: Value) -> Value {
        self.b.ins().icmp(cc, a, b)
    }

    /// Float lanes of `a` where `mask` is set, else of `b`.
    pub fn select(&mut self, mask: Value, a: Value, b: Value) -> Value {
        let m = self.float(mask);
        self.b.ins().bitselect(m, a, b)
    }

    /// Float lanes of the constant `k` where `mask` is set, else of `b`.
    pub fn select_k(&mut self, mask: Value, k: f32, b: Value) -> Value {
        let k = self.f(k);
        self.select(mask, k, b)
    }

    /// Integer lanes of `a` where `mask` is set, else of `b`.
    pub fn iselect(&mut self, mask: Value, a: Value, b: Value) -> Value {
        self.b.ins().bitselect(mask, a, b)
    }

    /// `x` with lanes above `hi` replaced by `hi` and lanes below `lo` by `lo`; NaN stays.
    pub fn clamp(&mut self, x: Value, lo: f32, hi: f32) -> Value {
        let above = self.fcmp_k(FloatCC::GreaterThan, x, hi);
        let x = self.select_k(above, hi, x);
        let below = self.fcmp_k(FloatCC::LessThan, x, lo);
        self.select_k(below, lo, x)
    }

    /// Rounds `x` (|x| < 2²²) to the nearest integer, ties to even, returning it as a float
    /// and as an i32x4: adding 1.5·2²³ leaves the integer in the low mantissa bits.
    pub fn round(&mut self, x: Value) -> (Value, Value) {
        const MAGIC: f32 = 12_582_912.0;
        let t = self.add_k(x, MAGIC);
        let n = self.add_k(t, -MAGIC);
        let tb = self.bits(t);
        let ni = self.iadd_k(tb, -0x4B40_0000);
        (n, ni)
    }

    /// `a + k` (integers, wrapping).
    pub fn iadd_k(&mut self, a: Value, k: i32) -> Value {
        let k = self.i(k);
        self.b.ins().iadd(a, k)
    }

    /// `a & k` (integers).
    pub fn and_k(&mut self, a: Value, k: i32) -> Value {
        let k = self.i(k);
        self.b.ins().band(a, k)
    }

    /// `a | k` (integers).
    pub fn or_k(&mut self, a: Value, k: i32) -> Value {
        let k = self.i(k);
        self.b.ins().bor(a, k)
    }

    /// `a << s` (integers).
    pub fn shl(&mut self, a: Value, s: u8) -> Value {
        let s = self.b.ins().iconst(I32, i64::from(s));
        self.b.ins().ishl(a, s)
    }

    /// `a >> s`, logical (integers).
    pub fn ushr(&mut self, a: Value, s: u8) -> Value {
        let s = self.b.ins().iconst(I32, i64::from(s));
        self.b.ins().ushr(a, s)
    }

    /// `a >> s`, arithmetic (integers).
    pub fn sshr(&mut self, a: Value, s: u8) -> Value {
        let s = self.b.ins().iconst(I32, i64::from(s));
        self.b.ins().sshr(a, s)
    }

    /// `2^n` for integer lanes `n` in [-126, 127], built from the exponent bits.
    pub fn pow2(&mut self, n: Value) -> Value {
        let e = self.iadd_k(n, 127);
        let e = self.shl(e, 23);
        self.float(e)
    }

    /// `|x|` with the sign bit of `s`.
    pub fn copysign(&mut self, x: Value, s: Value) -> Value {
        let xb = self.bits(x);
        let mag = self.and_k(xb, 0x7fff_ffff);
        let sb = self.bits(s);
        let sign = self.and_k(sb, i32::MIN);
        let r = self.b.ins().bor(mag, sign);
        self.float(r)
    }

    /// The scalar f32 in lane 0 of `x`, copied to every lane.
    pub fn broadcast_lane0(&mut self, x: Value) -> Value {
        let s = self.b.ins().extractlane(x, 0);
        self.b.ins().splat(F32X4, s)
    }
}
