//! The interpreter of fused programs ([`FusedProgram`]): chunks of the iteration space in parallel, one
//! chunk-sized f32 buffer per register (no tensor-sized intermediates), the eager kernels'
//! scalar functions.

use crate::kernels::elementwise::{binary_f32, unary_f32};
use crate::kernels::fmath::max_nan;
use crate::tensor::{store_f32, GRAIN};
use hyv_ir::{BinaryOp, CmpOp, DType, ReduceOp, TensorData, UnaryOp};
use hyv_passes::fused::{FusedProgram, InputAccess, Instr, Tail};
use rayon::prelude::*;

/// Elements of the iteration space per chunk (at least one whole row for a reduction).
const CHUNK: usize = 2048;

/// Runs `program` on the kernel operands `args` (in [`InputAccess::operand`] order),
/// returning the output tensor's storage.
pub fn run(program: &FusedProgram, args: &[&TensorData]) -> Result<TensorData, String> {
    for input in &program.inputs {
        let data = args
            .get(input.operand)
            .ok_or_else(|| format!("fused kernel operand {} is missing", input.operand))?;
        if data.dtype() != input.dtype {
            return Err(format!(
                "fused kernel operand {} is {}, expected {}",
                input.operand,
                data.dtype(),
                input.dtype
            ));
        }
    }
    let numel: usize = program.shape.iter().product();
    let row = match program.tail {
        Tail::Store => 1,
        Tail::ReduceRows(_) => program.shape.last().copied().unwrap_or(1),
    };
    // Output elements per chunk; each covers `per * row` elements of the iteration space.
    let per = (CHUNK / row).max(1);
    let mut out = vec![0.0f32; numel / row];
    out.par_chunks_mut(per)
        .enumerate()
        .with_min_len((GRAIN / (per * row)).max(1))
        .for_each_init(
            || vec![Vec::new(); program.instrs.len()],
            |regs, (c, dst)| chunk(program, args, c * per * row, row, regs, dst),
        );
    match program.out_dtype {
        DType::Bool => Ok(TensorData::Bool(out.iter().map(|&v| v != 0.0).collect())),
        d => store_f32(d, out),
    }
}

/// Computes the output elements `dst`, which start at element `start` of the iteration
/// space, using `regs` as scratch.
fn chunk(
    program: &FusedProgram,
    args: &[&TensorData],
    start: usize,
    row: usize,
    regs: &mut [Vec<f32>],
    dst: &mut [f32],
) {
    let len = dst.len() * row;
    for (r, instr) in program.instrs.iter().enumerate() {
        let (done, rest) = regs.split_at_mut(r);
        let out = &mut rest[0];
        out.resize(len, 0.0);
        let reg = |i: usize| &done[i][..len];
        match *instr {
            Instr::Load(i) => {
                let input = &program.inputs[i];
                load(args[input.operand], input, start, out);
            }
            Instr::Unary(UnaryOp::Not, a) => map1(out, reg(a), |x| bool_f32(x == 0.0)),
            Instr::Unary(u, a) => {
                if let Some(f) = unary_f32(u) {
                    map1(out, reg(a), f)
                }
            }
            Instr::Binary(BinaryOp::And, a, b) => {
                map2(out, reg(a), reg(b), |x, y| bool_f32(x != 0.0 && y != 0.0))
            }
            Instr::Binary(BinaryOp::Or, a, b) => {
                map2(out, reg(a), reg(b), |x, y| bool_f32(x != 0.0 || y != 0.0))
            }
            Instr::Binary(op, a, b) => {
                if let Some(f) = binary_f32(op) {
                    map2(out, reg(a), reg(b), f)
                }
            }
            Instr::Compare(c, a, b) => {
                let f: fn(f32, f32) -> f32 = match c {
                    CmpOp::Eq => |x, y| bool_f32(x == y),
                    CmpOp::Ne => |x, y| bool_f32(x != y),
                    CmpOp::Lt => |x, y| bool_f32(x < y),
                    CmpOp::Le => |x, y| bool_f32(x <= y),
                    CmpOp::Gt => |x, y| bool_f32(x > y),
                    CmpOp::Ge => |x, y| bool_f32(x >= y),
                };
                map2(out, reg(a), reg(b), f)
            }
            Instr::Select(c, a, b) => {
                for (((o, &c), &x), &y) in out.iter_mut().zip(reg(c)).zip(reg(a)).zip(reg(b)) {
                    *o = if c != 0.0 { x } else { y };
                }
            }
            Instr::Cast(to, a) => match to {
                DType::F16 => map1(out, reg(a), |x| half::f16::from_f32(x).to_f32()),
                DType::BF16 => map1(out, reg(a), |x| half::bf16::from_f32(x).to_f32()),
                DType::Bool => map1(out, reg(a), |x| bool_f32(x != 0.0)),
                _ => out.copy_from_slice(reg(a)),
            },
        }
    }
    let result = &regs[program.result][..len];
    match program.tail {
        Tail::Store => dst.copy_from_slice(result),
        Tail::ReduceRows(op) => {
            for (d, r) in dst.iter_mut().zip(result.chunks_exact(row)) {
                *d = match op {
                    ReduceOp::Sum => r.iter().fold(0.0f64, |a, &e| a + e as f64) as f32,
                    ReduceOp::Max => r.iter().fold(f32::NEG_INFINITY, |a, &e| max_nan(a, e)),
                };
            }
        }
    }
}

