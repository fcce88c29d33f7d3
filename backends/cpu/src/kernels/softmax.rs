//! Softmax along any axis: the operand reads as `[outer, n, inner]` and each outer block is
//! normalised column by column (NaN-propagating max, f64 denominators), blocks in parallel.

use super::fmath::{exp_nonpos, max_nan};
use crate::tensor::{load_f32, store_f32, Arg, GRAIN};
use hyv_ir::{Op, TensorData};
use rayon::prelude::*;

/// Evaluates `softmax`.
pub fn eval(op: &Op, args: &[Arg]) -> Result<TensorData, String> {
    let (Op::Softmax { axis }, [x]) = (op, args) else {
        return Err("not a softmax with one operand".into());
    };
    let dims = x.dims();
    let n = dims[*axis];
    let inner: usize = dims[axis + 1..].iter().product();
    let block = n * inner;
    let xv = load_f32(x.data, "operand")?;
    let mut out = vec![0.0f32; xv.len()];
    out.par_chunks_mut(block)
        .zip(xv.par_chunks(block))
        .with_min_len((GRAIN / block).max(1))
        .for_each(|(o, xb)| {
            for i in 0..inner {
                let max = (0..n)
                    .map(|j| xb[j * inner + i])
                    .fold(f32::NEG_INFINITY, max_nan);
                let mut sum = 0.0f64;
                for j in 0..n {
                    let e = exp_nonpos(xb[j * inner + i] - max);
                    o[j * inner + i] = e;
                    sum += e as f64;
                }
                let inv = (1.0 / sum) as f32;
                for j in 0..n {
                    o[j * inner + i] *= inv;
                }
            }
        });
    store_f32(x.ty.dtype, out)
}
