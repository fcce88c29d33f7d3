//! Lowers a [`Program`] to the Cranelift IR of
//! `extern "C" fn(inputs: *const *const u8, outputs: *const *mut u8, start: usize, end: usize)`,
//! which processes elements `[start, end)`: a loop over 4 elements at a time in f32x4 SIMD,
//! then a tail loop over single elements that runs the same f32x4 code on lane 0 only.
//!
//! Loads widen f16/bf16 to f32 with [`convert`] (the 16-bit patterns come in through
//! `uload16x4` / `uload16`); stores round back. Broadcast-scalar inputs are loaded once
//! before the loops; strided inputs gather lane by lane (`(i / div) % period`).

use super::convert;
use super::math;
use super::program::{Access, BinaryFn, CmpFn, ElemType, Inst, Program, UnaryFn};
use super::simd::Simd;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::types::{F32, F32X4, I32, I32X4, I64X2};
use cranelift_codegen::ir::{
    AbiParam, Endianness, Function, InstBuilder, MemFlagsData, Signature, Type, Value,
};
use cranelift_codegen::isa::TargetFrontendConfig;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};

/// How many elements one pass of the generated code handles at index `i`.
#[derive(Clone, Copy, PartialEq)]
enum Lanes {
    /// Elements `i..i + 4`.
    Four,
    /// Element `i`, in lane 0.
    One,
}

impl Lanes {
    fn count(self) -> i64 {
        match self {
            Lanes::Four => 4,
            Lanes::One => 1,
        }
    }
}

/// Adds the kernel's parameters (two pointers and two lengths, all of the host pointer
/// type `ptr`) to `sig`.
pub fn signature(sig: &mut Signature, ptr: Type) {
    for _ in 0..4 {
        sig.params.push(AbiParam::new(ptr));
    }
}

/// Writes the body of `program`'s kernel into `func` (whose signature came from
/// [`signature`]) for a target described by `config`. `fma` says whether the host has fused
/// multiply-add.
pub fn build(
    program: &Program,
    func: &mut Function,
    fctx: &mut FunctionBuilderContext,
    config: TargetFrontendConfig,
    fma: bool,
) {
    let ptr = config.pointer_type();
    let mut b = FunctionBuilder::new(func, fctx);
    let entry = b.create_block();
    let vhead = b.create_block();
    let vbody = b.create_block();
    let thead = b.create_block();
    let tbody = b.create_block();
    let exit = b.create_block();
    for block in [vhead, vbody, thead, tbody] {
        b.append_block_param(block, ptr);
    }

    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    let [ins, outs, start, end] = [0, 1, 2, 3].map(|k| b.block_params(entry)[k]);
    let flags = MemFlagsData::new().with_notrap();
    let step = ptr.bytes() as i32;
    let in_ptrs: Vec<Value> = (0..program.inputs.len())
        .map(|k| b.ins().load(ptr, flags, ins, step * k as i32))
        .collect();
    let out_ptrs: Vec<Value> = (0..program.outputs.len())
        .map(|k| b.ins().load(ptr, flags, outs, step * k as i32))
        .collect();
    let mut s = Simd { b: &mut b, fma };
    let scalars: Vec<Option<Value>> = program
        .inputs
        .iter()
        .zip(&in_ptrs)
        .map(|(spec, &p)| {
            (spec.access == Access::Scalar).then(|| {
                let v = load_lane(&mut s, spec.elem, p, None);
                let v = widen(&mut s, spec.elem, v);
                s.broadcast_lane0(v)
            })
        })
        .collect();
    let n = b.ins().isub(end, start);
    let n4 = b.ins().band_imm_s(n, -4);
    let vend = b.ins().iadd(start, n4);
    b.ins().jump(vhead, &[start.into()]);

    b.switch_to_block(vhead);
    let i = b.block_params(vhead)[0];
    let more = b.ins().icmp(IntCC::UnsignedLessThan, i, vend);
    b.ins().brif(more, vbody, &[i.into()], thead, &[i.into()]);

    for (head, body, lanes) in [(vhead, vbody, Lanes::Four), (thead, tbody, Lanes::One)] {
        b.switch_to_block(body);
        let i = b.block_params(body)[0];
        let ctx = Ctx {
            program,
            in_ptrs: &in_ptrs,
            out_ptrs: &out_ptrs,
            scalars: &scalars,
            lanes,
            i,
        };
        let mut s = Simd { b: &mut b, fma };
        ctx.emit(&mut s);
        let next = b.ins().iadd_imm_s(i, lanes.count());
        b.ins().jump(head, &[next.into()]);
    }

    b.switch_to_block(thead);
    let i = b.block_params(thead)[0];
    let more = b.ins().icmp(IntCC::UnsignedLessThan, i, end);
    b.ins().brif(more, tbody, &[i.into()], exit, &[]);

    b.switch_to_block(exit);
    b.ins().return_(&[]);
    b.seal_all_blocks();
    b.finalize(config);
}

