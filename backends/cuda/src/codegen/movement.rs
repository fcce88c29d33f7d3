//! Kernels that move elements without computing on them, for any dtype (integers
//! included): `slice` and `concat`. (Broadcast and permute are fused programs.)

use super::access::offset;
use super::{fnv1a, KernelSource, Launch, PRELUDE};
use hyv_ir::{Op, TensorType};
use hyv_passes::fused::InputAccess;
use std::fmt::Write;

/// The copy kernel of `op` (`slice` or `concat`) for these types, `None` for other ops.
/// Parameters: the operands in order, then `out`.
pub fn movement_kernel(op: &Op, out: &TensorType, inputs: &[TensorType]) -> Option<KernelSource> {
    let elem = raw_type(out)?;
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
        _ => return None,
    };
    let hash = fnv1a(&[format!("{op:?} {out} {inputs:?}").as_bytes()]);
    let name = format!("hyv_{}_{hash:016x}", op.name());
    let params: Vec<String> = (0..inputs.len())
        .map(|k| format!("const {elem}* __restrict__ a{k}"))
        .chain([format!("{elem}* __restrict__ out")])
        .collect();
    let source = format!(
        "{PRELUDE}\nextern \"C\" __global__ void __launch_bounds__(256) {name}({}) {{\n  \
         const unsigned long long step = (unsigned long long)gridDim.x * blockDim.x;\n  \
         for (unsigned long long e = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x; \
         e < {numel}ull; e += step) {{\n{body}  }}\n}}\n",
        params.join(", ")
    );
    Some(KernelSource {
        name,
        source,
        launch: Launch::Elementwise {
            items: numel as u64,
            vector: false,
        },
    })
}

/// An unsigned integer type of the element size of `ty` (copies move bits).
fn raw_type(ty: &TensorType) -> Option<&'static str> {
    Some(match ty.dtype.size_in_bytes() {
        1 => "unsigned char",
        2 => "unsigned short",
        4 => "unsigned int",
        8 => "unsigned long long",
        _ => return None,
    })
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
