//! Dense row-major tensors in host memory: graph constants, eager values on host backends,
//! and what the runtime reads from and writes to files.

use crate::{DType, IrError, Shape, TensorType};
use half::{bf16, f16};
use serde::{Deserialize, Serialize};
use std::hash::{Hash, Hasher};

/// Typed element storage of a [`HostTensor`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum TensorData {
    /// f32 elements.
    F32(Vec<f32>),
    /// f16 elements.
    F16(Vec<f16>),
    /// bf16 elements.
    BF16(Vec<bf16>),
    /// i32 elements.
    I32(Vec<i32>),
    /// i64 elements.
    I64(Vec<i64>),
    /// bool elements.
    Bool(Vec<bool>),
}

impl TensorData {
    /// The dtype of the elements.
    pub fn dtype(&self) -> DType {
        match self {
            TensorData::F32(_) => DType::F32,
            TensorData::F16(_) => DType::F16,
            TensorData::BF16(_) => DType::BF16,
            TensorData::I32(_) => DType::I32,
            TensorData::I64(_) => DType::I64,
            TensorData::Bool(_) => DType::Bool,
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            TensorData::F32(v) => v.len(),
            TensorData::F16(v) => v.len(),
            TensorData::BF16(v) => v.len(),
            TensorData::I32(v) => v.len(),
            TensorData::I64(v) => v.len(),
            TensorData::Bool(v) => v.len(),
        }
    }

    /// True when there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Builds storage of `dtype` from f64 values (rounded / truncated / `!= 0` as `cast` does).
    pub fn from_f64(dtype: DType, values: impl IntoIterator<Item = f64>) -> Self {
        let it = values.into_iter();
        match dtype {
            DType::F32 => TensorData::F32(it.map(|x| x as f32).collect()),
            DType::F16 => TensorData::F16(it.map(f16::from_f64).collect()),
            DType::BF16 => TensorData::BF16(it.map(bf16::from_f64).collect()),
            DType::I32 => TensorData::I32(it.map(|x| x as i32).collect()),
            DType::I64 => TensorData::I64(it.map(|x| x as i64).collect()),
            DType::Bool => TensorData::Bool(it.map(|x| x != 0.0).collect()),
        }
    }

    /// Every element as f64 (exact for all dtypes but i64 beyond 2^53).
    pub fn to_f64_vec(&self) -> Vec<f64> {
        match self {
            TensorData::F32(v) => v.iter().map(|&x| x as f64).collect(),
            TensorData::F16(v) => v.iter().map(|x| x.to_f64()).collect(),
            TensorData::BF16(v) => v.iter().map(|x| x.to_f64()).collect(),
            TensorData::I32(v) => v.iter().map(|&x| x as f64).collect(),
            TensorData::I64(v) => v.iter().map(|&x| x as f64).collect(),
            TensorData::Bool(v) => v.iter().map(|&x| x as u8 as f64).collect(),
        }
    }

    /// Little-endian bytes of the elements (the safetensors layout; bool is one byte).
    pub fn to_le_bytes(&self) -> Vec<u8> {
        match self {
            TensorData::F32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            TensorData::F16(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            TensorData::BF16(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            TensorData::I32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            TensorData::I64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            TensorData::Bool(v) => v.iter().map(|&x| x as u8).collect(),
        }
    }

    /// Parses little-endian bytes; `None` when the length is not a multiple of the
    /// element size or a bool byte is not 0/1.
    pub fn from_le_bytes(dtype: DType, bytes: &[u8]) -> Option<Self> {
        let n = dtype.size_in_bytes();
        if !bytes.len().is_multiple_of(n) {
            return None;
        }
        let chunks = bytes.chunks_exact(n);
        Some(match dtype {
            DType::F32 => TensorData::F32(
                chunks
                    .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                    .collect(),
            ),
            DType::F16 => TensorData::F16(
                chunks
                    .map(|c| f16::from_le_bytes(c.try_into().unwrap()))
                    .collect(),
            ),
            DType::BF16 => TensorData::BF16(
                chunks
                    .map(|c| bf16::from_le_bytes(c.try_into().unwrap()))
                    .collect(),
            ),
            DType::I32 => TensorData::I32(
                chunks
                    .map(|c| i32::from_le_bytes(c.try_into().unwrap()))
                    .collect(),
            ),
            DType::I64 => TensorData::I64(
                chunks
                    .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
                    .collect(),
            ),
            DType::Bool => TensorData::Bool(
                bytes
                    .iter()
                    .map(|&b| match b {
                        0 => Some(false),
                        1 => Some(true),
                        _ => None,
                    })
                    .collect::<Option<Vec<bool>>>()?,
            ),
        })
    }
}

/// A dense row-major tensor in host memory.
///
/// Equality and hashing are bitwise (NaN equals the same NaN), so constants can be CSE keys
/// and dumps can be compared for identity.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HostTensor {
    ty: TensorType,
    data: TensorData,
}

impl HostTensor {
    /// Wraps storage with a shape; errors when the element count or dtype disagree.
    pub fn new(shape: impl Into<Shape>, data: TensorData) -> Result<Self, IrError> {
        let shape = shape.into();
        if shape.numel() != data.len() {
            return Err(IrError::Data(format!(
                "tensor of shape {shape} needs {} elements, got {}",
                shape.numel(),
                data.len()
            )));
        }
        Ok(HostTensor {
            ty: TensorType::new(data.dtype(), shape),
            data,
        })
    }

