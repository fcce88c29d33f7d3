//! Rotary position embedding `x·cos + rot(x)·sin`, pairwise (interleaved) or half-split,
//! rows in parallel.

use crate::tensor::{load_f32, store_f32, Arg, GRAIN};
use hyv_ir::{Op, TensorData};
use rayon::prelude::*;

/// Evaluates `rope`.
pub fn eval(op: &Op, args: &[Arg]) -> Result<TensorData, String> {
    let (Op::Rope { interleaved }, [x, cos, sin]) = (op, args) else {
        return Err("not a rope with three operands".into());
    };
    let dims = x.dims();
    let (s, d) = (dims[dims.len() - 2], dims[dims.len() - 1]);
    let half = d / 2;
    let xv = load_f32(x.data, "input")?;
    let (cv, sv) = (load_f32(cos.data, "cos")?, load_f32(sin.data, "sin")?);
    let mut out = vec![0.0f32; xv.len()];
    out.par_chunks_mut(d)
        .zip(xv.par_chunks(d))
        .enumerate()
        .with_min_len((GRAIN / d).max(1))
        .for_each(|(ri, (o, x))| {
            let base = (ri % s) * d;
            let (c, sn) = (&cv[base..base + d], &sv[base..base + d]);
            for j in 0..d {
                let rot = match (*interleaved, j % 2 == 0, j < half) {
                    (true, true, _) => -x[j + 1],
                    (true, false, _) => x[j - 1],
                    (false, _, true) => -x[j + half],
                    (false, _, false) => x[j - half],
                };
                o[j] = x[j] * c[j] + rot * sn[j];
            }
        });
    store_f32(x.ty.dtype, out)
}
