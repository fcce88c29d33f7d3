//! `reduce_sum` and `reduce_max` over any set of axes. Float sums accumulate in f64, float
//! max propagates NaN, integer sums wrap.
//!
//! Adjacent axes of the same kind (kept or reduced) are merged, so the input reads as
//! `[kept/reduced groups…, inner]`: when the innermost group is reduced each output element
//! folds contiguous runs, otherwise each output row accumulates contiguous rows.

use super::fmath::max_nan;
use super::gather::offsets;
use crate::tensor::{load_f32, store_f32, typed, Arg, GRAIN};
use hyv_ir::{DType, Op, ReduceOp, TensorData};
use rayon::prelude::*;

/// Evaluates `reduce`.
pub fn eval(op: &Op, args: &[Arg]) -> Result<TensorData, String> {
    let (Op::Reduce { op, axes, .. }, [x]) = (op, args) else {
        return Err("not a reduce with one operand".into());
    };
    let plan = Plan::new(x.dims(), axes);
    match (x.ty.dtype, op) {
        (d, ReduceOp::Sum) if d.is_float() => {
            let v = load_f32(x.data, "operand")?;
            let r = plan.run(&v, 0.0f64, |a, &e| a + e as f64);
            store_f32(d, r.into_iter().map(|a| a as f32).collect())
        }
        (d, ReduceOp::Max) if d.is_float() => {
            let v = load_f32(x.data, "operand")?;
            store_f32(d, plan.run(&v, f32::NEG_INFINITY, |a, &e| max_nan(a, e)))
        }
        (DType::I32, _) => {
            let v = typed::<i32>(x.data, "operand")?;
            let r = plan.int(v, *op);
            Ok(TensorData::I32(r.into_iter().map(|a| a as i32).collect()))
        }
        (DType::I64, _) => Ok(TensorData::I64(
            plan.int(typed::<i64>(x.data, "operand")?, *op),
        )),
        (d, _) => Err(format!("operand dtype {d} must be numeric")),
    }
}

/// The merged loop structure of a reduction.
struct Plan {
    /// Kept groups outside the innermost one: (extent, stride).
    kept: Vec<(usize, usize)>,
    /// Reduced groups outside the innermost one.
    reduced: Vec<(usize, usize)>,
    /// Extent of the innermost group when kept (else 1).
    inner_kept: usize,
    /// Extent of the innermost group when reduced (else 1).
    inner_reduced: usize,
}

impl Plan {
    fn new(dims: &[usize], axes: &[usize]) -> Self {
        let strides = hyv_ir::Shape::new(dims).strides();
        // (extent, stride, reduced) with extent-1 axes dropped and neighbours merged.
        let mut groups: Vec<(usize, usize, bool)> = Vec::new();
        for (d, (&e, &s)) in dims.iter().zip(&strides).enumerate() {
            if e == 1 {
                continue;
            }
            let red = axes.contains(&d);
            match groups.last_mut() {
                Some(g) if g.2 == red => *g = (g.0 * e, s, red),
                _ => groups.push((e, s, red)),
            }
        }
        let (mut inner_kept, mut inner_reduced) = (1, 1);
        match groups.last() {
            Some(&(e, _, true)) => inner_reduced = e,
            Some(&(e, _, false)) => inner_kept = e,
            None => {}
        }
        groups.pop();
        let pick = |red: bool| {
            groups
                .iter()
                .filter(|g| g.2 == red)
                .map(|g| (g.0, g.1))
                .collect()
        };
        Plan {
            kept: pick(false),
            reduced: pick(true),
            inner_kept,
            inner_reduced,
        }
    }

    /// Folds `src` into one accumulator per output element, in parallel over output rows.
    fn run<T: Sync, A: Copy + Send + Sync>(
        &self,
        src: &[T],
        init: A,
        fold: impl Fn(A, &T) -> A + Sync,
    ) -> Vec<A> {
        let (bases, offs) = (offsets(&self.kept), offsets(&self.reduced));
        let (c, r) = (self.inner_kept, self.inner_reduced);
        let work = offs.len() * c * r;
        let mut out = vec![init; bases.len() * c];
        out.par_chunks_mut(c)
            .zip(bases.par_iter())
            .with_min_len((GRAIN / work).max(1))
            .for_each(|(dst, &base)| {
                for &o in &offs {
                    let s = &src[base + o..base + o + c * r];
                    if r == 1 {
                        for (d, e) in dst.iter_mut().zip(s) {
                            *d = fold(*d, e);
                        }
                    } else {
                        dst[0] = s.iter().fold(dst[0], &fold);
                    }
                }
            });
        out
    }

    /// Integer reduction, accumulated in i64 (wrapping sums).
    fn int<T: Copy + Into<i64> + Sync>(&self, src: &[T], op: ReduceOp) -> Vec<i64> {
        match op {
            ReduceOp::Sum => self.run(src, 0i64, |a, &e| a.wrapping_add(e.into())),
            ReduceOp::Max => self.run(src, i64::MIN, |a, &e| a.max(e.into())),
        }
    }
}