    /// An f32 tensor (errors when `values.len()` does not match `shape`).
    pub fn from_f32(shape: impl Into<Shape>, values: Vec<f32>) -> Result<Self, IrError> {
        Self::new(shape, TensorData::F32(values))
    }

    /// A tensor of `ty` filled with `value` (converted as `cast` does).
    pub fn full(ty: &TensorType, value: f64) -> Self {
        let n = ty.shape.numel();
        HostTensor {
            ty: ty.clone(),
            data: TensorData::from_f64(ty.dtype, std::iter::repeat_n(value, n)),
        }
    }

    /// A tensor of `ty` from f64 values (converted as `cast` does).
    pub fn from_f64(ty: &TensorType, values: Vec<f64>) -> Result<Self, IrError> {
        Self::new(ty.shape.clone(), TensorData::from_f64(ty.dtype, values))
    }

    /// The tensor's type.
    pub fn ty(&self) -> &TensorType {
        &self.ty
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        self.ty.dtype
    }

    /// The shape.
    pub fn shape(&self) -> &Shape {
        &self.ty.shape
    }

    /// The element storage.
    pub fn data(&self) -> &TensorData {
        &self.data
    }

    /// Takes the element storage.
    pub fn into_data(self) -> TensorData {
        self.data
    }

    /// The f32 elements, when the dtype is f32.
    pub fn as_f32(&self) -> Option<&[f32]> {
        match &self.data {
            TensorData::F32(v) => Some(v),
            _ => None,
        }
    }

    /// Every element as f64.
    pub fn to_f64_vec(&self) -> Vec<f64> {
        self.data.to_f64_vec()
    }

    /// Every element as f32 (floats widened or narrowed, ints converted, bool 0/1).
    pub fn to_f32_vec(&self) -> Vec<f32> {
        match &self.data {
            TensorData::F32(v) => v.clone(),
            other => other.to_f64_vec().into_iter().map(|x| x as f32).collect(),
        }
    }

    /// A copy converted to `dtype` with the rules of the `cast` op.
    pub fn cast(&self, dtype: DType) -> HostTensor {
        if dtype == self.dtype() {
            return self.clone();
        }
        let data = match (&self.data, dtype) {
            // Direct narrowing avoids double rounding through f64 for f32 → f16/bf16.
            (TensorData::F32(v), DType::F16) => {
                TensorData::F16(v.iter().map(|&x| f16::from_f32(x)).collect())
            }
            (TensorData::F32(v), DType::BF16) => {
                TensorData::BF16(v.iter().map(|&x| bf16::from_f32(x)).collect())
            }
            (TensorData::I64(v), DType::I32) => {
                TensorData::I32(v.iter().map(|&x| x as i32).collect())
            }
            (d, to) => TensorData::from_f64(to, d.to_f64_vec()),
        };
        HostTensor {
            ty: TensorType::new(dtype, self.ty.shape.clone()),
            data,
        }
    }

    /// The same elements with another shape of equal element count.
    pub fn reshape(self, shape: impl Into<Shape>) -> Result<Self, IrError> {
        Self::new(shape, self.data)
    }

