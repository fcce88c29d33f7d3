//! [`im2col_kernel`]: the column matrix of a convolution, so that cuBLAS does the rest.

use super::{grid_stride_kernel, raw_type, KernelSource};
use hyv_ir::{Op, TensorType};
use std::fmt::Write;

/// The kernel writing, for `x [N, C, s...]` convolved by `w [O, C/groups, k...]` into
/// `out [N, O, o...]`, the columns `cols [N, C, K, P]` (K = Πk, P = Πo; row-major, so each
/// group's `[C/groups · K, P]` block is one GEMM operand): `cols[n, c, kk, p]` is the input
/// element kernel tap `kk` of output position `p` reads, zero in the padding. Parameters:
/// `x, cols`. `None` for other ops.
pub fn im2col_kernel(
    op: &Op,
    x: &TensorType,
    w: &TensorType,
    out: &TensorType,
) -> Option<KernelSource> {
    let Op::Conv {
        stride,
        padding,
        dilation,
        ..
    } = op
    else {
        return None;
    };
    let elem = raw_type(x.dtype)?;
    let (xd, wd, od) = (x.shape.dims(), w.shape.dims(), out.shape.dims());
    let spatial = xd.len().checked_sub(2)?;
    let (n, c) = (xd[0], xd[1]);
    let (kdims, odims, sdims) = (wd.get(2..)?, od.get(2..)?, &xd[2..]);
    let kk: usize = kdims.iter().product();
    let pp: usize = odims.iter().product();
    let total = n * c * kk * pp;
    let mut b = String::new();
    let w = |b: &mut String, s: String| writeln!(b, "{s}").ok();
    w(
        &mut b,
        format!(
            "    unsigned long long p = e % {pp}ull, kk = (e / {pp}ull) % {kk}ull, nc = e / {}ull;",
            pp * kk
        ),
    )?;
    w(&mut b, "    long long off = 0; bool inside = true;".into())?;
    // Spatial dimensions from the last: output index o, tap t, input index o·s − lo + t·d.
    let (mut pin, mut kin) = (1usize, 1usize);
    let mut sin = 1usize;
    for d in (0..spatial).rev() {
        let (o, k, s) = (odims[d], kdims[d], sdims[d]);
        let (st, lo, dil) = (*stride.get(d)?, padding.get(d)?.0, *dilation.get(d)?);
        w(&mut b, format!(
            "    {{ long long i = (long long)((p / {pin}ull) % {o}ull) * {st} - {lo} + (long long)((kk / {kin}ull) % {k}ull) * {dil}; \
             if (i < 0 || i >= {s}) inside = false; off += i * {sin}; }}"
        ))?;
        pin *= o;
        kin *= k;
        sin *= s;
    }
    w(
        &mut b,
        format!("    cols[e] = inside ? x[nc * {sin}ull + off] : ({elem})0;"),
    )?;
    let params = [
        format!("const {elem}* __restrict__ x"),
        format!("{elem}* __restrict__ cols"),
    ];
    let signature = format!("{op:?} {x} {wd:?} {out}");
    Some(grid_stride_kernel(
        "im2col", &signature, "", &params, total, &b,
    ))
}
