//! Shape and dtype inference: the output type of every op from its operand types.
//!
//! Errors are plain messages with the expected and actual values; [`crate::Graph::add`]
//! wraps them with the op name and module path.

use crate::{BinaryOp, DType, Op, Shape, TensorType, UnaryOp};

type R = Result<TensorType, String>;

/// Checks that `op` on operands of types `inputs` gives exactly the type `out` — what a
/// backend verifies before running an op whose output type the caller requested.
pub fn check_output(op: &Op, inputs: &[&TensorType], out: &TensorType) -> Result<(), String> {
    let inferred = infer(op, inputs)?;
    if inferred != *out {
        let operands: Vec<String> = inputs.iter().map(|t| t.to_string()).collect();
        return Err(format!(
            "operands ({}) give type {inferred}, but the requested output type is {out}",
            operands.join(", ")
        ));
    }
    Ok(())
}

/// The output type of `op` applied to operands of types `inputs`.
pub fn infer(op: &Op, inputs: &[&TensorType]) -> R {
    match op {
        Op::Input { name } | Op::Parameter { name } => Err(format!(
            "`{name}`: inputs and parameters carry their type; build them with Graph::push"
        )),
        Op::Constant { value } => {
            arity(inputs, 0)?;
            Ok(value.ty().clone())
        }
        Op::Iota { shape, axis, dtype } => {
            arity(inputs, 0)?;
            check_shape(shape)?;
            check_axis(*axis, shape.rank())?;
            if *dtype == DType::Bool {
                return Err("iota cannot produce bool".into());
            }
            Ok(TensorType::new(*dtype, shape.clone()))
        }
        Op::RandomNormal { shape, dtype, .. } => {
            arity(inputs, 0)?;
            check_shape(shape)?;
            need_float(*dtype, "random_normal output")?;
            Ok(TensorType::new(*dtype, shape.clone()))
        }
        Op::Unary(u) => {
            arity(inputs, 1)?;
            let x = inputs[0];
            match u {
                UnaryOp::Not => need_dtype(x, DType::Bool, "operand")?,
                UnaryOp::Neg | UnaryOp::Abs => {
                    if x.dtype == DType::Bool {
                        return Err(format!("operand {x} must be numeric"));
                    }
                }
                _ => need_float(x.dtype, &format!("operand {x}"))?,
            }
            Ok(x.clone())
        }
        Op::Binary(b) => {
            arity(inputs, 2)?;
            same_type(inputs[0], inputs[1])?;
            let d = inputs[0].dtype;
            match b {
                BinaryOp::And | BinaryOp::Or => need_dtype(inputs[0], DType::Bool, "operands")?,
                BinaryOp::Pow => need_float(d, "pow operands")?,
                _ if d == DType::Bool => {
                    return Err(format!("operands {} must be numeric", inputs[0]))
                }
                _ => {}
            }
            Ok(inputs[0].clone())
        }
        Op::Compare(_) => {
            arity(inputs, 2)?;
            same_type(inputs[0], inputs[1])?;
            Ok(TensorType::new(DType::Bool, inputs[0].shape.clone()))
        }
        Op::Select => {
            arity(inputs, 3)?;
            need_dtype(inputs[0], DType::Bool, "condition")?;
            same_shape(inputs[0], inputs[1], "condition", "true branch")?;
            same_type(inputs[1], inputs[2])?;
            Ok(inputs[1].clone())
        }
        Op::Cast { to } => {
            arity(inputs, 1)?;
            Ok(TensorType::new(*to, inputs[0].shape.clone()))
        }
        Op::Reduce {
            axes, keep_dims, ..
        } => {
            arity(inputs, 1)?;
            let x = inputs[0];
            if x.dtype == DType::Bool {
                return Err(format!("operand {x} must be numeric"));
            }
            if axes.is_empty() {
                return Err("axes must not be empty".into());
            }
            if axes.windows(2).any(|w| w[0] >= w[1]) {
                return Err(format!("axes {axes:?} must be sorted and unique"));
            }
            for &a in axes {
                check_axis(a, x.shape.rank())?;
            }
            let dims = x
                .shape
                .dims()
                .iter()
                .enumerate()
                .filter_map(|(i, &d)| match (axes.contains(&i), keep_dims) {
                    (false, _) => Some(d),
                    (true, true) => Some(1),
                    (true, false) => None,
                })
                .collect::<Vec<_>>();
            Ok(TensorType::new(x.dtype, dims))
        }
        Op::Reshape { shape } => {
            arity(inputs, 1)?;
            check_shape(shape)?;
            let x = inputs[0];
            if x.shape.numel() != shape.numel() {
                return Err(format!(
                    "cannot reshape {x} ({} elements) to {shape} ({} elements)",
                    x.shape.numel(),
                    shape.numel()
                ));
            }
            Ok(TensorType::new(x.dtype, shape.clone()))
        }
        Op::Permute { perm } => {
            arity(inputs, 1)?;
            let x = inputs[0];
            let r = x.shape.rank();
            let mut seen = vec![false; r];
            if perm.len() != r
                || perm
                    .iter()
                    .any(|&p| p >= r || std::mem::replace(&mut seen[p], true))
            {
                return Err(format!(
                    "{perm:?} is not a permutation of the {r} axes of {x}"
                ));
            }
            let dims = perm.iter().map(|&p| x.shape.dims()[p]).collect::<Vec<_>>();
            Ok(TensorType::new(x.dtype, dims))
        }
        Op::Broadcast { shape } => {
            arity(inputs, 1)?;
            check_shape(shape)?;
            let x = inputs[0];
            if x.shape.rank() != shape.rank()
                || x.shape
                    .dims()
                    .iter()
                    .zip(shape.dims())
                    .any(|(&a, &b)| a != 1 && a != b)
            {
                return Err(format!(
                    "cannot broadcast {x} to {shape}: ranks must match and each extent be 1 or equal"
                ));
            }
            Ok(TensorType::new(x.dtype, shape.clone()))
        }
        Op::Slice { start, end, step } => {
            arity(inputs, 1)?;
            let x = inputs[0];
            let r = x.shape.rank();
            if start.len() != r || end.len() != r || step.len() != r {
                return Err(format!(
                    "slice of {x} needs {r} starts, ends and steps, got {}, {} and {}",
                    start.len(),
                    end.len(),
                    step.len()
                ));
            }
            let mut dims = Vec::with_capacity(r);
            for d in 0..r {
                let n = x.shape.dims()[d];
                if step[d] == 0 || start[d] >= end[d] || end[d] > n {
                    return Err(format!(
                        "slice {}..{} step {} of axis {d} (extent {n}) of {x} is empty or out of range",
                        start[d], end[d], step[d]
                    ));
                }
                dims.push((end[d] - start[d]).div_ceil(step[d]));
            }
            Ok(TensorType::new(x.dtype, dims))
        }
        Op::Concat { axis } => {
            if inputs.is_empty() {
                return Err("concat needs at least one operand".into());
            }
            let first = inputs[0];
            check_axis(*axis, first.shape.rank())?;
            let mut dims = first.shape.dims().to_vec();
            for (i, x) in inputs.iter().enumerate().skip(1) {
                let ok = x.dtype == first.dtype
                    && x.shape.rank() == first.shape.rank()
                    && (0..dims.len()).all(|d| d == *axis || x.shape.dims()[d] == dims[d]);
                if !ok {
                    return Err(format!(
                        "operand {i} {x} does not match operand 0 {first} outside axis {axis}"
                    ));
                }
                dims[*axis] += x.shape.dims()[*axis];
            }
            Ok(TensorType::new(first.dtype, dims))
        }
        Op::Pad { low, high, .. } => {
            arity(inputs, 1)?;
            let x = inputs[0];
            let r = x.shape.rank();
            if low.len() != r || high.len() != r {
                return Err(format!(
                    "pad of {x} needs {r} low and high amounts, got {} and {}",
                    low.len(),
                    high.len()
                ));
            }
            let dims = (0..r)
                .map(|d| x.shape.dims()[d] + low[d] + high[d])
                .collect::<Vec<_>>();
            Ok(TensorType::new(x.dtype, dims))
        }
        Op::Gather { axis } => {
            arity(inputs, 2)?;
            let (x, idx) = (inputs[0], inputs[1]);
            check_axis(*axis, x.shape.rank())?;
            if !idx.dtype.is_int() {
                return Err(format!("indices {idx} must be i32 or i64"));
            }
            let xd = x.shape.dims();
            let mut dims = xd[..*axis].to_vec();
            dims.extend_from_slice(idx.shape.dims());
            dims.extend_from_slice(&xd[axis + 1..]);
            Ok(TensorType::new(x.dtype, dims))
        }
        Op::MatMul => {
            arity(inputs, 2)?;
            matmul_type(inputs[0], inputs[1])
        }
        Op::Conv {
            stride,
            padding,
            dilation,
            groups,
        } => {
            arity(inputs, 2)?;
            conv_type(inputs[0], inputs[1], stride, padding, dilation, *groups)
        }
        Op::AllReduce { .. } | Op::BroadcastFrom { .. } => {
            arity(inputs, 1)?;
            Ok(inputs[0].clone())
        }
        Op::AllGather { axis, group } => {
            arity(inputs, 1)?;
            let x = inputs[0];
            check_axis(*axis, x.shape.rank())?;
            let mut dims = x.shape.dims().to_vec();
            dims[*axis] *= group.size;
            Ok(TensorType::new(x.dtype, dims))
        }
        Op::ReduceScatter { axis, group } => {
            arity(inputs, 1)?;
            let x = inputs[0];
            check_axis(*axis, x.shape.rank())?;
            let mut dims = x.shape.dims().to_vec();
            divisible(dims[*axis], group.size, *axis, x)?;
            dims[*axis] /= group.size;
            Ok(TensorType::new(x.dtype, dims))
        }
        Op::AllToAll {
            split_axis,
            concat_axis,
            group,
        } => {
            arity(inputs, 1)?;
            let x = inputs[0];
            check_axis(*split_axis, x.shape.rank())?;
            check_axis(*concat_axis, x.shape.rank())?;
            let mut dims = x.shape.dims().to_vec();
            divisible(dims[*split_axis], group.size, *split_axis, x)?;
            dims[*split_axis] /= group.size;
            dims[*concat_axis] *= group.size;
            Ok(TensorType::new(x.dtype, dims))
        }
        Op::Linear { has_bias } => {
            arity(inputs, 2 + *has_bias as usize)?;
            let (x, w) = (inputs[0], inputs[1]);
            need_float(x.dtype, &format!("input {x}"))?;
            same_dtype(x, w, "input", "weight")?;
            let (out_f, in_f) = match w.shape.dims() {
                [o, i] => (*o, *i),
                _ => return Err(format!("weight {w} must be [out, in]")),
            };
            let xd = x.shape.dims();
            if xd.last() != Some(&in_f) {
                return Err(format!(
                    "input {x} last extent must equal weight {w} in-features {in_f}"
                ));
            }
            if *has_bias {
                let b = inputs[2];
                same_dtype(x, b, "input", "bias")?;
                if b.shape.dims() != [out_f] {
                    return Err(format!("bias {b} must be [{out_f}]"));
                }
            }
            let mut dims = xd.to_vec();
            *dims.last_mut().unwrap() = out_f;
            Ok(TensorType::new(x.dtype, dims))
        }
        Op::Softmax { axis } => {
            arity(inputs, 1)?;
            need_float(inputs[0].dtype, "operand")?;
            check_axis(*axis, inputs[0].shape.rank())?;
            Ok(inputs[0].clone())
        }
        Op::LayerNorm { affine, .. } | Op::RmsNorm { affine, .. } => {
            let n_affine = match op {
                Op::LayerNorm { .. } => 2,
                _ => 1,
            };
            arity(inputs, 1 + if *affine { n_affine } else { 0 })?;
            let x = inputs[0];
            need_float(x.dtype, &format!("input {x}"))?;
            let c = *x
                .shape
                .dims()
                .last()
                .ok_or_else(|| format!("input {x} must have rank ≥ 1"))?;
            for p in &inputs[1..] {
                need_float(p.dtype, &format!("affine parameter {p}"))?;
                if p.shape.dims() != [c] {
                    return Err(format!(
                        "affine parameter {p} must be [{c}] to match input {x}"
                    ));
                }
            }
            Ok(x.clone())
        }
        Op::GroupNorm { groups, affine, .. } => {
            arity(inputs, 1 + if *affine { 2 } else { 0 })?;
            let x = inputs[0];
            need_float(x.dtype, &format!("input {x}"))?;
            if x.shape.rank() < 2 {
                return Err(format!("input {x} must be [N, C, ...]"));
            }
            let c = x.shape.dims()[1];
            if *groups == 0 || !c.is_multiple_of(*groups) {
                return Err(format!(
                    "{groups} groups do not divide the {c} channels of {x}"
                ));
            }
            for p in &inputs[1..] {
                need_float(p.dtype, &format!("affine parameter {p}"))?;
                if p.shape.dims() != [c] {
                    return Err(format!(
                        "affine parameter {p} must be [{c}] to match input {x}"
                    ));
                }
            }
            Ok(x.clone())
        }
        Op::Gelu { .. } | Op::Silu => {
            arity(inputs, 1)?;
            need_float(inputs[0].dtype, "operand")?;
            Ok(inputs[0].clone())
        }
        Op::Attention { has_mask, .. } => {
            arity(inputs, 3 + *has_mask as usize)?;
            attention_type(inputs, *has_mask)
        }
        Op::Rope { interleaved } => {
            arity(inputs, 3)?;
            let (x, cos, sin) = (inputs[0], inputs[1], inputs[2]);
            need_float(x.dtype, &format!("input {x}"))?;
            let r = x.shape.rank();
            if r < 2 {
                return Err(format!("input {x} must be [..., S, D]"));
            }
            let sd = &x.shape.dims()[r - 2..];
            for (name, t) in [("cos", cos), ("sin", sin)] {
                need_float(t.dtype, name)?;
                if t.shape.dims() != sd {
                    return Err(format!(
                        "{name} {t} must be [{}, {}] to match input {x}",
                        sd[0], sd[1]
                    ));
                }
            }
            if sd[1] % 2 != 0 {
                let kind = if *interleaved {
                    "interleaved"
                } else {
                    "half-split"
                };
                return Err(format!(
                    "{kind} rotary embedding needs an even head dim, got {x}"
                ));
            }
            Ok(x.clone())
        }
        Op::UpsampleNearest { scale } => {
            arity(inputs, 1)?;
            let x = inputs[0];
            let r = x.shape.rank();
            if r < 3 || scale.len() != r - 2 || scale.contains(&0) {
                return Err(format!(
                    "upsampling {x} needs {} positive spatial factors, got {scale:?}",
                    r.saturating_sub(2)
                ));
            }
            let mut dims = x.shape.dims().to_vec();
            for (d, s) in dims[2..].iter_mut().zip(scale) {
                *d *= s;
            }
            Ok(TensorType::new(x.dtype, dims))
        }
    }
}