/// Everything the body of one loop needs.
struct Ctx<'p> {
    program: &'p Program,
    in_ptrs: &'p [Value],
    out_ptrs: &'p [Value],
    scalars: &'p [Option<Value>],
    lanes: Lanes,
    i: Value,
}

impl Ctx<'_> {
    /// Emits the loads, instructions and stores for the elements at `self.i`.
    fn emit(&self, s: &mut Simd) {
        // Per value: the f32x4 and, for comparisons, the lane mask it came from.
        let mut vals: Vec<(Value, Option<Value>)> = Vec::with_capacity(self.program.insts.len());
        for inst in &self.program.insts {
            let v = match *inst {
                Inst::Input(k) => (self.input(s, k), None),
                Inst::Const(bits) => (s.f(f32::from_bits(bits)), None),
                Inst::Unary(f, x) => (unary(s, f, vals[x].0), None),
                Inst::Binary(f, x, y) => (binary(s, f, vals[x].0, vals[y].0), None),
                Inst::Compare(f, x, y) => {
                    let mask = s.fcmp(float_cc(f), vals[x].0, vals[y].0);
                    let one = s.f(1.0);
                    let m = s.float(mask);
                    (s.b.ins().band(m, one), Some(mask))
                }
                Inst::Select { cond, a, b } => {
                    let mask = match vals[cond] {
                        (_, Some(mask)) => mask,
                        (c, None) => s.fcmp_k(FloatCC::NotEqual, c, 0.0),
                    };
                    (s.select(mask, vals[a].0, vals[b].0), None)
                }
            };
            vals.push(v);
        }
        for (out, &p) in self.program.outputs.iter().zip(self.out_ptrs) {
            self.store(s, out.elem, p, vals[out.value].0);
        }
    }

    /// Address of element `idx` (an i64) of a buffer at `p` with `size`-byte elements.
    fn addr(s: &mut Simd, p: Value, idx: Value, size: usize) -> Value {
        let off = s.b.ins().imul_imm_s(idx, size as i64);
        s.b.ins().iadd(p, off)
    }

    /// Input `k` at the current elements, as f32x4.
    fn input(&self, s: &mut Simd, k: usize) -> Value {
        let spec = self.program.inputs[k];
        let p = self.in_ptrs[k];
        if let Some(v) = self.scalars[k] {
            return v;
        }
        let raw = match (spec.access, self.lanes) {
            (Access::Contiguous, Lanes::Four) => {
                let a = Self::addr(s, p, self.i, spec.elem.size());
                load_four(s, spec.elem, a)
            }
            (Access::Contiguous, Lanes::One) => {
                let a = Self::addr(s, p, self.i, spec.elem.size());
                load_lane(s, spec.elem, a, None)
            }
            (Access::Strided { div, period }, lanes) => {
                let mut v = None;
                for lane in 0..lanes.count() {
                    let i = s.b.ins().iadd_imm_s(self.i, lane);
                    let ptr = s.b.func.dfg.value_type(i);
                    let i = if div == 1 {
                        i
                    } else {
                        let d = s.b.ins().iconst(ptr, div as i64);
                        s.b.ins().udiv(i, d)
                    };
                    let per = s.b.ins().iconst(ptr, period as i64);
                    let idx = s.b.ins().urem(i, per);
                    let a = Self::addr(s, p, idx, spec.elem.size());
                    v = Some(load_lane(s, spec.elem, a, v.map(|v| (v, lane as u8))));
                }
                v.expect("at least one lane")
            }
            (Access::Scalar, _) => unreachable!("scalar inputs are loaded before the loop"),
        };
        widen(s, spec.elem, raw)
    }

    /// Stores the f32x4 `v` (all four lanes, or lane 0) at the current elements of the
    /// output at `p`.
    fn store(&self, s: &mut Simd, elem: ElemType, p: Value, v: Value) {
        let flags = MemFlagsData::new().with_notrap();
        let a = Self::addr(s, p, self.i, elem.size());
        let bits = match elem {
            ElemType::F32 => {
                match self.lanes {
                    Lanes::Four => s.b.ins().store(flags, v, a, 0),
                    Lanes::One => {
                        let x = s.b.ins().extractlane(v, 0);
                        s.b.ins().store(flags, x, a, 0)
                    }
                };
                return;
            }
            ElemType::F16 => convert::f32_to_f16(s, v),
            ElemType::Bf16 => convert::f32_to_bf16(s, v),
        };
        match self.lanes {
            Lanes::Four => {
                let h = s.b.ins().unarrow(bits, bits);
                let le = MemFlagsData::new().with_endianness(Endianness::Little);
                let q = s.b.ins().bitcast(I64X2, le, h);
                let q = s.b.ins().extractlane(q, 0);
                s.b.ins().store(flags, q, a, 0);
            }
            Lanes::One => {
                let x = s.b.ins().extractlane(bits, 0);
                s.b.ins().istore16(flags, x, a, 0);
            }
        }
    }
}

