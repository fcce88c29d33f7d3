//! Contractions on the `gemm` crate (AVX-512 kernels with feature `x86-v4`): `matmul`
//! (batched, or a shared rank-2 rhs folded into one tall product) and the `linear`
//! composite (the weight read transposed in place, the bias as the initial destination).
//! f16/bf16 operands are widened to f32 and the f32 result rounded once: on a 2048³
//! product this ran as fast as gemm's native f16 kernel (88 vs 91 GFLOP/s, same loaded
//! 2-core machine, `benches/matmul.rs`), and it serves bf16 too, which gemm lacks.
//! Integer matmuls use plain wrapping loops.

use crate::tensor::{load_f32, store_f32, Arg};
use gemm::Parallelism;
use hyv_ir::{DType, Op, TensorData};
use rayon::prelude::*;

/// Batches whose product has fewer multiply-adds than this run one per thread instead of
/// splitting each product over all threads.
const SMALL_PRODUCT: usize = 1 << 21;

/// A strided f32 matrix: element `(i, j)` is `data[i·rs + j·cs]`.
#[derive(Debug, Clone, Copy)]
pub struct MatRef<'a> {
    /// The elements.
    pub data: &'a [f32],
    /// Row stride.
    pub rs: usize,
    /// Column stride.
    pub cs: usize,
}

impl<'a> MatRef<'a> {
    /// A row-major matrix with `cols` columns.
    pub fn rows(data: &'a [f32], cols: usize) -> Self {
        MatRef {
            data,
            rs: cols,
            cs: 1,
        }
    }

    /// The transpose of a row-major matrix with `cols` columns.
    pub fn transposed(data: &'a [f32], cols: usize) -> Self {
        MatRef {
            data,
            rs: 1,
            cs: cols,
        }
    }

    fn check(&self, rows: usize, cols: usize, what: &str) {
        let last = (rows - 1) * self.rs + (cols - 1) * self.cs;
        assert!(
            last < self.data.len(),
            "{what} view {rows}×{cols} (strides {}, {}) exceeds {} elements",
            self.rs,
            self.cs,
            self.data.len()
        );
    }
}

/// `dst (+)= lhs · rhs` for an `m×n` destination with row stride `dst_rs` and unit column
/// stride; `accumulate` adds to `dst` instead of overwriting it. `parallel` splits the
/// product over the current rayon pool.
#[allow(clippy::too_many_arguments)]
pub fn sgemm(
    m: usize,
    n: usize,
    k: usize,
    dst: &mut [f32],
    dst_rs: usize,
    lhs: MatRef,
    rhs: MatRef,
    accumulate: bool,
    parallel: bool,
) {
    if m == 0 || n == 0 {
        return;
    }
    assert!((m - 1) * dst_rs + n <= dst.len(), "destination too small");
    if k == 0 {
        if !accumulate {
            for row in dst.chunks_mut(dst_rs).take(m) {
                row[..n].fill(0.0);
            }
        }
        return;
    }
    lhs.check(m, k, "lhs");
    rhs.check(k, n, "rhs");
    let threads = rayon::current_num_threads();
    let parallelism = if parallel && threads > 1 {
        Parallelism::Rayon(threads)
    } else {
        Parallelism::None
    };
    // SAFETY: the three views were bounds-checked above against their slices for the
    // given extents and strides; `dst` is borrowed mutably, so it aliases neither operand.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            dst_rs as isize,
            accumulate,
            lhs.data.as_ptr(),
            lhs.cs as isize,
            lhs.rs as isize,
            rhs.data.as_ptr(),
            rhs.cs as isize,
            rhs.rs as isize,
            1.0f32,
            1.0f32,
            false,
            false,
            false,
            parallelism,
        );
    }
}

/// Evaluates `matmul` or `linear`.
pub fn eval(op: &Op, args: &[Arg]) -> Result<TensorData, String> {
    match (op, args) {
        (Op::MatMul, [a, b]) => matmul(a, b),
        (Op::Linear { has_bias }, [x, w, rest @ ..]) if rest.len() == *has_bias as usize => {
            linear(x, w, rest.first())
        }
        _ => Err(format!("not a contraction op with {} operands", args.len())),
    }
}

/// Sizes of `[B…, m, k] @ [B…, k, n] | [k, n]`.
struct Dims {
    batches: usize,
    m: usize,
    k: usize,
    n: usize,
    rhs_batched: bool,
}

