//! [`gather_kernel`]: `x[.., indices[j..], ..]` along one axis, for any dtype.

use super::{grid_stride_kernel, raw_type, KernelSource};
use hyv_ir::{DType, Op, TensorType};

/// The kernel of a `gather` of `x` by `indices` (i32 or i64) along `axis` into `out`.
/// Parameters: `x, indices, out, bad` where `bad` is one zeroed `int` the kernel sets to 1
/// when an index is outside `0..x.shape[axis]` (that element is then written as zero bits),
/// so the caller can report the error. `None` for other ops.
pub fn gather_kernel(
    op: &Op,
    out: &TensorType,
    x: &TensorType,
    indices: &TensorType,
) -> Option<KernelSource> {
    let Op::Gather { axis } = op else {
        return None;
    };
    let elem = raw_type(x.dtype)?;
    let index = match indices.dtype {
        DType::I32 => "int",
        DType::I64 => "long long",
        _ => return None,
    };
    let dims = x.shape.dims();
    let extent = *dims.get(*axis)?;
    let inner: usize = dims[axis + 1..].iter().product();
    let count = indices.shape.numel();
    let params = [
        format!("const {elem}* __restrict__ x"),
        format!("const {index}* __restrict__ indices"),
        format!("{elem}* __restrict__ out"),
        "int* bad".to_string(),
    ];
    let body = format!(
        "    const unsigned long long i = e % {inner}ull, j = (e / {inner}ull) % {count}ull, o = e / {}ull;\n    \
         const long long at = (long long)indices[j];\n    \
         if (at < 0 || at >= {extent}) {{ *bad = 1; out[e] = 0; }}\n    \
         else out[e] = x[(o * {extent}ull + (unsigned long long)at) * {inner}ull + i];\n",
        inner * count
    );
    let signature = format!("{op:?} {out} {x} {indices}");
    Some(grid_stride_kernel(
        "gather",
        &signature,
        "",
        &params,
        out.shape.numel(),
        &body,
    ))
}
