//! `reduce_sum` and `reduce_max` over a set of axes.

use crate::index::{for_each_index, offset, strides};
use crate::values::{load_f32, load_i64, store_f64, store_i64};
use hyv_ir::{HostTensor, Op, ReduceOp, TensorType};

/// Evaluates `reduce`: float sums accumulate in f64 in row-major order, integer sums wrap,
/// float max propagates NaN.
pub fn eval(op: &Op, out: &TensorType, inputs: &[&HostTensor]) -> Result<HostTensor, String> {
    let (Op::Reduce { op, axes, .. }, [x]) = (op, inputs) else {
        return Err("not a reduce with one operand".into());
    };
    let dims = x.shape().dims();
    if axes.iter().any(|&a| a >= dims.len()) {
        return Err(format!("axes {axes:?} out of range for {}", x.ty()));
    }
    // The output index of an input element: reduced axes contribute nothing, which is the
    // same flat layout with or without `keep_dims`.
    let kept: Vec<usize> = (0..dims.len())
        .map(|d| if axes.contains(&d) { 1 } else { dims[d] })
        .collect();
    let mut ostrides = strides(&kept);
    for &a in axes {
        ostrides[a] = 0;
    }
    let mut targets = Vec::with_capacity(x.shape().numel());
    for_each_index(dims, |idx| targets.push(offset(idx, &ostrides)));
    let n_out = out.shape.numel();
    if x.dtype().is_float() {
        let v = load_f32(x, "operand")?;
        let mut acc = vec![None::<f64>; n_out];
        for (&t, &e) in targets.iter().zip(&v) {
            let e = e as f64;
            acc[t] = Some(match (acc[t], op) {
                (None, _) => e,
                (Some(a), ReduceOp::Sum) => a + e,
                (Some(a), ReduceOp::Max) if a.is_nan() || e.is_nan() => f64::NAN,
                (Some(a), ReduceOp::Max) => a.max(e),
            });
        }
        store_f64(out, acc.into_iter().map(|a| a.unwrap_or(0.0)).collect())
    } else {
        let v = load_i64(x, "operand")?;
        let mut acc = vec![None::<i64>; n_out];
        for (&t, &e) in targets.iter().zip(&v) {
            acc[t] = Some(match (acc[t], op) {
                (None, _) => e,
                (Some(a), ReduceOp::Sum) => a.wrapping_add(e),
                (Some(a), ReduceOp::Max) => a.max(e),
            });
        }
        store_i64(out, acc.into_iter().map(|a| a.unwrap_or(0)).collect())
    }
}
