//! Data movement: reshape, permute, broadcast helpers, slicing, joining, padding, gather.

use crate::tensor::normalize_axis;
use crate::{Error, Result, Tensor};
use hyv_ir::{Op, PadMode, Shape};

/// Target shapes for [`Tensor::reshape`]: extents as `usize`, or signed with at most one
/// `-1` (inferred from the element count), as arrays, slices or vectors.
pub trait ReshapeDims {
    /// The extents, `-1` for the one to infer.
    fn to_signed(&self) -> Vec<i64>;
}

macro_rules! reshape_dims {
    ($($t:ty),*) => {$(
        impl ReshapeDims for [$t] {
            fn to_signed(&self) -> Vec<i64> { self.iter().map(|&d| d as i64).collect() }
        }
        impl<const N: usize> ReshapeDims for [$t; N] {
            fn to_signed(&self) -> Vec<i64> { self.iter().map(|&d| d as i64).collect() }
        }
        impl ReshapeDims for Vec<$t> {
            fn to_signed(&self) -> Vec<i64> { self.iter().map(|&d| d as i64).collect() }
        }
    )*};
}
reshape_dims!(usize, isize, i32, i64);

impl<T: ReshapeDims + ?Sized> ReshapeDims for &T {
    fn to_signed(&self) -> Vec<i64> {
        (**self).to_signed()
    }
}

impl Tensor {
    /// The same elements with a new shape; one extent may be `-1` (inferred), like
    /// `torch.reshape`: `x.reshape([b, -1])`, `x.reshape(&dims)`.
    pub fn reshape(&self, shape: impl ReshapeDims) -> Result<Tensor> {
        let signed = shape.to_signed();
        let bad = |m: String| self.error("reshape", m);
        let infer_at: Vec<usize> = (0..signed.len()).filter(|&i| signed[i] == -1).collect();
        if infer_at.len() > 1 || signed.iter().any(|&d| d < -1 || d == 0) {
            return Err(bad(format!(
                "target shape {signed:?} of {} must have positive extents and at most one -1",
                self.ty()
            )));
        }
        let known: usize = signed
            .iter()
            .filter(|&&d| d > 0)
            .map(|&d| d as usize)
            .product();
        let mut dims: Vec<usize> = signed.iter().map(|&d| d.max(1) as usize).collect();
        if let Some(&i) = infer_at.first() {
            if !self.numel().is_multiple_of(known) {
                return Err(bad(format!(
                    "cannot reshape {} ({} elements) to {signed:?}",
                    self.ty(),
                    self.numel()
                )));
            }
            dims[i] = self.numel() / known;
        }
        if dims == self.dims() {
            return Ok(self.clone());
        }
        self.ctx().apply(
            Op::Reshape {
                shape: Shape::new(dims),
            },
            &[self],
        )
    }

    /// Reorders the axes: output axis `i` is input axis `perm[i]`, like `torch.permute`.
    pub fn permute(&self, perm: &[usize]) -> Result<Tensor> {
        self.ctx().apply(
            Op::Permute {
                perm: perm.to_vec(),
            },
            &[self],
        )
    }

    /// Swaps two axes (negative axes count from the end).
    pub fn transpose(&self, a: isize, b: isize) -> Result<Tensor> {
        let (a, b) = (self.axis(a, "permute")?, self.axis(b, "permute")?);
        let mut perm: Vec<usize> = (0..self.rank()).collect();
        perm.swap(a, b);
        self.permute(&perm)
    }

    /// Inserts an axis of extent 1 at `axis` (`-1` appends), like `torch.unsqueeze`.
    pub fn unsqueeze(&self, axis: isize) -> Result<Tensor> {
        let a = normalize_axis(axis, self.rank() + 1, "reshape", self)?;
        let mut dims = self.dims().to_vec();
        dims.insert(a, 1);
        self.reshape(dims)
    }

    /// Removes axis `axis`, which must have extent 1.
    pub fn squeeze(&self, axis: isize) -> Result<Tensor> {
        let a = self.axis(axis, "reshape")?;
        if self.dims()[a] != 1 {
            return Err(self.error(
                "reshape",
                format!(
                    "cannot squeeze axis {axis} of {}: extent is not 1",
                    self.ty()
                ),
            ));
        }
        let mut dims = self.dims().to_vec();
        dims.remove(a);
        self.reshape(dims)
    }

    /// Merges axes `start..=end` into one, like `torch.flatten`.
    pub fn flatten(&self, start: isize, end: isize) -> Result<Tensor> {
        let (s, e) = (self.axis(start, "reshape")?, self.axis(end, "reshape")?);
        if s > e {
            return Err(self.error(
                "reshape",
                format!(
                    "flatten of {}: start axis {start} is after end axis {end}",
                    self.ty()
                ),
            ));
        }
        let d = self.dims();
        let mut dims = d[..s].to_vec();
        dims.push(d[s..=e].iter().product());
        dims.extend_from_slice(&d[e + 1..]);
        self.reshape(dims)
    }

    /// Elements `start..end` with stride `step` along `axis` (other axes whole).
    pub fn slice(&self, axis: isize, start: usize, end: usize, step: usize) -> Result<Tensor> {
        let a = self.axis(axis, "slice")?;
        let mut starts = vec![0; self.rank()];
        let mut ends = self.dims().to_vec();
        let mut steps = vec![1; self.rank()];
        starts[a] = start;
        ends[a] = end;
        steps[a] = step;
        self.ctx().apply(
            Op::Slice {
                start: starts,
                end: ends,
                step: steps,
            },
            &[self],
        )
    }

    /// `len` elements from `start` along `axis`, like `torch.narrow`.
    pub fn narrow(&self, axis: isize, start: usize, len: usize) -> Result<Tensor> {
        self.slice(axis, start, start.saturating_add(len), 1)
    }

    /// Splits into `chunks` pieces along `axis`, the last possibly smaller, like
    /// `torch.chunk`.
    pub fn chunk(&self, chunks: usize, axis: isize) -> Result<Vec<Tensor>> {
        let a = self.axis(axis, "slice")?;
        let n = self.dims()[a];
        if chunks == 0 {
            return Err(self.error("slice", format!("cannot split {} into 0 chunks", self.ty())));
        }
        let size = n.div_ceil(chunks);
        (0..n)
            .step_by(size)
            .map(|start| self.narrow(a as isize, start, size.min(n - start)))
            .collect()
    }

    /// Pads every axis with `pads[d] = (before, after)` elements, filled per `mode`.
    pub fn pad(&self, pads: &[(usize, usize)], mode: PadMode) -> Result<Tensor> {
        self.ctx().apply(
            Op::Pad {
                low: pads.iter().map(|p| p.0).collect(),
                high: pads.iter().map(|p| p.1).collect(),
                mode,
            },
            &[self],
        )
    }

    /// Picks `self[.., indices, ..]` along `axis` (`indices` i32 or i64), like
    /// `torch.index_select` with an index tensor of any shape.
    pub fn gather(&self, axis: isize, indices: &Tensor) -> Result<Tensor> {
        let a = self.axis(axis, "gather")?;
        self.ctx().apply(Op::Gather { axis: a }, &[self, indices])
    }
}

/// Joins `tensors` along `axis` (negative counts from the end), like `torch.cat`.
pub fn concat(tensors: &[&Tensor], axis: isize) -> Result<Tensor> {
    let first = tensors
        .first()
        .ok_or_else(|| Error::Usage("concat needs at least one tensor".into()))?;
    let a = first.axis(axis, "concat")?;
    first.ctx().apply(Op::Concat { axis: a }, tensors)
}
