//! Strided helpers on dense row-major `[B, C, T, H, W]` tensors, the layout of every VAE
//! tile: narrowing any axis (any dtype), the f32 [`Volume`] that tile outputs are blended in,
//! the [`Canvas`] they are assembled on, and joining per-sample results along the batch.

use hyv_frontend::{DType, Error, HostTensor, Result, TensorData};
use std::fmt::Display;

/// The dims of `t`, which must be a 5-D `[batch, channels, frames, height, width]` tensor
/// with no empty axis; `what` names the tensor in the error.
pub(crate) fn dims5(t: &HostTensor, what: &str) -> Result<[usize; 5]> {
    check_dims5(t.shape().dims(), what, t.ty())
}

/// `dims` as a 5-D shape with no empty axis; the error names the tensor (`what`) and shows
/// its type or shape (`shown`).
pub(crate) fn check_dims5(dims: &[usize], what: &str, shown: impl Display) -> Result<[usize; 5]> {
    match <[usize; 5]>::try_from(dims) {
        Ok(dims) if dims.iter().all(|&d| d > 0) => Ok(dims),
        _ => Err(Error::Usage(format!(
            "{what} must be a non-empty 5-D [batch, channels, frames, height, width] tensor, \
             got {shown}"
        ))),
    }
}

/// `(outer, extent, inner)`: the element counts before one step of `axis`, along it, and
/// after it.
fn split(dims: &[usize; 5], axis: usize) -> (usize, usize, usize) {
    let outer = dims[..axis].iter().product();
    let inner = dims[axis + 1..].iter().product();
    (outer, dims[axis], inner)
}

/// The range `start..start + len` of an axis of `extent`, clipped at the end as Python
/// slicing clips (`x[start:start + len]`).
fn clip(extent: usize, start: usize, len: usize) -> (usize, usize) {
    let start = start.min(extent);
    (start, len.min(extent - start))
}

/// Entries `start..start + len` of `axis` of row-major `data` of shape `dims` (in range).
fn narrow_slice<T: Copy>(
    data: &[T],
    dims: &[usize; 5],
    axis: usize,
    start: usize,
    len: usize,
) -> Vec<T> {
    let (outer, extent, inner) = split(dims, axis);
    let mut out = Vec::with_capacity(outer * len * inner);
    for o in 0..outer {
        let from = (o * extent + start) * inner;
        out.extend_from_slice(&data[from..from + len * inner]);
    }
    out
}

/// `t[.., start:start + len, ..]` along `axis` of a 5-D tensor of any dtype, clipped at the
/// end as Python slicing is.
pub(crate) fn narrow_host(
    t: &HostTensor,
    axis: usize,
    start: usize,
    len: usize,
) -> Result<HostTensor> {
    let dims = dims5(t, "a tensor to tile")?;
    let (start, len) = clip(dims[axis], start, len);
    let data = match t.data() {
        TensorData::F32(v) => TensorData::F32(narrow_slice(v, &dims, axis, start, len)),
        TensorData::F16(v) => TensorData::F16(narrow_slice(v, &dims, axis, start, len)),
        TensorData::BF16(v) => TensorData::BF16(narrow_slice(v, &dims, axis, start, len)),
        TensorData::I32(v) => TensorData::I32(narrow_slice(v, &dims, axis, start, len)),
        TensorData::I64(v) => TensorData::I64(narrow_slice(v, &dims, axis, start, len)),
        TensorData::Bool(v) => TensorData::Bool(narrow_slice(v, &dims, axis, start, len)),
    };
    let mut shape = dims;
    shape[axis] = len;
    Ok(HostTensor::new(shape, data)?)
}

/// Joins per-sample results `[1, ...]` (equal dtype and trailing dims) along the batch
/// axis, as `torch.cat(slices)` in diffusers' `use_slicing` path.
pub(crate) fn concat_batch(parts: Vec<HostTensor>) -> Result<HostTensor> {
    let Some(first) = parts.first() else {
        return Err(Error::Usage("no samples to join along the batch".into()));
    };
    let (ty, rest) = (first.ty().clone(), first.shape().dims()[1..].to_vec());
    let mut batch = 0;
    let mut joined: Option<TensorData> = None;
    for part in parts {
        let dims = part.shape().dims();
        if part.dtype() != ty.dtype || dims.is_empty() || dims[1..] != rest[..] {
            return Err(Error::Usage(format!(
                "cannot join per-sample results {ty} and {} along the batch",
                part.ty()
            )));
        }
        batch += dims[0];
        match joined.as_mut() {
            None => joined = Some(part.into_data()),
            Some(acc) => append(acc, part.into_data()),
        }
    }
    let mut shape = vec![batch];
    shape.extend(rest);
    Ok(HostTensor::new(shape, joined.expect("at least one part"))?)
}

