//! Data movement: permute, broadcast, slice, pad, gather and nearest upsampling as strided
//! gathers ([`Gather`]), and concat as row copies. (Reshape shares its operand's buffer and
//! is handled by the dispatcher.) All dtypes share one code path.

use super::gather::{linear, Gather, FILL};
use crate::tensor::{typed, with_elem, Arg, Elem, GRAIN};
use hyv_ir::{Op, PadMode, TensorData, TensorType};
use rayon::prelude::*;

/// Evaluates a data-movement op other than reshape.
pub fn eval(op: &Op, out: &TensorType, args: &[Arg]) -> Result<TensorData, String> {
    if let Op::Concat { axis } = op {
        return concat(*axis, args);
    }
    let x = args.first().ok_or("missing operand")?;
    let (xd, xs) = (x.dims(), x.ty.shape.strides());
    let mut fill = 0.0;
    let tables: Vec<Vec<usize>> = match (op, args) {
        (Op::Permute { perm }, [_]) => perm.iter().map(|&p| linear(xd[p], xs[p])).collect(),
        (Op::Broadcast { shape }, [_]) => (0..xd.len())
            .map(|d| linear(shape.dims()[d], if xd[d] == 1 { 0 } else { xs[d] }))
            .collect(),
        (Op::Slice { start, step, .. }, [_]) => (0..xd.len())
            .map(|d| {
                (0..out.shape.dims()[d])
                    .map(|i| (start[d] + i * step[d]) * xs[d])
                    .collect()
            })
            .collect(),
        (Op::Pad { low, mode, .. }, [_]) => {
            if let PadMode::Constant(c) = mode {
                fill = c.0;
            }
            (0..xd.len())
                .map(|d| {
                    (0..out.shape.dims()[d])
                        .map(|i| {
                            let p = (i as isize - low[d] as isize).clamp(0, xd[d] as isize - 1);
                            let inside = i >= low[d] && i - low[d] < xd[d];
                            match mode {
                                PadMode::Constant(_) if !inside => FILL,
                                _ => p as usize * xs[d],
                            }
                        })
                        .collect()
                })
                .collect()
        }
        (Op::UpsampleNearest { scale }, [_]) => (0..xd.len())
            .map(|d| {
                let s = if d < 2 { 1 } else { scale[d - 2] };
                (0..xd[d] * s).map(|i| i / s * xs[d]).collect()
            })
            .collect(),
        (Op::Gather { axis }, [_, indices]) => gather_tables(x, indices, *axis)?,
        _ => {
            return Err(format!(
                "not a data-movement op with {} operands",
                args.len()
            ))
        }
    };
    let g = Gather::new(tables);
    let fill_data = TensorData::from_f64(x.ty.dtype, [fill]);
    with_elem!(x.ty.dtype, T => {
        let src = typed::<T>(x.data, "operand")?;
        let fill = typed::<T>(&fill_data, "fill value")?[0];
        Ok(T::wrap(g.run(src, fill)))
    })
}

/// Tables of `gather`: the output viewed as `[x.dims[..axis], n_indices, x.dims[axis+1..]]`
/// (the same row-major layout), the middle table reading the indexed rows.
fn gather_tables(x: &Arg, indices: &Arg, axis: usize) -> Result<Vec<Vec<usize>>, String> {
    let (xd, xs) = (x.dims(), x.ty.shape.strides());
    let idx: Vec<i64> = match &**indices.data {
        TensorData::I32(v) => v.iter().map(|&i| i as i64).collect(),
        TensorData::I64(v) => v.clone(),
        other => return Err(format!("indices must be i32 or i64, got {}", other.dtype())),
    };
    let extent = xd[axis] as i64;
    if let Some((pos, &bad)) = idx.iter().enumerate().find(|(_, &i)| i < 0 || i >= extent) {
        return Err(format!(
            "index {bad} (indices element {pos}) is out of range for axis {axis} of extent {extent} (input {})",
            x.ty
        ));
    }
    let mut tables: Vec<Vec<usize>> = (0..axis).map(|d| linear(xd[d], xs[d])).collect();
    tables.push(idx.iter().map(|&i| i as usize * xs[axis]).collect());
    tables.extend((axis + 1..xd.len()).map(|d| linear(xd[d], xs[d])));
    Ok(tables)
}

/// `concat`: every output row (the extents before `axis`) is the operands' rows in turn.
fn concat(axis: usize, args: &[Arg]) -> Result<TensorData, String> {
    fn join<T: Elem>(args: &[Arg], axis: usize) -> Result<TensorData, String> {
        let parts = args
            .iter()
            .map(|a| typed::<T>(a.data, "operand"))
            .collect::<Result<Vec<_>, _>>()?;
        let dims = args[0].dims();
        let outer: usize = dims[..axis].iter().product();
        let lens: Vec<usize> = parts.iter().map(|p| p.len() / outer).collect();
        let row: usize = lens.iter().sum();
        // Every element is copied below.
        let mut out = crate::pool::buffer_of(outer * row, parts[0][0]);
        out.par_chunks_mut(row)
            .with_min_len((GRAIN / row).max(1))
            .enumerate()
            .for_each(|(o, dst)| {
                let mut pos = 0;
                for (p, &len) in parts.iter().zip(&lens) {
                    dst[pos..pos + len].copy_from_slice(&p[o * len..(o + 1) * len]);
                    pos += len;
                }
            });
        Ok(T::wrap(out))
    }
    let first = args.first().ok_or("concat needs at least one operand")?;
    with_elem!(first.ty.dtype, T => join::<T>(args, axis))
}
