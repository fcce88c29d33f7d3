//! Normalisations: layer norm (biased variance), RMS norm and group norm. Statistics and
//! the normalised value are computed in f64 whatever the storage dtype, then rounded once.

use crate::values::{load_f32, store_f64};
use hyv_ir::{HostTensor, Op, TensorType};

/// Evaluates `layer_norm`, `rms_norm` or `group_norm`.
pub fn eval(op: &Op, out: &TensorType, inputs: &[&HostTensor]) -> Result<HostTensor, String> {
    let x = inputs.first().ok_or("missing input operand")?;
    let xv = load_f32(x, "input")?;
    let params = inputs[1..]
        .iter()
        .map(|p| load_f32(p, "affine parameter"))
        .collect::<Result<Vec<_>, _>>()?;
    let dims = x.shape().dims();
    match op {
        Op::LayerNorm { eps, .. } | Op::RmsNorm { eps, .. } => {
            let c = *dims.last().ok_or("input must have rank ≥ 1")?;
            let rms = matches!(op, Op::RmsNorm { .. });
            let mut r = Vec::with_capacity(xv.len());
            for row in xv.chunks(c) {
                let row: Vec<f64> = row.iter().map(|&e| e as f64).collect();
                let mean = if rms {
                    0.0
                } else {
                    row.iter().sum::<f64>() / c as f64
                };
                let var = row.iter().map(|e| (e - mean) * (e - mean)).sum::<f64>() / c as f64;
                let inv = 1.0 / (var + eps.0).sqrt();
                for (j, e) in row.iter().enumerate() {
                    let mut y = (e - mean) * inv;
                    if let Some(w) = params.first() {
                        y *= w[j] as f64;
                    }
                    if let Some(b) = params.get(1) {
                        y += b[j] as f64;
                    }
                    r.push(y);
                }
            }
            store_f64(out, r)
        }
        Op::GroupNorm { groups, eps, .. } => {
            if dims.len() < 2 || *groups == 0 || dims[1] % groups != 0 {
                return Err(format!("{groups} groups do not fit input {}", x.ty()));
            }
            let c = dims[1];
            let spatial: usize = dims[2..].iter().product();
            let group_len = c / groups * spatial;
            let mut r = Vec::with_capacity(xv.len());
            for (gi, chunk) in xv.chunks(group_len).enumerate() {
                let v: Vec<f64> = chunk.iter().map(|&e| e as f64).collect();
                let mean = v.iter().sum::<f64>() / group_len as f64;
                let var = v.iter().map(|e| (e - mean) * (e - mean)).sum::<f64>() / group_len as f64;
                let inv = 1.0 / (var + eps.0).sqrt();
                for (j, e) in v.iter().enumerate() {
                    let ch = (gi % groups) * (c / groups) + j / spatial;
                    let mut y = (e - mean) * inv;
                    if let [w, b] = params.as_slice() {
                        y = y * w[ch] as f64 + b[ch] as f64;
                    }
                    r.push(y);
                }
            }
            store_f64(out, r)
        }
        _ => Err("not a normalisation op".into()),
    }
}