/// Appends `more` to `acc` (same dtype, checked by the caller).
fn append(acc: &mut TensorData, more: TensorData) {
    match (acc, more) {
        (TensorData::F32(a), TensorData::F32(b)) => a.extend(b),
        (TensorData::F16(a), TensorData::F16(b)) => a.extend(b),
        (TensorData::BF16(a), TensorData::BF16(b)) => a.extend(b),
        (TensorData::I32(a), TensorData::I32(b)) => a.extend(b),
        (TensorData::I64(a), TensorData::I64(b)) => a.extend(b),
        (TensorData::Bool(a), TensorData::Bool(b)) => a.extend(b),
        (a, b) => unreachable!("dtypes checked equal: {:?} vs {:?}", a.dtype(), b.dtype()),
    }
}

/// A dense row-major f32 `[B, C, T, H, W]` tensor: a tile's output while it is blended with
/// its neighbours and assembled. Half-precision outputs are widened exactly, blended in f32
/// and rounded once at the end.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Volume {
    /// Extents of the five axes.
    pub(crate) dims: [usize; 5],
    /// The elements, row-major.
    pub(crate) data: Vec<f32>,
}

impl Volume {
    /// A zero-filled volume of `dims`.
    pub(crate) fn zeros(dims: [usize; 5]) -> Volume {
        Volume {
            dims,
            data: vec![0.0; dims.iter().product()],
        }
    }

    /// The f32 values of a 5-D host tensor; `what` names it in the error.
    pub(crate) fn from_host(t: &HostTensor, what: &str) -> Result<Volume> {
        let dims = <[usize; 5]>::try_from(t.shape().dims()).map_err(|_| {
            Error::Usage(format!(
                "{what} must be a 5-D [batch, channels, frames, height, width] tensor, got {}",
                t.ty()
            ))
        })?;
        Ok(Volume {
            dims,
            data: t.to_f32_vec(),
        })
    }

    /// The host tensor of `dtype` holding these values (rounded as the `cast` op rounds).
    pub(crate) fn into_host(self, dtype: DType) -> Result<HostTensor> {
        let t = HostTensor::from_f32(self.dims, self.data)?;
        Ok(if dtype == DType::F32 {
            t
        } else {
            t.cast(dtype)
        })
    }

    /// `self[.., start:start + len, ..]` along `axis`, clipped at the end as Python slicing.
    pub(crate) fn narrow(&self, axis: usize, start: usize, len: usize) -> Volume {
        let (start, len) = clip(self.dims[axis], start, len);
        let mut dims = self.dims;
        dims[axis] = len;
        Volume {
            dims,
            data: narrow_slice(&self.data, &self.dims, axis, start, len),
        }
    }

    /// The last `n` entries of `axis` (all of them when there are fewer): everything a later
    /// [`Volume::blend_from`] with extent `n` reads of this volume.
    pub(crate) fn tail(&self, axis: usize, n: usize) -> Volume {
        let extent = self.dims[axis];
        self.narrow(axis, extent - n.min(extent), n)
    }

    /// Blends the end of `prev` into the start of `self` along `axis`, in place, as
    /// diffusers' `blend_t` / `blend_v` / `blend_h` (axes 2 / 3 / 4): with
    /// `e = min(prev extent, self extent, extent)`, for `k < e`
    /// `self[k] = prev[len(prev) − e + k]·(1 − k/e) + self[k]·(k/e)`, the weights computed in
    /// f64 and rounded to f32 as PyTorch does with a Python scalar.
    pub(crate) fn blend_from(&mut self, prev: &Volume, axis: usize, extent: usize) -> Result<()> {
        let same_other_axes = (0..5).all(|a| a == axis || prev.dims[a] == self.dims[a]);
        if !same_other_axes {
            return Err(Error::Usage(format!(
                "cannot blend tile {:?} into tile {:?} along axis {axis}: the other axes differ",
                prev.dims, self.dims
            )));
        }
        let (outer, na, inner) = split(&prev.dims, axis);
        let nb = self.dims[axis];
        let e = extent.min(na).min(nb);
        for k in 0..e {
            let wb = k as f64 / e as f64;
            let (wa, wb) = ((1.0 - wb) as f32, wb as f32);
            for o in 0..outer {
                let a = &prev.data[(o * na + na - e + k) * inner..][..inner];
                let b = &mut self.data[(o * nb + k) * inner..][..inner];
                for (y, &x) in b.iter_mut().zip(a) {
                    *y = x * wa + *y * wb;
                }
            }
        }
        Ok(())
    }
}

/// The output of a tiled pass, filled block by block: equal to diffusers'
/// `torch.cat(blocks, dim)[..., :crop]` over the concatenation axes, without holding the
/// blocks. Blocks must match the canvas on every other axis (as `torch.cat` requires).
pub(crate) struct Canvas {
    volume: Volume,
    concat_axes: Vec<usize>,
    /// Per axis, how far blocks have reached (clipped to the canvas).
    filled: [usize; 5],
}