fn matmul(a: &Arg, b: &Arg) -> Result<TensorData, String> {
    let (ad, bd) = (a.dims(), b.dims());
    if ad.len() < 2 || bd.len() < 2 {
        return Err(format!("cannot multiply {} by {}", a.ty, b.ty));
    }
    let d = Dims {
        batches: ad[..ad.len() - 2].iter().product(),
        m: ad[ad.len() - 2],
        k: ad[ad.len() - 1],
        n: bd[bd.len() - 1],
        rhs_batched: bd.len() > 2,
    };
    match a.ty.dtype {
        dt if dt.is_float() => {
            let (x, y) = (load_f32(a.data, "lhs")?, load_f32(b.data, "rhs")?);
            store_f32(dt, float_matmul(&x, &y, &d))
        }
        DType::I32 | DType::I64 => {
            let r = int_matmul(&ints(a.data)?, &ints(b.data)?, &d);
            Ok(match a.ty.dtype {
                DType::I32 => TensorData::I32(r.into_iter().map(|e| e as i32).collect()),
                _ => TensorData::I64(r),
            })
        }
        dt => Err(format!("matmul is not defined on {dt}")),
    }
}

fn float_matmul(x: &[f32], y: &[f32], d: &Dims) -> Vec<f32> {
    let Dims {
        batches, m, k, n, ..
    } = *d;
    let mut out = vec![0.0f32; batches * m * n];
    if !d.rhs_batched {
        // A shared rhs: the batches are one tall row-major lhs.
        let (lhs, rhs) = (MatRef::rows(x, k), MatRef::rows(y, n));
        sgemm(batches * m, n, k, &mut out, n, lhs, rhs, false, true);
        return out;
    }
    let one = |bi: usize, dst: &mut [f32], parallel: bool| {
        let lhs = MatRef::rows(&x[bi * m * k..(bi + 1) * m * k], k);
        let rhs = MatRef::rows(&y[bi * k * n..(bi + 1) * k * n], n);
        sgemm(m, n, k, dst, n, lhs, rhs, false, parallel);
    };
    if batches > 1 && m * n * k < SMALL_PRODUCT {
        out.par_chunks_mut(m * n)
            .enumerate()
            .for_each(|(bi, dst)| one(bi, dst, false));
    } else {
        for (bi, dst) in out.chunks_mut(m * n).enumerate() {
            one(bi, dst, true);
        }
    }
    out
}

/// Integer elements widened to i64.
fn ints(data: &TensorData) -> Result<Vec<i64>, String> {
    match data {
        TensorData::I32(v) => Ok(v.iter().map(|&e| e as i64).collect()),
        TensorData::I64(v) => Ok(v.clone()),
        other => Err(format!(
            "expected an integer operand, got {}",
            other.dtype()
        )),
    }
}

fn int_matmul(x: &[i64], y: &[i64], d: &Dims) -> Vec<i64> {
    let Dims { m, k, n, .. } = *d;
    let mut out = vec![0i64; d.batches * m * n];
    out.par_chunks_mut(n).enumerate().for_each(|(row, dst)| {
        let bi = row / m;
        let rhs = if d.rhs_batched { &y[bi * k * n..] } else { y };
        for (p, &a) in x[row * k..(row + 1) * k].iter().enumerate() {
            for (o, &b) in dst.iter_mut().zip(&rhs[p * n..(p + 1) * n]) {
                *o = o.wrapping_add(a.wrapping_mul(b));
            }
        }
    });
    out
}

fn linear(x: &Arg, w: &Arg, bias: Option<&Arg>) -> Result<TensorData, String> {
    let [out_f, in_f] = *w.dims() else {
        return Err(format!("weight {} must be [out, in]", w.ty));
    };
    let (xv, wv) = (load_f32(x.data, "input")?, load_f32(w.data, "weight")?);
    let rows = xv.len() / in_f;
    let mut out = match bias {
        Some(b) => load_f32(b.data, "bias")?.repeat(rows),
        None => vec![0.0; rows * out_f],
    };
    let (lhs, rhs) = (MatRef::rows(&xv, in_f), MatRef::transposed(&wv, in_f));
    sgemm(
        rows,
        out_f,
        in_f,
        &mut out,
        out_f,
        lhs,
        rhs,
        bias.is_some(),
        true,
    );
    store_f32(x.ty.dtype, out)
}