    /// Rows `start..end` of the first dimension (e.g. one of q/k/v in a fused weight).
    pub fn slice_rows(&self, start: usize, end: usize) -> Result<HostTensor, IrError> {
        let dims = self.shape().dims();
        let Some(&rows) = dims.first() else {
            return Err(IrError::Data(format!(
                "cannot take rows of scalar {}",
                self.ty
            )));
        };
        if start >= end || end > rows {
            return Err(IrError::Data(format!(
                "rows {start}..{end} out of range for {}",
                self.ty
            )));
        }
        let row = self.shape().numel() / rows;
        let (a, b) = (start * row, end * row);
        let data = match &self.data {
            TensorData::F32(v) => TensorData::F32(v[a..b].to_vec()),
            TensorData::F16(v) => TensorData::F16(v[a..b].to_vec()),
            TensorData::BF16(v) => TensorData::BF16(v[a..b].to_vec()),
            TensorData::I32(v) => TensorData::I32(v[a..b].to_vec()),
            TensorData::I64(v) => TensorData::I64(v[a..b].to_vec()),
            TensorData::Bool(v) => TensorData::Bool(v[a..b].to_vec()),
        };
        let mut shape = dims.to_vec();
        shape[0] = end - start;
        HostTensor::new(shape, data)
    }

    /// Joins tensors along the first dimension (dtypes and other extents must agree).
    pub fn concat_rows(parts: &[HostTensor]) -> Result<HostTensor, IrError> {
        let first = parts
            .first()
            .ok_or_else(|| IrError::Data("nothing to concatenate".into()))?;
        let mut bytes = Vec::new();
        let mut rows = 0;
        for p in parts {
            if p.dtype() != first.dtype()
                || p.shape().rank() == 0
                || p.shape().dims()[1..] != first.shape().dims()[1..]
            {
                return Err(IrError::Data(format!(
                    "cannot join {} and {} along rows",
                    first.ty, p.ty
                )));
            }
            rows += p.shape().dims()[0];
            bytes.extend(p.data.to_le_bytes());
        }
        let mut shape = first.shape().dims().to_vec();
        shape[0] = rows;
        let data = TensorData::from_le_bytes(first.dtype(), &bytes)
            .ok_or_else(|| IrError::Data("corrupt tensor bytes".into()))?;
        HostTensor::new(shape, data)
    }

    /// Relative L2 error `‖self − reference‖₂ / ‖reference‖₂` over all elements, in f64
    /// (the parity metric of hyv's tests and `hyv run --mode both`). Types must match.
    pub fn rel_l2_error(&self, reference: &HostTensor) -> Result<f64, IrError> {
        if self.ty != reference.ty {
            return Err(IrError::Data(format!(
                "cannot compare {} with {}",
                self.ty, reference.ty
            )));
        }
        let (a, b) = (self.to_f64_vec(), reference.to_f64_vec());
        let num: f64 = a.iter().zip(&b).map(|(x, y)| (x - y) * (x - y)).sum();
        let den: f64 = b.iter().map(|y| y * y).sum();
        Ok(num.sqrt() / den.sqrt().max(f64::MIN_POSITIVE))
    }

    fn bit_key(&self) -> Vec<u8> {
        self.data.to_le_bytes()
    }
}

impl PartialEq for HostTensor {
    fn eq(&self, other: &Self) -> bool {
        self.ty == other.ty && self.bit_key() == other.bit_key()
    }
}
impl Eq for HostTensor {}
impl Hash for HostTensor {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.ty.hash(state);
        self.bit_key().hash(state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rel_l2_error_is_relative_to_the_reference() {
        let r = HostTensor::from_f32([2], vec![3.0, 4.0]).unwrap();
        let a = HostTensor::from_f32([2], vec![3.0, 4.5]).unwrap();
        assert!((a.rel_l2_error(&r).unwrap() - 0.1).abs() < 1e-12);
        assert_eq!(r.rel_l2_error(&r).unwrap(), 0.0);
        assert!(r.rel_l2_error(&r.cast(DType::F16)).is_err());
    }

    #[test]
    fn rows_slice_and_join_back() {
        let t = HostTensor::from_f32([3, 2], vec![1., 2., 3., 4., 5., 6.]).unwrap();
        let mid = t.slice_rows(1, 2).unwrap();
        assert_eq!(mid.to_f32_vec(), vec![3., 4.]);
        assert_eq!(mid.shape().dims(), &[1, 2]);
        let back =
            HostTensor::concat_rows(&[t.slice_rows(0, 1).unwrap(), t.slice_rows(1, 3).unwrap()])
                .unwrap();
        assert_eq!(back, t);
        assert!(t.slice_rows(2, 4).is_err());
        assert!(HostTensor::concat_rows(&[t.clone(), mid.cast(DType::BF16)]).is_err());
    }
}