/// 1.0 for true, 0.0 for false.
fn bool_f32(b: bool) -> f32 {
    if b {
        1.0
    } else {
        0.0
    }
}

fn map1(out: &mut [f32], a: &[f32], f: impl Fn(f32) -> f32) {
    for (o, &x) in out.iter_mut().zip(a) {
        *o = f(x);
    }
}

fn map2(out: &mut [f32], a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> f32) {
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        *o = f(x, y);
    }
}

/// Fills `out` with the elements `start..start + out.len()` of the iteration space as
/// `input` reads them from `data`: runs along the innermost dimension, an odometer over the
/// others.
fn load(data: &TensorData, input: &InputAccess, start: usize, out: &mut [f32]) {
    let (dims, strides) = (&input.dims, &input.strides);
    let Some((&inner, outer)) = dims.split_last() else {
        read_run(data, 0, 0, out);
        return;
    };
    let inner_stride = strides[outer.len()];
    let mut idx = vec![0; outer.len()];
    let mut rem = start / inner;
    let mut base = 0;
    for d in (0..outer.len()).rev() {
        idx[d] = rem % outer[d];
        rem /= outer[d];
        base += idx[d] * strides[d];
    }
    let mut i = start % inner;
    let mut pos = 0;
    while pos < out.len() {
        let n = (inner - i).min(out.len() - pos);
        read_run(
            data,
            base + i * inner_stride,
            inner_stride,
            &mut out[pos..pos + n],
        );
        pos += n;
        i = 0;
        for d in (0..outer.len()).rev() {
            idx[d] += 1;
            base += strides[d];
            if idx[d] < outer[d] {
                break;
            }
            base -= strides[d] * outer[d];
            idx[d] = 0;
        }
    }
}

/// Reads `out.len()` elements of `data` from `offset` with `stride` as f32.
fn read_run(data: &TensorData, offset: usize, stride: usize, out: &mut [f32]) {
    fn copy<T: Copy>(v: &[T], offset: usize, stride: usize, out: &mut [f32], f: impl Fn(T) -> f32) {
        match stride {
            0 => out.fill(f(v[offset])),
            1 => map_into(out, &v[offset..offset + out.len()], f),
            _ => {
                for (j, o) in out.iter_mut().enumerate() {
                    *o = f(v[offset + j * stride]);
                }
            }
        }
    }
    fn map_into<T: Copy>(out: &mut [f32], v: &[T], f: impl Fn(T) -> f32) {
        for (o, &x) in out.iter_mut().zip(v) {
            *o = f(x);
        }
    }
    match data {
        TensorData::F32(v) => copy(v, offset, stride, out, |x| x),
        TensorData::F16(v) => copy(v, offset, stride, out, half::f16::to_f32),
        TensorData::BF16(v) => copy(v, offset, stride, out, half::bf16::to_f32),
        TensorData::Bool(v) => copy(v, offset, stride, out, bool_f32),
        // Integer operands are rejected when the program is built.
        TensorData::I32(_) | TensorData::I64(_) => out.fill(f32::NAN),
    }
}
