//! Reductions (sum, mean, max over axes) and softmax.

use crate::{Result, Tensor};
use hyv_ir::{Op, ReduceOp};

impl Tensor {
    fn reduce(&self, op: ReduceOp, axes: &[isize], keep_dims: bool) -> Result<Tensor> {
        let name = Op::Reduce {
            op,
            axes: Vec::new(),
            keep_dims,
        }
        .name();
        let mut norm = axes
            .iter()
            .map(|&a| self.axis(a, name))
            .collect::<Result<Vec<_>>>()?;
        norm.sort_unstable();
        norm.dedup();
        self.ctx().apply(
            Op::Reduce {
                op,
                axes: norm,
                keep_dims,
            },
            &[self],
        )
    }

    /// Sum over `axes` (negative count from the end).
    pub fn sum(&self, axes: &[isize], keep_dims: bool) -> Result<Tensor> {
        self.reduce(ReduceOp::Sum, axes, keep_dims)
    }

    /// Maximum over `axes`.
    pub fn max(&self, axes: &[isize], keep_dims: bool) -> Result<Tensor> {
        self.reduce(ReduceOp::Max, axes, keep_dims)
    }

    /// Mean over `axes` of a float tensor (a sum scaled by the reciprocal count).
    pub fn mean(&self, axes: &[isize], keep_dims: bool) -> Result<Tensor> {
        if !self.dtype().is_float() {
            return Err(self.error(
                "reduce_sum",
                format!("mean of {} needs a float type", self.ty()),
            ));
        }
        let sum = self.sum(axes, keep_dims)?;
        let count = self.numel() / sum.numel();
        sum.mul_scalar(1.0 / count as f64)
    }

    /// Softmax along `axis`.
    pub fn softmax(&self, axis: isize) -> Result<Tensor> {
        let a = self.axis(axis, "softmax")?;
        self.ctx().apply(Op::Softmax { axis: a }, &[self])
    }
}
