//! N-d convolution (cross-correlation with stride, zero padding, dilation and groups) on
//! gemm, in one of two ways:
//!
//! * **Shifted products** (every stride 1): the image is zero-padded once; on the padded
//!   grid, flattened, kernel offset `k` reads the input shifted by a constant `off_k`, so
//!   `out = Σ_k W[:, :, k] · x_padded[:, q + off_k]` is a sum of plain gemms with a
//!   unit-stride rhs. Columns are processed in cache-sized chunks (all offsets per chunk, in
//!   parallel over chunks); the few positions past the valid output (the padding columns)
//!   are computed and then cropped away.
//! * **im2col** (any stride): the patches of a band of output positions are gathered into
//!   a `[C/groups · kernel, positions]` matrix ([`Gather`], one table per spatial dim and
//!   kernel offset) and multiplied by the group's weight rows straight into the output.
//!
//! Both were measured on the VAE-like f32 `[1,64,9,64,64]` ⊛ `[64,64,3,3,3]`, padding 1
//! (8.15 GFLOP; `benches/matmul.rs`), on the 2-core development machine (AVX2 + FMA, no
//! AVX-512 on the box it ran on; shared with other builds, load average ≈ 4), best of 3:
//! shifted products 199–224 ms (36–41 GFLOP/s, as fast as a 2048³ matmul measured
//! alongside), im2col 382–557 ms (15–21 GFLOP/s: writing and re-reading the 27× larger
//! patch matrix costs more than the products). So stride-1 convolutions take the shifted
//! products and only strided ones im2col.

use super::gather::{offsets, Gather, FILL};
use super::gemm::{sgemm, MatRef};
use crate::tensor::{load_f32, store_f32, Arg};
use hyv_ir::{Op, Shape, TensorData, TensorType};
use rayon::prelude::*;

/// Target size, in f32 elements, of one im2col band.
const COL_BUDGET: usize = 1 << 21;

/// Columns of the padded grid per shifted-product task.
const CHUNK: usize = 2048;

/// The sizes of one convolution.
struct Geometry<'a> {
    batch: usize,
    c: usize,
    o: usize,
    cg: usize,
    og: usize,
    groups: usize,
    /// Input spatial extents.
    xs: &'a [usize],
    /// Kernel extents.
    ks: &'a [usize],
    /// Output spatial extents.
    os: &'a [usize],
    stride: &'a [usize],
    padding: &'a [(usize, usize)],
    dilation: &'a [usize],
}

impl Geometry<'_> {
    fn kernel_volume(&self) -> usize {
        self.ks.iter().product()
    }
    fn plane(&self) -> usize {
        self.xs.iter().product()
    }
    fn positions(&self) -> usize {
        self.os.iter().product()
    }
}

/// Evaluates `conv`.
pub fn eval(op: &Op, out: &TensorType, args: &[Arg]) -> Result<TensorData, String> {
    let (
        Op::Conv {
            stride,
            padding,
            dilation,
            groups,
        },
        [x, w],
    ) = (op, args)
    else {
        return Err("not a conv with two operands".into());
    };
    let (xd, wd, od) = (x.dims(), w.dims(), out.shape.dims());
    let g = Geometry {
        batch: xd[0],
        c: xd[1],
        o: wd[0],
        cg: wd[1],
        og: wd[0] / groups,
        groups: *groups,
        xs: &xd[2..],
        ks: &wd[2..],
        os: &od[2..],
        stride,
        padding,
        dilation,
    };
    let (xv, wv) = (load_f32(x.data, "input")?, load_f32(w.data, "weight")?);
    let outv = if stride.iter().all(|&s| s == 1) {
        shifted(&xv, &wv, &g)
    } else {
        im2col(&xv, &wv, &g)
    };
    store_f32(out.dtype, outv)
}