impl Canvas {
    /// A zero canvas of the cropped output size `dims`, joined along `concat_axes`.
    pub(crate) fn new(dims: [usize; 5], concat_axes: &[usize]) -> Canvas {
        let mut filled = dims;
        for &a in concat_axes {
            filled[a] = 0;
        }
        Canvas {
            volume: Volume::zeros(dims),
            concat_axes: concat_axes.to_vec(),
            filled,
        }
    }

    /// Writes the leading corner of `block`, `min(keep, block extent)` per axis, at `offset`
    /// (non-zero only on the concatenation axes), dropping what falls beyond the crop.
    /// Returns the corner's extents (before the crop), by which the next offset advances.
    pub(crate) fn paste(
        &mut self,
        block: &Volume,
        offset: [usize; 5],
        keep: [usize; 5],
    ) -> Result<[usize; 5]> {
        let dims = self.volume.dims;
        let mismatch = (0..5).find(|&a| {
            !self.concat_axes.contains(&a) && (block.dims[a] != dims[a] || offset[a] != 0)
        });
        if let Some(a) = mismatch {
            return Err(Error::Usage(format!(
                "cannot join tile output {:?} into the result {dims:?}: axis {a} differs",
                block.dims
            )));
        }
        let mut corner = [0; 5];
        let mut n = [0; 5];
        for a in 0..5 {
            corner[a] = keep[a].min(block.dims[a]);
            n[a] = corner[a].min(dims[a].saturating_sub(offset[a]));
            self.filled[a] = self.filled[a].max(offset[a] + n[a]);
        }
        let (bs, cs) = (row_major_strides(&block.dims), row_major_strides(&dims));
        for i0 in 0..n[0] {
            for i1 in 0..n[1] {
                for i2 in 0..n[2] {
                    for i3 in 0..n[3] {
                        let src = i0 * bs[0] + i1 * bs[1] + i2 * bs[2] + i3 * bs[3];
                        let dst = (i0 + offset[0]) * cs[0]
                            + (i1 + offset[1]) * cs[1]
                            + (i2 + offset[2]) * cs[2]
                            + (i3 + offset[3]) * cs[3]
                            + offset[4];
                        self.volume.data[dst..dst + n[4]]
                            .copy_from_slice(&block.data[src..src + n[4]]);
                    }
                }
            }
        }
        Ok(corner)
    }

    /// The assembled result: the canvas, narrowed to what the blocks reached when their
    /// concatenation is shorter than the crop (as slicing past the end does).
    pub(crate) fn finish(self) -> Volume {
        let mut volume = self.volume;
        for &a in &self.concat_axes {
            if self.filled[a] < volume.dims[a] {
                volume = volume.narrow(a, 0, self.filled[a]);
            }
        }
        volume
    }
}

