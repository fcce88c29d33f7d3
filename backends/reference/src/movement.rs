//! Data movement: reshape, permute, broadcast, slice, concat, pad and gather. Every op maps
//! each output element to a source element, so all dtypes share one code path.

use crate::index::{for_each_index, offset, strides};
use crate::values::{load_i64, pick};
use hyv_ir::{HostTensor, Op, PadMode, TensorData, TensorType};

/// Evaluates a data-movement op.
pub fn eval(op: &Op, out: &TensorType, inputs: &[&HostTensor]) -> Result<HostTensor, String> {
    let odims = out.shape.dims();
    match (op, inputs) {
        (Op::Reshape { shape }, [x]) => (*x)
            .clone()
            .reshape(shape.clone())
            .map_err(|e| e.to_string()),
        (Op::Permute { perm }, [x]) => {
            let xs = strides(x.shape().dims());
            let s: Vec<usize> = perm.iter().map(|&p| xs[p]).collect();
            map_one(out, x, |idx| offset(idx, &s))
        }
        (Op::Broadcast { .. }, [x]) => {
            let xd = x.shape().dims();
            let s: Vec<usize> = strides(xd)
                .into_iter()
                .zip(xd)
                .map(|(s, &d)| if d == 1 { 0 } else { s })
                .collect();
            map_one(out, x, |idx| offset(idx, &s))
        }
        (Op::Slice { start, step, .. }, [x]) => {
            let xs = strides(x.shape().dims());
            map_one(out, x, |idx| {
                idx.iter()
                    .enumerate()
                    .map(|(d, &i)| (start[d] + i * step[d]) * xs[d])
                    .sum()
            })
        }
        (Op::Concat { axis }, xs) => {
            let mut bounds = Vec::with_capacity(xs.len());
            let mut acc = 0;
            for x in xs.iter() {
                acc += x.shape().dims()[*axis];
                bounds.push(acc);
            }
            let all_strides: Vec<Vec<usize>> =
                xs.iter().map(|x| strides(x.shape().dims())).collect();
            let mut picks = Vec::with_capacity(out.shape.numel());
            for_each_index(odims, |idx| {
                let i = idx[*axis];
                let src = bounds.iter().position(|&b| i < b).unwrap_or(0);
                let base = if src == 0 { 0 } else { bounds[src - 1] };
                let s = &all_strides[src];
                let off: usize = idx
                    .iter()
                    .enumerate()
                    .map(|(d, &j)| {
                        if d == *axis {
                            (j - base) * s[d]
                        } else {
                            j * s[d]
                        }
                    })
                    .sum();
                picks.push((src, off));
            });
            let sources: Vec<&TensorData> = xs.iter().map(|x| x.data()).collect();
            pick(out, &sources, &picks)
        }
        (Op::Pad { low, mode, .. }, [x]) => {
            let xd = x.shape().dims();
            let xs = strides(xd);
            let fill = match mode {
                PadMode::Constant(c) => TensorData::from_f64(x.dtype(), [c.0]),
                PadMode::Replicate => TensorData::from_f64(x.dtype(), [0.0]),
            };
            let mut picks = Vec::with_capacity(out.shape.numel());
            for_each_index(odims, |idx| {
                let mut off = 0;
                for (d, &i) in idx.iter().enumerate() {
                    // Position in the unpadded tensor, clamped to its edge for replicate.
                    let p = i as isize - low[d] as isize;
                    let clamped = p.clamp(0, xd[d] as isize - 1);
                    if p != clamped && matches!(mode, PadMode::Constant(_)) {
                        picks.push((1, 0));
                        return;
                    }
                    off += clamped as usize * xs[d];
                }
                picks.push((0, off));
            });
            pick(out, &[x.data(), &fill], &picks)
        }
        (Op::Gather { axis }, [x, indices]) => gather(out, x, indices, *axis),
        _ => Err(format!(
            "not a data-movement op with {} operands",
            inputs.len()
        )),
    }
}

/// Builds the output by taking, for every output index, element `src(idx)` of `x`.
pub fn map_one(
    out: &TensorType,
    x: &HostTensor,
    src: impl Fn(&[usize]) -> usize,
) -> Result<HostTensor, String> {
    let mut picks = Vec::with_capacity(out.shape.numel());
    for_each_index(out.shape.dims(), |idx| picks.push((0, src(idx))));
    pick(out, &[x.data()], &picks)
}

fn gather(
    out: &TensorType,
    x: &HostTensor,
    indices: &HostTensor,
    axis: usize,
) -> Result<HostTensor, String> {
    let idx = load_i64(indices, "indices")?;
    let xd = x.shape().dims();
    let extent = xd[axis] as i64;
    if let Some((pos, &bad)) = idx.iter().enumerate().find(|(_, &i)| i < 0 || i >= extent) {
        return Err(format!(
            "index {bad} (indices element {pos}) is out of range for axis {axis} of extent {extent} (input {})",
            x.ty()
        ));
    }
    let xs = strides(xd);
    let istr = strides(indices.shape().dims());
    let ir = indices.shape().rank();
    map_one(out, x, |o| {
        let j = offset(&o[axis..axis + ir], &istr);
        let mut off = idx[j] as usize * xs[axis];
        for d in 0..axis {
            off += o[d] * xs[d];
        }
        for d in axis + 1..xd.len() {
            off += o[d + ir - 1] * xs[d];
        }
        off
    })
}
