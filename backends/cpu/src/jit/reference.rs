//! The scalar interpreter of [`Program`]s: one element at a time with the CPU kernels'
//! scalar math (`std` for exp/log/tanh/sin/cos/pow, `kernels::fmath` for erf, GELU, SiLU and
//! NaN-propagating max/min). It is the semantics the JIT is tested against and a fallback
//! for programs the JIT cannot compile.

use super::program::{Access, BinaryFn, CmpFn, ElemType, Inst, Program, UnaryFn};
use crate::kernels::fmath::{erf, gelu_erf, gelu_tanh, max_nan, min_nan, silu};
use half::{bf16, f16};

/// Runs `program` over `[0, len)`, reading `inputs` and writing `outputs` (buffers laid out
/// as [`Program::check_buffers`] describes).
pub fn eval(
    program: &Program,
    inputs: &[&[u8]],
    outputs: &mut [&mut [u8]],
    len: usize,
) -> Result<(), String> {
    program.validate()?;
    program.check_buffers(inputs, outputs, len)?;
    let mut vals = vec![0.0f32; program.insts.len()];
    for i in 0..len {
        for (k, inst) in program.insts.iter().enumerate() {
            vals[k] = match *inst {
                Inst::Input(n) => {
                    let spec = program.inputs[n];
                    load(inputs[n], spec.elem, spec.access, i)
                }
                Inst::Const(bits) => f32::from_bits(bits),
                Inst::Unary(f, x) => unary(f, vals[x]),
                Inst::Binary(f, x, y) => binary(f, vals[x], vals[y]),
                Inst::Compare(f, x, y) => f32::from(u8::from(compare(f, vals[x], vals[y]))),
                Inst::Select { cond, a, b } => {
                    if vals[cond] != 0.0 {
                        vals[a]
                    } else {
                        vals[b]
                    }
                }
            };
        }
        for (out, buf) in program.outputs.iter().zip(outputs.iter_mut()) {
            store(buf, out.elem, i, vals[out.value]);
        }
    }
    Ok(())
}

/// The scalar definition of a unary function.
pub fn unary(f: UnaryFn, x: f32) -> f32 {
    match f {
        UnaryFn::Neg => -x,
        UnaryFn::Abs => x.abs(),
        UnaryFn::Exp => x.exp(),
        UnaryFn::Log => x.ln(),
        UnaryFn::Sqrt => x.sqrt(),
        UnaryFn::Rsqrt => 1.0 / x.sqrt(),
        UnaryFn::Recip => 1.0 / x,
        UnaryFn::Tanh => x.tanh(),
        UnaryFn::Erf => erf(x),
        UnaryFn::Sin => x.sin(),
        UnaryFn::Cos => x.cos(),
        UnaryFn::Floor => x.floor(),
        UnaryFn::Sigmoid => 1.0 / (1.0 + (-x).exp()),
        UnaryFn::Relu => max_nan(x, 0.0),
        UnaryFn::Silu => silu(x),
        UnaryFn::GeluTanh => gelu_tanh(x),
        UnaryFn::GeluErf => gelu_erf(x),
        UnaryFn::Square => x * x,
        UnaryFn::RoundBf16 => bf16::from_f32(x).to_f32(),
        UnaryFn::RoundF16 => f16::from_f32(x).to_f32(),
    }
}

/// The scalar definition of a binary function.
pub fn binary(f: BinaryFn, a: f32, b: f32) -> f32 {
    match f {
        BinaryFn::Add => a + b,
        BinaryFn::Sub => a - b,
        BinaryFn::Mul => a * b,
        BinaryFn::Div => a / b,
        BinaryFn::Max => max_nan(a, b),
        BinaryFn::Min => min_nan(a, b),
        BinaryFn::Pow => a.powf(b),
    }
}

/// The scalar definition of a comparison.
pub fn compare(f: CmpFn, a: f32, b: f32) -> bool {
    match f {
        CmpFn::Eq => a == b,
        CmpFn::Ne => a != b,
        CmpFn::Lt => a < b,
        CmpFn::Le => a <= b,
        CmpFn::Gt => a > b,
        CmpFn::Ge => a >= b,
    }
}

fn load(buf: &[u8], elem: ElemType, access: Access, i: usize) -> f32 {
    let j = access.index(i) * elem.size();
    match elem {
        ElemType::F32 => f32::from_le_bytes([buf[j], buf[j + 1], buf[j + 2], buf[j + 3]]),
        ElemType::F16 => f16::from_le_bytes([buf[j], buf[j + 1]]).to_f32(),
        ElemType::Bf16 => bf16::from_le_bytes([buf[j], buf[j + 1]]).to_f32(),
    }
}

fn store(buf: &mut [u8], elem: ElemType, i: usize, v: f32) {
    let j = i * elem.size();
    match elem {
        ElemType::F32 => buf[j..j + 4].copy_from_slice(&v.to_le_bytes()),
        ElemType::F16 => buf[j..j + 2].copy_from_slice(&f16::from_f32(v).to_le_bytes()),
        ElemType::Bf16 => buf[j..j + 2].copy_from_slice(&bf16::from_f32(v).to_le_bytes()),
    }
}
