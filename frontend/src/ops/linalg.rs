//! Matrix multiplication with broadcasting of the batch axes.

use super::broadcast::broadcast_shapes;
use crate::{Result, Tensor};
use hyv_ir::Op;

impl Tensor {
    /// `self @ rhs` over the last two axes, like `torch.matmul` for operands of rank ≥ 2:
    /// the batch axes broadcast with numpy rules; a rank-2 `rhs` is shared by every batch.
    pub fn matmul(&self, rhs: &Tensor) -> Result<Tensor> {
        let (ld, rd) = (self.dims(), rhs.dims());
        if ld.len() < 2 || rd.len() < 2 || rd.len() == 2 || ld[..ld.len() - 2] == rd[..rd.len() - 2]
        {
            // Shapes the IR op takes as they are (or rejects with its own message).
            return self.ctx().apply(Op::MatMul, &[self, rhs]);
        }
        let (lb, rb) = (&ld[..ld.len() - 2], &rd[..rd.len() - 2]);
        let batch = broadcast_shapes(lb, rb).ok_or_else(|| {
            self.error(
                "matmul",
                format!(
                    "lhs {} and rhs {}: batch extents cannot be broadcast together",
                    self.ty(),
                    rhs.ty()
                ),
            )
        })?;
        let with = |b: &[usize], t: &[usize]| {
            let mut s = b.to_vec();
            s.extend_from_slice(&t[t.len() - 2..]);
            s
        };
        let l = self.expand(&with(&batch, ld))?;
        let r = rhs.expand(&with(&batch, rd))?;
        self.ctx().apply(Op::MatMul, &[&l, &r])
    }
}
