//! Scaled dot-product attention with an optional key mask and causal masking, in f64.

use crate::values::{load_bool, load_f32, store_f64};
use hyv_ir::{HostTensor, Op, TensorType};

/// Evaluates `attention`: `softmax(scale·q·kᵀ)·v` over the visible keys; a query row with no
/// visible key yields zeros.
pub fn eval(op: &Op, out: &TensorType, inputs: &[&HostTensor]) -> Result<HostTensor, String> {
    let Op::Attention { scale, causal, .. } = op else {
        return Err("not an attention op".into());
    };
    let (q, k, v, mask) = match inputs {
        [q, k, v] => (q, k, v, None),
        [q, k, v, m] => (q, k, v, Some(load_bool(m, "key mask")?)),
        _ => return Err(format!("expects 3 or 4 operands, got {}", inputs.len())),
    };
    let (qd, kd, vd) = (q.shape().dims(), k.shape().dims(), v.shape().dims());
    let (b, h, sq, d) = (qd[0], qd[1], qd[2], qd[3]);
    let (sk, dv) = (kd[2], vd[3]);
    let (qv, kv, vv) = (load_f32(q, "q")?, load_f32(k, "k")?, load_f32(v, "v")?);
    let mut r = Vec::with_capacity(out.shape.numel());
    for bi in 0..b {
        for hi in 0..h {
            let bh = bi * h + hi;
            for i in 0..sq {
                let visible = |j: usize| mask.is_none_or(|m| m[bi * sk + j]) && !(*causal && j > i);
                let scores: Vec<Option<f64>> = (0..sk)
                    .map(|j| {
                        visible(j).then(|| {
                            scale.0
                                * (0..d)
                                    .map(|p| {
                                        qv[(bh * sq + i) * d + p] as f64
                                            * kv[(bh * sk + j) * d + p] as f64
                                    })
                                    .sum::<f64>()
                        })
                    })
                    .collect();
                let max = scores
                    .iter()
                    .flatten()
                    .fold(f64::NEG_INFINITY, |m, &s| m.max(s));
                let weights: Vec<f64> = scores
                    .iter()
                    .map(|s| s.map_or(0.0, |s| (s - max).exp()))
                    .collect();
                let sum: f64 = weights.iter().sum();
                let any_visible = scores.iter().any(Option::is_some);
                for e in 0..dv {
                    if !any_visible {
                        r.push(0.0);
                        continue;
                    }
                    let acc: f64 = (0..sk)
                        .map(|j| weights[j] * vv[(bh * sk + j) * dv + e] as f64)
                        .sum();
                    r.push(acc / sum);
                }
            }
        }
    }
    store_f64(out, r)
}
