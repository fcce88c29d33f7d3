//! f16/bf16 ↔ f32 conversions on i32x4 lanes holding the 16-bit patterns, in integer SIMD
//! (Cranelift's x64 backend has no f16 vector conversions). Widening is exact; narrowing
//! rounds to nearest even, with overflow to ±inf and NaN kept NaN (quiet).
//!
//! f16 follows F. Giesen's branch-free `half_to_float` / `float_to_half_fast3_rtne`: every
//! case (normal, subnormal, inf/NaN) is computed and the right one picked by lane masks.

use super::simd::Simd;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{InstBuilder, Value};

/// bf16 bits (zero-extended in i32 lanes) to f32: the bits are the top half of an f32.
pub fn bf16_to_f32(s: &mut Simd, h: Value) -> Value {
    let b = s.shl(h, 16);
    s.float(b)
}

/// f32 to bf16 bits (in i32 lanes), rounding to nearest even; NaN becomes a quiet NaN
/// with the same sign and top payload bits (as `half::bf16::from_f32`).
pub fn f32_to_bf16(s: &mut Simd, x: Value) -> Value {
    let u = s.bits(x);
    let hi = s.ushr(u, 16);
    let lsb = s.and_k(hi, 1);
    let r = s.iadd_k(u, 0x7fff);
    let r = s.b.ins().iadd(r, lsb);
    let r = s.ushr(r, 16);
    let quiet = s.or_k(hi, 0x40);
    let nan = s.fcmp(FloatCC::Unordered, x, x);
    s.iselect(nan, quiet, r)
}

/// f16 bits (zero-extended in i32 lanes) to f32, exactly (subnormals included).
pub fn f16_to_f32(s: &mut Simd, h: Value) -> Value {
    const SHIFTED_EXP: i32 = 0x7c00 << 13;
    let em = s.and_k(h, 0x7fff);
    let o = s.shl(em, 13);
    let exp = s.and_k(o, SHIFTED_EXP);
    let o = s.iadd_k(o, (127 - 15) << 23);
    // Inf/NaN: push the exponent to 255.
    let special = s.i(SHIFTED_EXP);
    let special = s.icmp(IntCC::Equal, exp, special);
    let o_special = s.iadd_k(o, (128 - 16) << 23);
    // Zero/subnormal: renormalise through a float subtraction.
    let zero = s.i(0);
    let tiny = s.icmp(IntCC::Equal, exp, zero);
    let o_tiny = s.iadd_k(o, 1 << 23);
    let o_tiny = s.float(o_tiny);
    let magic = s.i(113 << 23);
    let magic = s.float(magic);
    let o_tiny = s.sub(o_tiny, magic);
    let o_tiny = s.bits(o_tiny);
    let o = s.iselect(special, o_special, o);
    let o = s.iselect(tiny, o_tiny, o);
    let sign = s.and_k(h, 0x8000);
    let sign = s.shl(sign, 16);
    let o = s.b.ins().bor(o, sign);
    s.float(o)
}

/// f32 to f16 bits (in i32 lanes), rounding to nearest even; overflow gives ±inf, NaN the
/// quiet NaN 0x7e00 with the input's sign.
pub fn f32_to_f16(s: &mut Simd, x: Value) -> Value {
    let u = s.bits(x);
    let sign = s.and_k(u, i32::MIN);
    let f = s.and_k(u, 0x7fff_ffff);
    // ≥ 65520 (rounds past f16 max), inf or NaN.
    let big = s.i((127 + 16) << 23);
    let big = s.icmp(IntCC::SignedGreaterThanOrEqual, f, big);
    let inf = s.i(0x7f80_0000);
    let nan = s.icmp(IntCC::SignedGreaterThan, f, inf);
    let qnan = s.i(0x7e00);
    let inf16 = s.i(0x7c00);
    let o_big = s.iselect(nan, qnan, inf16);
    // Below 2⁻¹⁴: a float addition of 0.5 rounds the mantissa to the subnormal grid.
    let small = s.i(113 << 23);
    let small = s.icmp(IntCC::SignedLessThan, f, small);
    let ff = s.float(f);
    let o_small = s.add_k(ff, 0.5);
    let o_small = s.bits(o_small);
    let o_small = s.iadd_k(o_small, -(126 << 23));
    // Normal: rebias, round to nearest even on bit 13, shift down.
    let odd = s.ushr(f, 13);
    let odd = s.and_k(odd, 1);
    let o = s.iadd_k(f, ((15 - 127) << 23) + 0xfff);
    let o = s.b.ins().iadd(o, odd);
    let o = s.ushr(o, 13);
    let o = s.iselect(small, o_small, o);
    let o = s.iselect(big, o_big, o);
    let sign = s.ushr(sign, 16);
    s.b.ins().bor(o, sign)
}