/// Row-major element strides of `dims`.
fn row_major_strides(dims: &[usize; 5]) -> [usize; 5] {
    let mut s = [1; 5];
    for a in (0..4).rev() {
        s[a] = s[a + 1] * dims[a + 1];
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A volume whose element at `(b, c, t, h, w)` is the number `bcthw` in base 10.
    fn counting(dims: [usize; 5]) -> Volume {
        let mut v = Volume::zeros(dims);
        let s = row_major_strides(&dims);
        for (i, x) in v.data.iter_mut().enumerate() {
            let idx: Vec<usize> = (0..5).map(|a| i / s[a] % dims[a]).collect();
            *x = idx.iter().fold(0.0, |acc, &d| acc * 10.0 + d as f32);
        }
        v
    }

    #[test]
    fn narrow_picks_entries_of_any_axis_and_clips_like_python() {
        let v = counting([2, 2, 3, 4, 5]);
        let n = v.narrow(3, 1, 2);
        assert_eq!(n.dims, [2, 2, 3, 2, 5]);
        assert_eq!(n.data[0], 10.0); // (0,0,0,1,0)
        assert_eq!(n.data[5], 20.0); // (0,0,0,2,0)
        assert_eq!(n.data[10], 110.0); // (0,0,1,1,0)
        let clipped = v.narrow(4, 3, 10);
        assert_eq!(clipped.dims, [2, 2, 3, 4, 2]);
        assert_eq!(clipped.data[..2], [3.0, 4.0]);
        assert_eq!(v.narrow(2, 3, 5).dims, [2, 2, 0, 4, 5]);
        assert_eq!(v.tail(2, 2), v.narrow(2, 1, 2));
        assert_eq!(v.tail(2, 9), v);
        assert_eq!(v.narrow(0, 1, 1).data[0], 10000.0);
    }

    #[test]
    fn narrow_host_keeps_the_dtype() {
        let t = HostTensor::from_f32([1, 1, 2, 2, 3], (0..12).map(|x| x as f32).collect())
            .unwrap()
            .cast(DType::BF16);
        let n = narrow_host(&t, 4, 1, 2).unwrap();
        assert_eq!(n.dtype(), DType::BF16);
        assert_eq!(n.shape().dims(), &[1, 1, 2, 2, 2]);
        assert_eq!(n.to_f32_vec(), vec![1., 2., 4., 5., 7., 8., 10., 11.]);
        let scalar = HostTensor::from_f32([3], vec![0.0; 3]).unwrap();
        let err = narrow_host(&scalar, 0, 0, 1).unwrap_err().to_string();
        assert!(err.contains("5-D") && err.contains("f32[3]"), "{err}");
    }

    #[test]
    fn blend_matches_hand_computed_weights() {
        // prev frames [10, 20, 30, 40], self frames [1, 2, 3]; extent 4 clips to 3:
        // self[k] = prev[1 + k]·(1 − k/3) + self[k]·k/3.
        let prev = Volume {
            dims: [1, 1, 4, 1, 1],
            data: vec![10., 20., 30., 40.],
        };
        let mut b = Volume {
            dims: [1, 1, 3, 1, 1],
            data: vec![1., 2., 3.],
        };
        b.blend_from(&prev, 2, 4).unwrap();
        let w = |k: f64| ((1.0 - k / 3.0) as f32, (k / 3.0) as f32);
        let expect: Vec<f32> = [(20.0f32, 1.0f32), (30., 2.), (40., 3.)]
            .iter()
            .enumerate()
            .map(|(k, &(a, x))| {
                let (wa, wb) = w(k as f64);
                a * wa + x * wb
            })
            .collect();
        assert_eq!(b.data, expect);
        assert_eq!(b.data[0], 20.0);
        assert!((b.data[1] - (30.0 * 2.0 / 3.0 + 2.0 / 3.0)).abs() < 1e-5);

        // Along the width of a 2-row tile, extent 2: columns 0 and 1 only.
        let prev = counting([1, 1, 1, 2, 3]);
        let mut b = Volume {
            dims: [1, 1, 1, 2, 2],
            data: vec![100., 200., 300., 400.],
        };
        b.blend_from(&prev, 4, 2).unwrap();
        assert_eq!(
            b.data,
            vec![1.0, 2.0 * 0.5 + 200.0 * 0.5, 11.0, 12.0 * 0.5 + 400.0 * 0.5]
        );

        // Extent 0 changes nothing; mismatched other axes are an error.
        let before = b.clone();
        b.blend_from(&prev, 4, 0).unwrap();
        assert_eq!(b, before);
        assert!(b.blend_from(&counting([1, 1, 1, 3, 3]), 4, 2).is_err());
    }

    #[test]
    fn canvas_joins_blocks_and_crops() {
        // Two 3-wide blocks joined along the width, cropped to 5 columns.
        let mut c = Canvas::new([1, 1, 1, 2, 5], &[4]);
        let a = counting([1, 1, 1, 2, 3]);
        let all = [usize::MAX; 5];
        assert_eq!(c.paste(&a, [0; 5], all).unwrap(), [1, 1, 1, 2, 3]);
        c.paste(&a, [0, 0, 0, 0, 3], all).unwrap();
        let v = c.finish();
        assert_eq!(v.dims, [1, 1, 1, 2, 5]);
        assert_eq!(v.data, vec![0., 1., 2., 0., 1., 10., 11., 12., 10., 11.]);

        // Blocks that fall short of the crop leave a narrower result; a block that differs
        // on a non-joined axis is rejected.
        let mut c = Canvas::new([1, 1, 4, 2, 3], &[2]);
        let b = counting([1, 1, 3, 2, 3]);
        let keep = [usize::MAX, usize::MAX, 2, usize::MAX, usize::MAX];
        assert_eq!(c.paste(&b, [0; 5], keep).unwrap(), [1, 1, 2, 2, 3]);
        assert!(c.paste(&counting([1, 1, 3, 1, 3]), [0; 5], keep).is_err());
        assert_eq!(c.finish(), b.narrow(2, 0, 2));
    }

    #[test]
    fn batch_join_restores_the_batch() {
        let t = HostTensor::from_f32([3, 1, 1, 1, 2], (0..6).map(|x| x as f32).collect())
            .unwrap()
            .cast(DType::F16);
        let parts = (0..3).map(|b| narrow_host(&t, 0, b, 1).unwrap()).collect();
        assert_eq!(concat_batch(parts).unwrap(), t);
        let mixed = vec![narrow_host(&t, 0, 0, 1).unwrap(), t.cast(DType::F32)];
        assert!(concat_batch(mixed).is_err());
        assert!(concat_batch(Vec::new()).is_err());
    }
}