fn arity(inputs: &[&TensorType], n: usize) -> Result<(), String> {
    if inputs.len() != n {
        return Err(format!("expects {n} operands, got {}", inputs.len()));
    }
    Ok(())
}

fn check_shape(shape: &Shape) -> Result<(), String> {
    if shape.dims().contains(&0) {
        return Err(format!("shape {shape} has a zero extent"));
    }
    Ok(())
}

fn check_axis(axis: usize, rank: usize) -> Result<(), String> {
    if axis >= rank {
        return Err(format!("axis {axis} out of range for rank {rank}"));
    }
    Ok(())
}

fn need_float(d: DType, what: &str) -> Result<(), String> {
    if !d.is_float() {
        return Err(format!("{what} must be a float type, got {d}"));
    }
    Ok(())
}

fn need_dtype(x: &TensorType, d: DType, what: &str) -> Result<(), String> {
    if x.dtype != d {
        return Err(format!("{what} {x} must be {d}"));
    }
    Ok(())
}

fn same_type(a: &TensorType, b: &TensorType) -> Result<(), String> {
    if a != b {
        return Err(format!("operand types differ: {a} and {b}"));
    }
    Ok(())
}

fn same_dtype(a: &TensorType, b: &TensorType, an: &str, bn: &str) -> Result<(), String> {
    if a.dtype != b.dtype {
        return Err(format!("{an} {a} and {bn} {b} have different dtypes"));
    }
    Ok(())
}

