//! N-d convolution (cross-correlation, like PyTorch's `convNd` without bias) with stride,
//! zero padding, dilation and groups, accumulating in f64.

use crate::index::{for_each_index, offset, strides};
use crate::values::{load_f32, store_f64};
use hyv_ir::{HostTensor, Op, TensorType};

/// Evaluates `conv`.
pub fn eval(op: &Op, out: &TensorType, inputs: &[&HostTensor]) -> Result<HostTensor, String> {
    let (
        Op::Conv {
            stride,
            padding,
            dilation,
            groups,
        },
        [x, w],
    ) = (op, inputs)
    else {
        return Err("not a conv with two operands".into());
    };
    let (xd, wd, od) = (x.shape().dims(), w.shape().dims(), out.shape.dims());
    let (xs, ws) = (strides(xd), strides(wd));
    let (xv, wv) = (load_f32(x, "input")?, load_f32(w, "weight")?);
    let cg = wd[1];
    let og = od[1] / groups;
    let ksize = &wd[2..];
    let mut r = Vec::with_capacity(out.shape.numel());
    for_each_index(od, |o| {
        let (n, oc) = (o[0], o[1]);
        let g = oc / og;
        let mut acc = 0.0f64;
        for c in 0..cg {
            let ic = g * cg + c;
            for_each_index(ksize, |k| {
                let mut xoff = n * xs[0] + ic * xs[1];
                for d in 0..k.len() {
                    // Input position in padded coordinates, then unpadded.
                    let p = o[d + 2] * stride[d] + k[d] * dilation[d];
                    if p < padding[d].0 || p - padding[d].0 >= xd[d + 2] {
                        return;
                    }
                    xoff += (p - padding[d].0) * xs[d + 2];
                }
                let woff = oc * ws[0] + c * ws[1] + offset(k, &ws[2..]);
                acc += xv[xoff] as f64 * wv[woff] as f64;
            });
        }
        r.push(acc);
    });
    store_f64(out, r)
}
