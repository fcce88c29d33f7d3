//! Fused groups as JIT kernels: compiling a group's lowered program with the process-wide
//! [`JitCompiler`] and running the kernel on tensor storage.

use super::lower::lower;
use crate::jit::{JitCompiler, JitKernel};
use hyv_ir::{DType, TensorData};
use hyv_passes::fused::FusedProgram;
use std::sync::OnceLock;

/// The JIT kernel of `program` (named `name` in errors), or `None` when the JIT cannot
/// express the group (see [`lower`]), is unavailable on this host or rejects the code; the
/// group is then interpreted. Kernels are cached by program in one compiler for the whole
/// process, so identical groups of any graph compile once.
pub fn compile(program: &FusedProgram, name: &str) -> Option<JitKernel> {
    static COMPILER: OnceLock<Option<JitCompiler>> = OnceLock::new();
    let compiler = COMPILER.get_or_init(|| JitCompiler::new().ok()).as_ref()?;
    compiler.compile(&lower(program, name)?).ok()
}

/// Runs `kernel`, the JIT kernel of `program`, on the kernel operands `args` (in
/// operand order) over the rayon pool, returning the output tensor's storage.
pub fn run(
    kernel: &JitKernel,
    program: &FusedProgram,
    args: &[&TensorData],
) -> Result<TensorData, String> {
    let inputs = program
        .inputs
        .iter()
        .map(|input| {
            let data = args
                .get(input.operand)
                .ok_or_else(|| format!("fused kernel operand {} is missing", input.operand))?;
            bytes(data)
                .filter(|_| data.dtype() == input.dtype)
                .ok_or_else(|| {
                    format!(
                        "fused kernel operand {} is {}, expected {}",
                        input.operand,
                        data.dtype(),
                        input.dtype
                    )
                })
        })
        .collect::<Result<Vec<&[u8]>, String>>()?;
    let numel: usize = program.shape.iter().product();
    let mut out = match program.out_dtype {
        // The kernel writes every element (store tails only, see `lower`).
        DType::F32 => TensorData::F32(crate::pool::buffer(numel)),
        DType::F16 => TensorData::F16(vec![half::f16::ZERO; numel]),
        DType::BF16 => TensorData::BF16(vec![half::bf16::ZERO; numel]),
        d => return Err(format!("a JIT-compiled fused kernel cannot store {d}")),
    };
    let dst = bytes_mut(&mut out).expect("float storage");
    kernel.run_parallel(&inputs, &mut [dst], numel)?;
    Ok(out)
}

/// The bytes of float storage (`None` for bools and integers).
fn bytes(data: &TensorData) -> Option<&[u8]> {
    fn raw<T>(v: &[T]) -> &[u8] {
        // SAFETY: only called with f32, f16 and bf16, plain numbers without padding or
        // invalid bit patterns; the byte view covers exactly `v` and borrows it.
        unsafe { std::slice::from_raw_parts(v.as_ptr().cast(), std::mem::size_of_val(v)) }
    }
    match data {
        TensorData::F32(v) => Some(raw(v)),
        TensorData::F16(v) => Some(raw(v)),
        TensorData::BF16(v) => Some(raw(v)),
        _ => None,
    }
}

/// The bytes of float storage, writable (`None` for bools and integers).
fn bytes_mut(data: &mut TensorData) -> Option<&mut [u8]> {
    fn raw<T>(v: &mut [T]) -> &mut [u8] {
        // SAFETY: only called with f32, f16 and bf16, for which every bit pattern is a
        // valid value, so any bytes written leave `v` valid; the view covers exactly `v`
        // and borrows it mutably.
        unsafe { std::slice::from_raw_parts_mut(v.as_mut_ptr().cast(), std::mem::size_of_val(v)) }
    }
    match data {
        TensorData::F32(v) => Some(raw(v)),
        TensorData::F16(v) => Some(raw(v)),
        TensorData::BF16(v) => Some(raw(v)),
        _ => None,
    }
}
