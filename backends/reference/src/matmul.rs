//! Contractions with f64 accumulation: `matmul` (batched, or with a shared rank-2 rhs) and
//! the `linear` composite.

use crate::values::{load_f32, load_i64, store_f64, store_i64};
use hyv_ir::{HostTensor, Op, TensorType};

/// Evaluates `matmul` or `linear`.
pub fn eval(op: &Op, out: &TensorType, inputs: &[&HostTensor]) -> Result<HostTensor, String> {
    match (op, inputs) {
        (Op::MatMul, [a, b]) => matmul(out, a, b),
        (Op::Linear { has_bias }, [x, w, rest @ ..]) if rest.len() == *has_bias as usize => {
            linear(out, x, w, rest.first().copied())
        }
        _ => Err(format!(
            "not a contraction op with {} operands",
            inputs.len()
        )),
    }
}

/// Problem sizes of `[B..., m, k] @ [B..., k, n] | [k, n]`: (batches, m, k, n, rhs batched).
fn sizes(a: &HostTensor, b: &HostTensor) -> Result<(usize, usize, usize, usize, bool), String> {
    let (ad, bd) = (a.shape().dims(), b.shape().dims());
    if ad.len() < 2 || bd.len() < 2 || ad[ad.len() - 1] != bd[bd.len() - 2] {
        return Err(format!("cannot multiply {} by {}", a.ty(), b.ty()));
    }
    let (m, k, n) = (ad[ad.len() - 2], ad[ad.len() - 1], bd[bd.len() - 1]);
    let batches = ad[..ad.len() - 2].iter().product();
    Ok((batches, m, k, n, bd.len() > 2))
}

fn matmul(out: &TensorType, a: &HostTensor, b: &HostTensor) -> Result<HostTensor, String> {
    let (batches, m, k, n, rhs_batched) = sizes(a, b)?;
    let rb = |bi: usize| if rhs_batched { bi * k * n } else { 0 };
    if a.dtype().is_float() {
        let (x, y) = (load_f32(a, "lhs")?, load_f32(b, "rhs")?);
        let mut r = Vec::with_capacity(batches * m * n);
        for bi in 0..batches {
            for i in 0..m {
                for j in 0..n {
                    let acc: f64 = (0..k)
                        .map(|p| x[bi * m * k + i * k + p] as f64 * y[rb(bi) + p * n + j] as f64)
                        .sum();
                    r.push(acc);
                }
            }
        }
        store_f64(out, r)
    } else {
        let (x, y) = (load_i64(a, "lhs")?, load_i64(b, "rhs")?);
        let mut r = Vec::with_capacity(batches * m * n);
        for bi in 0..batches {
            for i in 0..m {
                for j in 0..n {
                    let acc = (0..k).fold(0i64, |acc, p| {
                        acc.wrapping_add(
                            x[bi * m * k + i * k + p].wrapping_mul(y[rb(bi) + p * n + j]),
                        )
                    });
                    r.push(acc);
                }
            }
        }
        store_i64(out, r)
    }
}

fn linear(
    out: &TensorType,
    x: &HostTensor,
    w: &HostTensor,
    bias: Option<&HostTensor>,
) -> Result<HostTensor, String> {
    let (xv, wv) = (load_f32(x, "input")?, load_f32(w, "weight")?);
    let bv = bias.map(|b| load_f32(b, "bias")).transpose()?;
    let (o, i) = match w.shape().dims() {
        [o, i] => (*o, *i),
        _ => return Err(format!("weight {} must be [out, in]", w.ty())),
    };
    if x.shape().dims().last() != Some(&i) {
        return Err(format!("input {} does not end in {i} features", x.ty()));
    }
    let rows = x.shape().numel() / i;
    let mut r = Vec::with_capacity(rows * o);
    for row in 0..rows {
        for oi in 0..o {
            let dot: f64 = (0..i)
                .map(|p| xv[row * i + p] as f64 * wv[oi * i + p] as f64)
                .sum();
            r.push(dot + bv.as_ref().map_or(0.0, |b| b[oi] as f64));
        }
    }
    store_f64(out, r)
}
