//! Lowering of a [`FusedProgram`] to a JIT [`Program`](jit::Program), for the groups the JIT
//! can express (see [`lower`]).

use crate::jit::{self, Access, BinaryFn, CmpFn, ElemType, Inst, UnaryFn};
use hyv_ir::{BinaryOp, CmpOp, DType, UnaryOp};
use hyv_passes::fused::{FusedProgram, InputAccess, Instr, Tail};

/// The JIT program computing `program`'s output (named `name`), whose input `k` is
/// `program.inputs[k]`, or `None` when the JIT cannot express it:
///
/// * a row-reduction tail, or a bool output or input (the JIT's values are floats only);
/// * the bool ops `not`, `and`, `or`;
/// * an input read that is not contiguous, a broadcast scalar or one contiguous run
///   repeated along broadcast dimensions around it (`(i / div) % period`), e.g. a
///   broadcast along an axis between two kept ones.
pub fn lower(program: &FusedProgram, name: &str) -> Option<jit::Program> {
    if program.tail != Tail::Store {
        return None;
    }
    let numel: usize = program.shape.iter().product();
    let inputs = program
        .inputs
        .iter()
        .map(|input| {
            Some(jit::Input {
                elem: elem(input.dtype)?,
                access: access(input, numel)?,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    let mut insts: Vec<Inst> = Vec::with_capacity(program.instrs.len());
    // The JIT value of each register.
    let mut values: Vec<usize> = Vec::with_capacity(program.instrs.len());
    for (r, instr) in program.instrs.iter().enumerate() {
        let v = |reg: usize| values[reg];
        let inst = match *instr {
            Instr::Load(i) => Inst::Input(i),
            Instr::Unary(u, a) => Inst::Unary(unary(u)?, v(a)),
            Instr::Binary(b, a, c) => Inst::Binary(binary(b)?, v(a), v(c)),
            Instr::Compare(c, a, b) => Inst::Compare(compare(c), v(a), v(b)),
            Instr::Select(c, a, b) => Inst::Select {
                cond: v(c),
                a: v(a),
                b: v(b),
            },
            Instr::Cast(DType::F32, a) => {
                values.push(v(a));
                continue;
            }
            // The store rounds the result as this cast would.
            Instr::Cast(to, a) if r == program.result && to == program.out_dtype => {
                values.push(v(a));
                continue;
            }
            // `x != 0` (true on NaN, as the interpreter's cast).
            Instr::Cast(DType::Bool, a) => {
                insts.push(Inst::constant(0.0));
                Inst::Compare(CmpFn::Ne, v(a), insts.len() - 1)
            }
            // An intermediate 16-bit node: round in registers.
            Instr::Cast(DType::BF16, a) => Inst::Unary(UnaryFn::RoundBf16, v(a)),
            Instr::Cast(DType::F16, a) => Inst::Unary(UnaryFn::RoundF16, v(a)),
            Instr::Cast(..) => return None,
        };
        insts.push(inst);
        values.push(insts.len() - 1);
    }
    Some(jit::Program {
        name: name.to_string(),
        inputs,
        insts,
        outputs: vec![jit::Output {
            value: *values.get(program.result)?,
            elem: elem(program.out_dtype)?,
        }],
    })
}

/// The JIT element type of a float dtype.
fn elem(dtype: DType) -> Option<ElemType> {
    match dtype {
        DType::F32 => Some(ElemType::F32),
        DType::F16 => Some(ElemType::F16),
        DType::BF16 => Some(ElemType::Bf16),
        _ => None,
    }
}

/// The JIT access pattern of a (merged) strided read over `numel` elements: at most one
/// dimension with a non-zero stride, and that stride 1.
fn access(input: &InputAccess, numel: usize) -> Option<Access> {
    let mut kept = input.strides.iter().enumerate().filter(|(_, &s)| s != 0);
    let Some((k, &stride)) = kept.next() else {
        return Some(Access::Scalar);
    };
    if kept.next().is_some() || stride != 1 {
        return None;
    }
    let period = input.dims[k];
    let div: usize = input.dims[k + 1..].iter().product();
    Some(if period == numel {
        Access::Contiguous
    } else {
        Access::Strided { div, period }
    })
}

fn unary(u: UnaryOp) -> Option<UnaryFn> {
    Some(match u {
        UnaryOp::Neg => UnaryFn::Neg,
        UnaryOp::Abs => UnaryFn::Abs,
        UnaryOp::Exp => UnaryFn::Exp,
        UnaryOp::Log => UnaryFn::Log,
        UnaryOp::Sqrt => UnaryFn::Sqrt,
        UnaryOp::Rsqrt => UnaryFn::Rsqrt,
        UnaryOp::Recip => UnaryFn::Recip,
        UnaryOp::Tanh => UnaryFn::Tanh,
        UnaryOp::Erf => UnaryFn::Erf,
        UnaryOp::Sin => UnaryFn::Sin,
        UnaryOp::Cos => UnaryFn::Cos,
        UnaryOp::Floor => UnaryFn::Floor,
        UnaryOp::Not => return None,
    })
}

fn binary(b: BinaryOp) -> Option<BinaryFn> {
    Some(match b {
        BinaryOp::Add => BinaryFn::Add,
        BinaryOp::Sub => BinaryFn::Sub,
        BinaryOp::Mul => BinaryFn::Mul,
        BinaryOp::Div => BinaryFn::Div,
        BinaryOp::Max => BinaryFn::Max,
        BinaryOp::Min => BinaryFn::Min,
        BinaryOp::Pow => BinaryFn::Pow,
        BinaryOp::And | BinaryOp::Or => return None,
    })
}

fn compare(c: CmpOp) -> CmpFn {
    match c {
        CmpOp::Eq => CmpFn::Eq,
        CmpOp::Ne => CmpFn::Ne,
        CmpOp::Lt => CmpFn::Lt,
        CmpOp::Le => CmpFn::Le,
        CmpOp::Gt => CmpFn::Gt,
        CmpOp::Ge => CmpFn::Ge,
    }
}
