//! Numpy-style broadcasting: operands are reshaped (leading 1s) and expanded with explicit
//! `broadcast` nodes, as the IR's elementwise ops need identical shapes.

use crate::{Result, Tensor};
use hyv_ir::{Op, Shape};

/// The numpy broadcast of two shapes (aligned at the last axis), or `None`.
pub(crate) fn broadcast_shapes(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let rank = a.len().max(b.len());
    let at = |s: &[usize], i: usize| {
        let pad = rank - s.len();
        if i < pad {
            1
        } else {
            s[i - pad]
        }
    };
    (0..rank)
        .map(|i| match (at(a, i), at(b, i)) {
            (x, y) if x == y => Some(x),
            (1, y) => Some(y),
            (x, 1) => Some(x),
            _ => None,
        })
        .collect()
}

impl Tensor {
    /// Broadcasts to `shape` with numpy rules (missing leading axes are added; extents of 1
    /// are repeated), like `torch.Tensor.expand`.
    pub fn broadcast_to(&self, shape: &[usize]) -> Result<Tensor> {
        if broadcast_shapes(self.dims(), shape).as_deref() != Some(shape) {
            return Err(self.error(
                "broadcast",
                format!(
                    "cannot broadcast {} to {}",
                    self.ty(),
                    Shape::new(shape.to_vec())
                ),
            ));
        }
        self.expand(shape)
    }

    /// Expands to `shape`, which must be a valid broadcast target (checked by the IR).
    pub(crate) fn expand(&self, shape: &[usize]) -> Result<Tensor> {
        if self.dims() == shape {
            return Ok(self.clone());
        }
        let mut x = self.clone();
        if x.rank() < shape.len() {
            let mut dims = vec![1; shape.len() - x.rank()];
            dims.extend_from_slice(x.dims());
            x = self.ctx().apply(
                Op::Reshape {
                    shape: Shape::new(dims),
                },
                &[&x],
            )?;
        }
        if x.dims() == shape {
            return Ok(x);
        }
        self.ctx().apply(
            Op::Broadcast {
                shape: Shape::new(shape.to_vec()),
            },
            &[&x],
        )
    }
}

/// Broadcasts every operand of `op` to their common shape; the error names `op` and the
/// operand types.
pub(crate) fn broadcast_all(op: &str, operands: &[&Tensor]) -> Result<Vec<Tensor>> {
    let mut shape = operands[0].dims().to_vec();
    for t in &operands[1..] {
        shape = broadcast_shapes(&shape, t.dims()).ok_or_else(|| {
            let tys: Vec<String> = operands.iter().map(|t| t.ty().to_string()).collect();
            operands[0].error(
                op,
                format!(
                    "operands {} cannot be broadcast together",
                    tys.join(" and ")
                ),
            )
        })?;
    }
    operands.iter().map(|t| t.expand(&shape)).collect()
}