/// Loads four consecutive elements at `a`: f32 as f32x4, 16-bit types as zero-extended
/// i32x4 bit patterns.
fn load_four(s: &mut Simd, elem: ElemType, a: Value) -> Value {
    let flags = MemFlagsData::new().with_notrap();
    match elem {
        ElemType::F32 => s.b.ins().load(F32X4, flags, a, 0),
        ElemType::F16 | ElemType::Bf16 => s.b.ins().uload16x4(flags, a, 0),
    }
}

/// Loads one element at `a` into lane 0 of a new vector, or into lane `l` of `into`
/// (f32 lanes for f32, zero-extended i32 bit patterns for 16-bit types).
fn load_lane(s: &mut Simd, elem: ElemType, a: Value, into: Option<(Value, u8)>) -> Value {
    let flags = MemFlagsData::new().with_notrap();
    let (x, ty) = match elem {
        ElemType::F32 => (s.b.ins().load(F32, flags, a, 0), F32X4),
        ElemType::F16 | ElemType::Bf16 => (s.b.ins().uload16(I32, flags, a, 0), I32X4),
    };
    match into {
        None => s.b.ins().scalar_to_vector(ty, x),
        Some((v, l)) => s.b.ins().insertlane(v, x, l),
    }
}

/// Raw loaded lanes to f32x4.
fn widen(s: &mut Simd, elem: ElemType, raw: Value) -> Value {
    match elem {
        ElemType::F32 => raw,
        ElemType::F16 => convert::f16_to_f32(s, raw),
        ElemType::Bf16 => convert::bf16_to_f32(s, raw),
    }
}

fn float_cc(f: CmpFn) -> FloatCC {
    match f {
        CmpFn::Eq => FloatCC::Equal,
        CmpFn::Ne => FloatCC::NotEqual,
        CmpFn::Lt => FloatCC::LessThan,
        CmpFn::Le => FloatCC::LessThanOrEqual,
        CmpFn::Gt => FloatCC::GreaterThan,
        CmpFn::Ge => FloatCC::GreaterThanOrEqual,
    }
}

fn unary(s: &mut Simd, f: UnaryFn, x: Value) -> Value {
    match f {
        UnaryFn::Neg => s.b.ins().fneg(x),
        UnaryFn::Abs => s.b.ins().fabs(x),
        UnaryFn::Exp => math::exp(s, x),
        UnaryFn::Log => math::log(s, x),
        UnaryFn::Sqrt => s.b.ins().sqrt(x),
        UnaryFn::Rsqrt => {
            let r = s.b.ins().sqrt(x);
            let one = s.f(1.0);
            s.div(one, r)
        }
        UnaryFn::Recip => {
            let one = s.f(1.0);
            s.div(one, x)
        }
        UnaryFn::Tanh => math::tanh(s, x),
        UnaryFn::Erf => math::erf(s, x),
        UnaryFn::Sin => math::sin_cos(s, x, false),
        UnaryFn::Cos => math::sin_cos(s, x, true),
        UnaryFn::Floor => s.b.ins().floor(x),
        UnaryFn::Sigmoid => math::sigmoid(s, x),
        UnaryFn::Relu => {
            let neg = s.fcmp_k(FloatCC::LessThan, x, 0.0);
            s.select_k(neg, 0.0, x)
        }
        UnaryFn::Silu => math::silu(s, x),
        UnaryFn::GeluTanh => math::gelu_tanh(s, x),
        UnaryFn::GeluErf => math::gelu_erf(s, x),
        UnaryFn::Square => s.mul(x, x),
        UnaryFn::RoundBf16 => {
            let h = convert::f32_to_bf16(s, x);
            convert::bf16_to_f32(s, h)
        }
        UnaryFn::RoundF16 => {
            let h = convert::f32_to_f16(s, x);
            convert::f16_to_f32(s, h)
        }
    }
}

fn binary(s: &mut Simd, f: BinaryFn, a: Value, b: Value) -> Value {
    match f {
        BinaryFn::Add => s.add(a, b),
        BinaryFn::Sub => s.sub(a, b),
        BinaryFn::Mul => s.mul(a, b),
        BinaryFn::Div => s.div(a, b),
        BinaryFn::Max => s.b.ins().fmax(a, b),
        BinaryFn::Min => s.b.ins().fmin(a, b),
        BinaryFn::Pow => math::pow(s, a, b),
    }
}
