//! [`gather_kernel`]: `x[.., indices[j..], ..]` along one axis, for any dtype.

use super::{fnv1a, KernelSource, Launch, PRELUDE};
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
    let elem = match x.dtype.size_in_bytes() {
        1 => "unsigned char",
        2 => "unsigned short",
        4 => "unsigned int",
        8 => "unsigned long long",
        _ => return None,
    };
    let index = match indices.dtype {
        DType::I32 => "int",
        DType::I64 => "long long",
        _ => return None,
    };
    let dims = x.shape.dims();
    let extent = *dims.get(*axis)?;
    let inner: usize = dims[axis + 1..].iter().product();
    let count = indices.shape.numel();
    let numel = out.shape.numel();
    let hash = fnv1a(&[format!("{op:?} {out} {x} {indices}").as_bytes()]);
    let name = format!("hyv_gather_{hash:016x}");
    let source = format!(
        "{PRELUDE}\nextern \"C\" __global__ void __launch_bounds__(256) {name}(const {elem}* __restrict__ x, \
         const {index}* __restrict__ indices, {elem}* __restrict__ out, int* bad) {{\n  \
         const unsigned long long step = (unsigned long long)gridDim.x * blockDim.x;\n  \
         for (unsigned long long e = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x; e < {numel}ull; e += step) {{\n    \
         const unsigned long long i = e % {inner}ull, j = (e / {inner}ull) % {count}ull, o = e / {}ull;\n    \
         const long long at = (long long)indices[j];\n    \
         if (at < 0 || at >= {extent}) {{ *bad = 1; out[e] = 0; }}\n    \
         else out[e] = x[(o * {extent}ull + (unsigned long long)at) * {inner}ull + i];\n  }}\n}}\n",
        inner * count
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
