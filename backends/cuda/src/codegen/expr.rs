//! The instructions of a fused program as CUDA C statements.
//!
//! Register `r` becomes `float rN`, load `i` reads `l[i]` (the loaded value of input
//! access `i`). Adds, subtracts, multiplies and divides use the `__f*_rn` intrinsics, which
//! the compiler never contracts into fused multiply-adds, so results round like the CPU
//! backend's; transcendental functions are CUDA's (within a few ulp of the CPU's libm).

use hyv_ir::{BinaryOp, CmpOp, DType, UnaryOp};
use hyv_passes::fused::{FusedProgram, Instr};
use std::fmt::Write;

/// Statements computing every register of `program` from `l[]`, one per line, each line
/// starting with `indent`.
pub fn statements(program: &FusedProgram, indent: &str) -> String {
    let mut out = String::new();
    for (r, instr) in program.instrs.iter().enumerate() {
        let value = match *instr {
            Instr::Load(i) => format!("l[{i}]"),
            Instr::Unary(u, a) => unary(u, &reg(a)),
            Instr::Binary(b, a, c) => binary(b, &reg(a), &reg(c)),
            Instr::Compare(c, a, b) => format!("hyv_bool({} {} {})", reg(a), cmp(c), reg(b)),
            Instr::Select(c, a, b) => format!("({} != 0.0f ? {} : {})", reg(c), reg(a), reg(b)),
            Instr::Cast(to, a) => cast(to, &reg(a)),
        };
        writeln!(out, "{indent}const float r{r} = {value};").expect("writing to a String");
    }
    out
}

/// The name of register `r`.
pub fn reg(r: usize) -> String {
    format!("r{r}")
}

fn unary(u: UnaryOp, a: &str) -> String {
    match u {
        UnaryOp::Neg => format!("(-{a})"),
        UnaryOp::Abs => format!("fabsf({a})"),
        UnaryOp::Exp => format!("expf({a})"),
        UnaryOp::Log => format!("logf({a})"),
        UnaryOp::Sqrt => format!("sqrtf({a})"),
        UnaryOp::Rsqrt => format!("__fdiv_rn(1.0f, sqrtf({a}))"),
        UnaryOp::Recip => format!("__fdiv_rn(1.0f, {a})"),
        UnaryOp::Tanh => format!("tanhf({a})"),
        UnaryOp::Erf => format!("erff({a})"),
        UnaryOp::Sin => format!("sinf({a})"),
        UnaryOp::Cos => format!("cosf({a})"),
        UnaryOp::Floor => format!("floorf({a})"),
        UnaryOp::Not => format!("hyv_bool({a} == 0.0f)"),
    }
}

fn binary(op: BinaryOp, a: &str, b: &str) -> String {
    match op {
        BinaryOp::Add => format!("__fadd_rn({a}, {b})"),
        BinaryOp::Sub => format!("__fsub_rn({a}, {b})"),
        BinaryOp::Mul => format!("__fmul_rn({a}, {b})"),
        BinaryOp::Div => format!("__fdiv_rn({a}, {b})"),
        BinaryOp::Max => format!("hyv_max({a}, {b})"),
        BinaryOp::Min => format!("hyv_min({a}, {b})"),
        BinaryOp::Pow => format!("powf({a}, {b})"),
        BinaryOp::And => format!("hyv_bool({a} != 0.0f && {b} != 0.0f)"),
        BinaryOp::Or => format!("hyv_bool({a} != 0.0f || {b} != 0.0f)"),
    }
}

/// The C operator of a comparison (`!=` is true when an operand is NaN, the others false,
/// as in Rust).
fn cmp(c: CmpOp) -> &'static str {
    match c {
        CmpOp::Eq => "==",
        CmpOp::Ne => "!=",
        CmpOp::Lt => "<",
        CmpOp::Le => "<=",
        CmpOp::Gt => ">",
        CmpOp::Ge => ">=",
    }
}

/// A conversion: 16-bit types round to nearest even, bool is `!= 0`, the rest keep f32.
fn cast(to: DType, a: &str) -> String {
    match to {
        DType::F16 => format!("hyv_round_f16({a})"),
        DType::BF16 => format!("hyv_round_bf16({a})"),
        DType::Bool => format!("hyv_bool({a} != 0.0f)"),
        DType::F32 | DType::I32 | DType::I64 => a.to_string(),
    }
}