/// Stride-1 convolution as shifted gemms on the zero-padded image.
fn shifted(x: &[f32], w: &[f32], g: &Geometry) -> Vec<f32> {
    let padded: Vec<usize> = (0..g.xs.len())
        .map(|d| g.xs[d] + g.padding[d].0 + g.padding[d].1)
        .collect();
    let pstrides = Shape::new(padded.clone()).strides();
    let pplane: usize = padded.iter().product();
    let xstrides = Shape::new(g.xs).strides();
    // Padding copy: channels, then per spatial dim padded index → input offset.
    let mut tables = vec![(0..g.c).map(|ci| ci * g.plane()).collect::<Vec<_>>()];
    tables.extend((0..g.xs.len()).map(|d| {
        (0..padded[d])
            .map(|i| match i.checked_sub(g.padding[d].0) {
                Some(p) if p < g.xs[d] => p * xstrides[d],
                _ => FILL,
            })
            .collect()
    }));
    let pad = Gather::new(tables);
    // Flattened shift of each kernel offset, and the padded-grid column of each output.
    let dilated: Vec<(usize, usize)> = (0..g.ks.len())
        .map(|d| (g.ks[d], g.dilation[d] * pstrides[d]))
        .collect();
    let shifts = offsets(&dilated);
    let cols: Vec<(usize, usize)> = (0..g.os.len()).map(|d| (g.os[d], pstrides[d])).collect();
    let valid = offsets(&cols);
    let lq = valid.last().map_or(1, |&q| q + 1);
    let (l, kv) = (g.positions(), g.kernel_volume());
    let mut out = vec![0.0f32; g.batch * g.o * l];
    for n in 0..g.batch {
        let xp = pad.run(&x[n * g.c * g.plane()..(n + 1) * g.c * g.plane()], 0.0);
        for grp in 0..g.groups {
            let wg = &w[grp * g.og * g.cg * kv..(grp + 1) * g.og * g.cg * kv];
            let xg = &xp[grp * g.cg * pplane..(grp + 1) * g.cg * pplane];
            let chunks: Vec<Vec<f32>> = (0..lq.div_ceil(CHUNK))
                .into_par_iter()
                .map(|ci| {
                    let q0 = ci * CHUNK;
                    let width = CHUNK.min(lq - q0);
                    let mut dst = vec![0.0f32; g.og * width];
                    for (kk, &shift) in shifts.iter().enumerate() {
                        let lhs = MatRef {
                            data: &wg[kk..],
                            rs: g.cg * kv,
                            cs: kv,
                        };
                        let rhs = MatRef {
                            data: &xg[q0 + shift..],
                            rs: pplane,
                            cs: 1,
                        };
                        sgemm(g.og, width, g.cg, &mut dst, width, lhs, rhs, kk > 0, false);
                    }
                    dst
                })
                .collect();
            let first = (n * g.o + grp * g.og) * l;
            out[first..first + g.og * l]
                .par_chunks_mut(l)
                .enumerate()
                .for_each(|(oc, row)| {
                    for (dst, &q) in row.iter_mut().zip(&valid) {
                        let chunk = &chunks[q / CHUNK];
                        let width = chunk.len() / g.og;
                        *dst = chunk[oc * width + q % CHUNK];
                    }
                });
        }
    }
    out
}

/// Any convolution as im2col bands + gemm.
fn im2col(x: &[f32], w: &[f32], g: &Geometry) -> Vec<f32> {
    let (ospat, plane) = (g.os, g.plane());
    let xstrides = Shape::new(g.xs).strides();
    let kernel = multi_indices(g.ks);
    let rows = g.cg * kernel.len();
    let l = g.positions();
    let band_inner = l / ospat[0];
    let band = (COL_BUDGET / (rows * band_inner)).clamp(1, ospat[0]);
    let mut out = vec![0.0f32; g.batch * g.o * l];
    let mut col = vec![0.0f32; rows * band * band_inner];
    for o0 in (0..ospat[0]).step_by(band) {
        let len0 = band.min(ospat[0] - o0);
        let cols = len0 * band_inner;
        // One gather per kernel offset: per spatial dim, output index → input offset.
        let gathers: Vec<Gather> = kernel
            .iter()
            .map(|k| {
                let tables = (0..ospat.len())
                    .map(|d| {
                        let range = if d == 0 { o0..o0 + len0 } else { 0..ospat[d] };
                        range
                            .map(|i| {
                                let p = i * g.stride[d] + k[d] * g.dilation[d];
                                match p.checked_sub(g.padding[d].0) {
                                    Some(q) if q < g.xs[d] => q * xstrides[d],
                                    _ => FILL,
                                }
                            })
                            .collect()
                    })
                    .collect();
                Gather::new(tables)
            })
            .collect();
        for n in 0..g.batch {
            for grp in 0..g.groups {
                col[..rows * cols]
                    .par_chunks_mut(cols)
                    .enumerate()
                    .for_each(|(r, dst)| {
                        let (ci, kk) = (r / kernel.len(), r % kernel.len());
                        let src = &x[((n * g.c) + grp * g.cg + ci) * plane..][..plane];
                        let gather = &gathers[kk];
                        let len = gather.row_len();
                        for (i, d) in dst.chunks_mut(len).enumerate() {
                            gather.row_into(i, d, src, 0.0);
                        }
                    });
                let dst = &mut out[(n * g.o + grp * g.og) * l + o0 * band_inner..];
                let weights = MatRef::rows(&w[grp * g.og * rows..(grp + 1) * g.og * rows], rows);
                let patches = MatRef::rows(&col[..rows * cols], cols);
                sgemm(g.og, cols, rows, dst, l, weights, patches, false, true);
            }
        }
    }
    out
}

/// Every multi-index of `dims` in row-major order.
fn multi_indices(dims: &[usize]) -> Vec<Vec<usize>> {
    let mut out = vec![vec![]];
    for &e in dims {
        out = out
            .iter()
            .flat_map(|p| {
                (0..e).map(move |i| {
                    let mut q = p.clone();
                    q.push(i);
                    q
                })
            })
            .collect();
    }
    out
}
