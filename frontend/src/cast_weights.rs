//! [`CastWeights`]: a weight source that presents its float tensors in another dtype.

use crate::{Result, WeightSource};
use hyv_ir::{DType, HostTensor, TensorType};

/// Wraps a weight source so that every float tensor reads as `dtype` (cast on load, one
/// tensor at a time), e.g. to run an f32 checkpoint in bf16. Integer and bool tensors are
/// left as they are.
pub struct CastWeights<S> {
    inner: S,
    dtype: DType,
}

impl<S: WeightSource> CastWeights<S> {
    /// `inner` with its float tensors presented as `dtype` (a float type).
    pub fn new(inner: S, dtype: DType) -> Self {
        CastWeights { inner, dtype }
    }

    fn target(&self, d: DType) -> DType {
        if d.is_float() {
            self.dtype
        } else {
            d
        }
    }
}

impl<S: WeightSource> WeightSource for CastWeights<S> {
    fn names(&self) -> Vec<String> {
        self.inner.names()
    }

    fn tensor_type(&self, name: &str) -> Result<Option<TensorType>> {
        Ok(self
            .inner
            .tensor_type(name)?
            .map(|t| TensorType::new(self.target(t.dtype), t.shape)))
    }

    fn load(&self, name: &str) -> Result<HostTensor> {
        let t = self.inner.load(name)?;
        let d = self.target(t.dtype());
        Ok(t.cast(d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn floats_are_cast_and_integers_kept() {
        let mut m = BTreeMap::new();
        m.insert(
            "w".to_string(),
            HostTensor::from_f32([2], vec![1.0, 2.5]).unwrap(),
        );
        let idx = HostTensor::new([1], hyv_ir::TensorData::I64(vec![3])).unwrap();
        m.insert("i".to_string(), idx.clone());
        let c = CastWeights::new(m, DType::BF16);
        assert_eq!(
            c.tensor_type("w").unwrap().unwrap(),
            TensorType::new(DType::BF16, [2])
        );
        assert_eq!(c.load("w").unwrap().dtype(), DType::BF16);
        assert_eq!(c.load("w").unwrap().to_f32_vec(), vec![1.0, 2.5]);
        assert_eq!(c.load("i").unwrap(), idx);
        assert_eq!(c.tensor_type("missing").unwrap(), None);
    }
}