fn same_shape(a: &TensorType, b: &TensorType, an: &str, bn: &str) -> Result<(), String> {
    if a.shape != b.shape {
        return Err(format!("{an} {a} and {bn} {b} have different shapes"));
    }
    Ok(())
}

fn divisible(extent: usize, by: usize, axis: usize, x: &TensorType) -> Result<(), String> {
    if by == 0 || !extent.is_multiple_of(by) {
        return Err(format!(
            "axis {axis} of {x} (extent {extent}) is not divisible by group size {by}"
        ));
    }
    Ok(())
}

fn matmul_type(a: &TensorType, b: &TensorType) -> R {
    let (ad, bd) = (a.shape.dims(), b.shape.dims());
    if ad.len() < 2 || bd.len() < 2 {
        return Err(format!("lhs {a} and rhs {b} must both have rank ≥ 2"));
    }
    same_dtype(a, b, "lhs", "rhs")?;
    if a.dtype == DType::Bool {
        return Err(format!("lhs {a} must be numeric"));
    }
    let (m, k) = (ad[ad.len() - 2], ad[ad.len() - 1]);
    let (k2, n) = (bd[bd.len() - 2], bd[bd.len() - 1]);
    if k != k2 {
        return Err(format!(
            "lhs {a} and rhs {b}: contraction extents differ ({k} vs {k2})"
        ));
    }
    let batch = &ad[..ad.len() - 2];
    if bd.len() != 2 && &bd[..bd.len() - 2] != batch {
        return Err(format!(
            "lhs {a} and rhs {b}: batch extents differ (rhs must share lhs's batch or be rank 2)"
        ));
    }
    let mut dims = batch.to_vec();
    dims.extend([m, n]);
    Ok(TensorType::new(a.dtype, dims))
}

