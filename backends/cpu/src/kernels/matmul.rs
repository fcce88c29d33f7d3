//! Contractions on [`super::gemm::sgemm`]: `matmul`
//! (batched, or a shared rank-2 rhs folded into one tall product) and the `linear`
//! composite (the weight read transposed in place, the bias as the initial destination).
//! f16/bf16 operands are widened to f32 and the f32 result rounded once: on a 2048³
//! product this ran as fast as gemm's native f16 kernel (88 vs 91 GFLOP/s, same loaded
//! 2-core machine, `benches/matmul.rs`), and it serves bf16 too, which gemm lacks.
//! Integer matmuls use plain wrapping loops.

use super::gemm::{sgemm, MatRef};
use crate::pool;
use crate::tensor::{load_f32, store_f32, Arg};
use hyv_ir::{DType, Op, TensorData};
use rayon::prelude::*;

/// Batches whose product has fewer multiply-adds than this run one per thread instead of
/// splitting each product over all threads.
const SMALL_PRODUCT: usize = 1 << 21;

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
    // Every product overwrites its rows (no accumulation).
    let mut out = pool::buffer(batches * m * n);
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
    let mut out = pool::buffer(rows * out_f);
    if let Some(b) = bias {
        let b = load_f32(b.data, "bias")?;
        out.par_chunks_mut(out_f)
            .for_each(|row| row.copy_from_slice(&b));
    }
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
