//! Rotary position embedding: `x·cos + rot(x)·sin`, pairwise (interleaved) or half-split.

use crate::values::{load_f32, store_f64};
use hyv_ir::{HostTensor, Op, TensorType};

/// Evaluates `rope`. Interleaved rotates pairs `(x[2i], x[2i+1]) → (-x[2i+1], x[2i])`;
/// half-split rotates halves `(x1, x2) → (-x2, x1)`.
pub fn eval(op: &Op, out: &TensorType, inputs: &[&HostTensor]) -> Result<HostTensor, String> {
    let (Op::Rope { interleaved }, [x, cos, sin]) = (op, inputs) else {
        return Err("not a rope with three operands".into());
    };
    let dims = x.shape().dims();
    let (s, d) = (dims[dims.len() - 2], dims[dims.len() - 1]);
    let (xv, cv, sv) = (
        load_f32(x, "input")?,
        load_f32(cos, "cos")?,
        load_f32(sin, "sin")?,
    );
    let half = d / 2;
    let mut r = Vec::with_capacity(xv.len());
    for (row_i, row) in xv.chunks(d).enumerate() {
        let base = (row_i % s) * d;
        for j in 0..d {
            let rot = match (*interleaved, j % 2 == 0, j < half) {
                (true, true, _) => -(row[j + 1] as f64),
                (true, false, _) => row[j - 1] as f64,
                (false, _, true) => -(row[j + half] as f64),
                (false, _, false) => row[j - half] as f64,
            };
            r.push(row[j] as f64 * cv[base + j] as f64 + rot * sv[base + j] as f64);
        }
    }
    store_f64(out, r)
}