fn conv_type(
    x: &TensorType,
    w: &TensorType,
    stride: &[usize],
    padding: &[(usize, usize)],
    dilation: &[usize],
    groups: usize,
) -> R {
    let (xd, wd) = (x.shape.dims(), w.shape.dims());
    if xd.len() < 3 || wd.len() != xd.len() {
        return Err(format!(
            "input {x} must be [N, C, s...] and weight {w} [O, C/groups, k...] of the same rank"
        ));
    }
    same_dtype(x, w, "input", "weight")?;
    need_float(x.dtype, &format!("input {x}"))?;
    let sd = xd.len() - 2;
    if stride.len() != sd || padding.len() != sd || dilation.len() != sd {
        return Err(format!(
            "{sd} spatial dims need {sd} strides, paddings and dilations, got {}, {} and {}",
            stride.len(),
            padding.len(),
            dilation.len()
        ));
    }
    if stride.contains(&0) || dilation.contains(&0) {
        return Err("strides and dilations must be ≥ 1".into());
    }
    let (c, o) = (xd[1], wd[0]);
    if groups == 0 || c % groups != 0 || o % groups != 0 || wd[1] * groups != c {
        return Err(format!(
            "input {x} and weight {w} do not agree on channels with {groups} groups (need C = weight[1]·groups and groups | O)"
        ));
    }
    let mut dims = vec![xd[0], o];
    for d in 0..sd {
        let padded = xd[d + 2] + padding[d].0 + padding[d].1;
        let span = dilation[d] * (wd[d + 2] - 1) + 1;
        if padded < span {
            return Err(format!(
                "spatial dim {d}: padded input extent {padded} is smaller than the dilated kernel {span} (input {x}, weight {w})"
            ));
        }
        dims.push((padded - span) / stride[d] + 1);
    }
    Ok(TensorType::new(x.dtype, dims))
}

fn attention_type(inputs: &[&TensorType], has_mask: bool) -> R {
    let (q, k, v) = (inputs[0], inputs[1], inputs[2]);
    for (n, t) in [("q", q), ("k", k), ("v", v)] {
        if t.shape.rank() != 4 {
            return Err(format!("{n} {t} must be [B, H, S, D]"));
        }
        need_float(t.dtype, n)?;
    }
    same_dtype(q, k, "q", "k")?;
    same_dtype(q, v, "q", "v")?;
    let (qd, kd, vd) = (q.shape.dims(), k.shape.dims(), v.shape.dims());
    if qd[0] != kd[0] || qd[1] != kd[1] || qd[3] != kd[3] {
        return Err(format!("q {q} and k {k} must agree on B, H and D"));
    }
    if kd[..3] != vd[..3] {
        return Err(format!("k {k} and v {v} must agree on B, H and S"));
    }
    if has_mask {
        let m = inputs[3];
        if m.dtype != DType::Bool || m.shape.dims() != [kd[0], kd[2]] {
            return Err(format!("key mask {m} must be bool[{},{}]", kd[0], kd[2]));
        }
    }
    Ok(TensorType::new(q.dtype, vec![qd[0], qd[1], qd[2], vd[3]]))
}
