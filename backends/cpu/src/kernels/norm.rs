//! Normalisations: layer norm (biased variance), RMS norm and group norm. Statistics and
//! the normalised values are computed in f64 (so inputs near f32's range limits, whose
//! inverse deviation is subnormal in f32, keep their precision), rows (or groups) in
//! parallel.

use crate::tensor::{load_f32, store_f32, Arg, GRAIN};
use hyv_ir::{Op, TensorData};
use rayon::prelude::*;

/// Evaluates `layer_norm`, `rms_norm` or `group_norm`.
pub fn eval(op: &Op, args: &[Arg]) -> Result<TensorData, String> {
    let x = args.first().ok_or("missing input operand")?;
    let xv = load_f32(x.data, "input")?;
    let params = args[1..]
        .iter()
        .map(|p| load_f32(p.data, "affine parameter"))
        .collect::<Result<Vec<_>, _>>()?;
    let (w, b) = (params.first(), params.get(1));
    let dims = x.dims();
    // Every element is written below.
    let mut out = crate::pool::buffer(xv.len());
    match op {
        Op::LayerNorm { eps, .. } | Op::RmsNorm { eps, .. } => {
            let c = *dims.last().ok_or("input must have rank ≥ 1")?;
            let center = matches!(op, Op::LayerNorm { .. });
            out.par_chunks_mut(c)
                .zip(xv.par_chunks(c))
                .with_min_len((GRAIN / c).max(1))
                .for_each(|(o, row)| {
                    let (mean, inv) = stats(row, center, eps.0);
                    for (j, (o, &e)) in o.iter_mut().zip(row).enumerate() {
                        let y = (e as f64 - mean) * inv * w.map_or(1.0, |w| w[j] as f64);
                        *o = (y + b.map_or(0.0, |b| b[j] as f64)) as f32;
                    }
                });
        }
        Op::GroupNorm { groups, eps, .. } => {
            let c = dims[1];
            let spatial: usize = dims[2..].iter().product();
            let per_group = c / groups;
            let len = per_group * spatial;
            out.par_chunks_mut(len)
                .zip(xv.par_chunks(len))
                .enumerate()
                .for_each(|(gi, (o, chunk))| {
                    let (mean, inv) = stats(chunk, true, eps.0);
                    let first = (gi % groups) * per_group;
                    for (ch_rel, (o, part)) in
                        o.chunks_mut(spatial).zip(chunk.chunks(spatial)).enumerate()
                    {
                        let ch = first + ch_rel;
                        let (scale, shift) = match (w, b) {
                            (Some(w), Some(b)) => (w[ch] as f64, b[ch] as f64),
                            _ => (1.0, 0.0),
                        };
                        for (o, &e) in o.iter_mut().zip(part) {
                            *o = (((e as f64 - mean) * inv) * scale + shift) as f32;
                        }
                    }
                });
        }
        _ => return Err("not a normalisation op".into()),
    }
    store_f32(x.ty.dtype, out)
}

/// Mean (0 unless `center`) and `1/sqrt(var + eps)` of `v`, accumulated in f64.
fn stats(v: &[f32], center: bool, eps: f64) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = if center { sum_f64(v, |e| e) / n } else { 0.0 };
    let var = sum_f64(v, |e| (e - mean) * (e - mean)) / n;
    (mean, 1.0 / (var + eps).sqrt())
}

/// `Σ f(e)` over `v` in f64 with eight independent partial sums, so the loop vectorises
/// instead of waiting on one chain of additions.
#[inline(always)]
fn sum_f64(v: &[f32], f: impl Fn(f64) -> f64) -> f64 {
    let mut acc = [0.0f64; 8];
    let chunks = v.chunks_exact(8);
    let tail: f64 = chunks.remainder().iter().map(|&e| f(e as f64)).sum();
    for c in chunks {
        for (a, &e) in acc.iter_mut().zip(c) {
            *a += f(e as f64);
        }
    }
    acc.iter().sum::<f64>() + tail
}
