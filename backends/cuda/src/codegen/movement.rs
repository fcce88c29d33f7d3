//! Kernels that move elements without computing on them, for any dtype (integers
//! included): `slice`, `concat`, `pad`, and `broadcast` and `permute` of integers (of
//! floats and bools they are fused programs); and `iota`, which makes its elements from
//! their index.

use super::access::offset;
use super::{grid_stride_kernel, raw_type, KernelSource};
use hyv_ir::{DType, HostTensor, Op, PadMode, TensorType};
use hyv_passes::fused::InputAccess;
use std::fmt::Write;

/// The kernel of `op` (`slice`, `concat`, `pad`, `broadcast`, `permute`, `iota`) for these
/// types, `None` for other ops. Parameters: the operands in order, then `out`.
pub fn movement_kernel(op: &Op, out: &TensorType, inputs: &[TensorType]) -> Option<KernelSource> {
    let elem = raw_type(out.dtype)?;
    let numel = out.shape.numel();
    let body = match (op, inputs) {
        (Op::Slice { start, step, .. }, [x]) => {
            let strides = x.shape.strides();
            let base: usize = start.iter().zip(&strides).map(|(s, t)| s * t).sum();
            let access = InputAccess {
                operand: 0,
                dtype: x.dtype,
                dims: out.shape.dims().to_vec(),
                strides: step.iter().zip(&strides).map(|(s, t)| s * t).collect(),
            };
            format!("    out[e] = a0[{base}ull + {}];\n", offset(&access, "e"))
        }
        (Op::Concat { axis }, xs) if !xs.is_empty() => concat_body(*axis, out, xs)?,
        (Op::Broadcast { .. }, [x]) => {
            let strides = x.shape.strides();
            let pairs = x.shape.dims().iter().zip(&strides).zip(out.shape.dims());
            let strides = pairs.map(|((&from, &s), &to)| if from == to { s } else { 0 });
            strided_copy(out, strides.collect())
        }
        (Op::Permute { perm }, [x]) => {
            let strides = x.shape.strides();
            strided_copy(
                out,
                perm.iter()
                    .map(|&p| strides.get(p).copied())
                    .collect::<Option<_>>()?,
            )
        }
        (Op::Pad { low, mode, .. }, [x]) => pad_body(low, mode, out, x)?,
        (Op::Iota { axis, dtype, .. }, []) => {
            let dims = out.shape.dims();
            let inner: usize = dims.get(axis + 1..)?.iter().product();
            let extent = *dims.get(*axis)?;
            let value = format!("(e / {inner}ull) % {extent}ull");
            format!("    out[e] = {};\n", convert_index(*dtype, &value))
        }
        _ => return None,
    };
    let params: Vec<String> = (0..inputs.len())
        .map(|k| format!("const {elem}* __restrict__ a{k}"))
        .chain([format!("{elem}* __restrict__ out")])
        .collect();
    let signature = format!("{op:?} {out} {inputs:?}");
    Some(grid_stride_kernel(
        op.name(),
        &signature,
        "",
        &params,
        numel,
        &body,
    ))
}

/// Each output element taken from the operand whose range along `axis` holds it.
fn concat_body(axis: usize, out: &TensorType, xs: &[TensorType]) -> Option<String> {
    let dims = out.shape.dims();
    let total = *dims.get(axis)?;
    let inner: usize = dims[axis + 1..].iter().product();
    let mut b = String::new();
    writeln!(b, "    const unsigned long long i = e % {inner}ull, c = (e / {inner}ull) % {total}ull, o = e / {}ull;", inner * total).ok()?;
    let mut first = 0;
    for (k, x) in xs.iter().enumerate() {
        let n = *x.shape.dims().get(axis)?;
        let cond = if k + 1 == xs.len() {
            "    else".to_string()
        } else {
            format!(
                "    {}if (c < {}ull)",
                if k == 0 { "" } else { "else " },
                first + n
            )
        };
        writeln!(
            b,
            "{cond} out[e] = a{k}[(o * {n}ull + (c - {first}ull)) * {inner}ull + i];"
        )
        .ok()?;
        first += n;
    }
    Some(b)
}

/// Output element `e` read from operand 0 at `Σ i[d] · strides[d]` over `out`'s shape.
fn strided_copy(out: &TensorType, strides: Vec<usize>) -> String {
    let access = InputAccess {
        operand: 0,
        dtype: out.dtype,
        dims: out.shape.dims().to_vec(),
        strides,
    };
    format!("    out[e] = a0[{}];\n", offset(&access, "e"))
}

/// Padding: each output coordinate shifted by `low`; outside the operand the constant
/// (converted to the dtype, as its bits) or the clamped edge element.
fn pad_body(low: &[usize], mode: &PadMode, out: &TensorType, x: &TensorType) -> Option<String> {
    let (dims, xdims, strides) = (out.shape.dims(), x.shape.dims(), x.shape.strides());
    let mut b = String::from("    unsigned long long rem = e, off = 0;\n    bool inside = true;\n");
    for d in (0..dims.len()).rev() {
        let (n, lo, xn, st) = (dims[d], *low.get(d)?, xdims[d], strides[d]);
        writeln!(
            b,
            "    {{ long long i = (long long)(rem % {n}ull) - {lo}; rem /= {n}ull; \
             if (i < 0) {{ inside = false; i = 0; }} \
             if (i >= {xn}) {{ inside = false; i = {xn} - 1; }} off += (unsigned long long)i * {st}ull; }}"
        )
        .ok()?;
    }
    match mode {
        PadMode::Replicate => b.push_str("    out[e] = a0[off];\n"),
        PadMode::Constant(v) => {
            let fill = HostTensor::full(&TensorType::new(out.dtype, [1]), v.0);
            let bytes = fill.data().to_le_bytes();
            let bits = bytes
                .iter()
                .rev()
                .fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
            writeln!(
                b,
                "    out[e] = inside ? a0[off] : ({}){bits}ull;",
                raw_type(out.dtype)?
            )
            .ok()?;
        }
    }
    Some(b)
}

/// The stored bits of index `value` (an unsigned long long expression) converted to
/// `dtype`.
fn convert_index(dtype: DType, value: &str) -> String {
    match dtype {
        DType::F32 => format!("__float_as_uint((float)({value}))"),
        DType::F16 => format!("hyv_f32_to_f16((float)({value}))"),
        DType::BF16 => format!("hyv_f32_to_bf16((float)({value}))"),
        DType::I32 => format!("(unsigned int)({value})"),
        DType::I64 => format!("(unsigned long long)({value})"),
        DType::Bool => format!("(unsigned char)(({value}) != 0)"),
    }
}
