//! Activation composites: softmax (f64 denominators), GELU (tanh and exact erf) and SiLU.

use crate::index::strides;
use crate::math;
use crate::values::{load_f32, store_f64};
use hyv_ir::{HostTensor, Op, TensorType};

/// Evaluates `softmax`, `gelu` or `silu`.
pub fn eval(op: &Op, out: &TensorType, inputs: &[&HostTensor]) -> Result<HostTensor, String> {
    let [x] = inputs else {
        return Err(format!("expects 1 operand, got {}", inputs.len()));
    };
    let v: Vec<f64> = load_f32(x, "operand")?
        .into_iter()
        .map(|e| e as f64)
        .collect();
    let r = match op {
        Op::Softmax { axis } => softmax(&v, x.shape().dims(), *axis),
        Op::Gelu { tanh: true } => {
            let c = (2.0 / std::f64::consts::PI).sqrt();
            v.iter()
                .map(|&e| 0.5 * e * (1.0 + (c * (e + 0.044715 * e * e * e)).tanh()))
                .collect()
        }
        // 0.5·x·(1 + erf(x/√2)) = 0.5·x·erfc(-x/√2), which stays accurate for very negative x.
        Op::Gelu { tanh: false } => v
            .iter()
            .map(|&e| 0.5 * e * math::erfc(-e / std::f64::consts::SQRT_2))
            .collect(),
        Op::Silu => v.iter().map(|&e| e / (1.0 + (-e).exp())).collect(),
        _ => return Err("not an activation op".into()),
    };
    store_f64(out, r)
}

/// `exp(x - max) / Σ exp(x - max)` along `axis`.
fn softmax(v: &[f64], dims: &[usize], axis: usize) -> Vec<f64> {
    let n = dims[axis];
    let step = strides(dims)[axis];
    let mut r = vec![0.0; v.len()];
    for start in 0..v.len() {
        // Visit each row once, from its first element (index 0 along `axis`).
        if !(start / step).is_multiple_of(n) {
            continue;
        }
        let row: Vec<usize> = (0..n).map(|j| start + j * step).collect();
        let max = row.iter().map(|&i| v[i]).fold(f64::NEG_INFINITY, |m, e| {
            if m.is_nan() || e.is_nan() {
                f64::NAN
            } else {
                m.max(e)
            }
        });
        let exps: Vec<f64> = row.iter().map(|&i| (v[i] - max).exp()).collect();
        let sum: f64 = exps.iter().sum();
        for (&i, e) in row.iter().zip(exps) {
            r[i] = e / sum;
        }
    }
    r
}
