//! [`SelectedWeights`]: a weight source that shows only the tensors under some name prefixes,
//! so one part of a checkpoint (the VAE encoder of a full VAE file) loads strictly.

use crate::{Error, Result, WeightSource};
use hyv_ir::{HostTensor, TensorType};

/// Wraps a weight source so that only tensors whose names start with one of `prefixes` exist
/// (e.g. `["encoder.", "quant_conv."]` of a full diffusers VAE checkpoint). The other
/// tensors are invisible: [`crate::check_weights`] does not report them as unexpected, and
/// loading one is an error. Everything under the prefixes stays strict: a missing or
/// wrongly shaped tensor there is still reported.
pub struct SelectedWeights<S> {
    inner: S,
    prefixes: Vec<String>,
}

impl<S: WeightSource> SelectedWeights<S> {
    /// `inner` restricted to the tensors under `prefixes` (plain string prefixes: include
    /// the trailing `.` to select a module, `"encoder."` but not `"encoder_hid."`).
    pub fn new(inner: S, prefixes: &[&str]) -> Self {
        SelectedWeights {
            inner,
            prefixes: prefixes.iter().map(|p| p.to_string()).collect(),
        }
    }

    /// Whether `name` is under one of the prefixes.
    pub fn selects(&self, name: &str) -> bool {
        self.prefixes.iter().any(|p| name.starts_with(p.as_str()))
    }
}

impl<S: WeightSource> WeightSource for SelectedWeights<S> {
    fn names(&self) -> Vec<String> {
        self.inner
            .names()
            .into_iter()
            .filter(|n| self.selects(n))
            .collect()
    }

    fn tensor_type(&self, name: &str) -> Result<Option<TensorType>> {
        if !self.selects(name) {
            return Ok(None);
        }
        self.inner.tensor_type(name)
    }

    fn load(&self, name: &str) -> Result<HostTensor> {
        if !self.selects(name) {
            return Err(Error::Weights(format!(
                "tensor `{name}` is outside the selected prefixes ({})",
                self.prefixes.join(", ")
            )));
        }
        self.inner.load(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check_weights;
    use std::collections::BTreeMap;

    fn source() -> BTreeMap<String, HostTensor> {
        [
            "encoder.a",
            "encoder_hid.b",
            "quant_conv.weight",
            "decoder.c",
        ]
        .into_iter()
        .map(|n| (n.to_string(), HostTensor::from_f32([1], vec![1.0]).unwrap()))
        .collect()
    }

    #[test]
    fn only_selected_tensors_are_visible() {
        let s = SelectedWeights::new(source(), &["encoder.", "quant_conv."]);
        assert_eq!(s.names(), vec!["encoder.a", "quant_conv.weight"]);
        assert!(s.tensor_type("encoder.a").unwrap().is_some());
        assert_eq!(s.tensor_type("decoder.c").unwrap(), None);
        assert_eq!(s.tensor_type("encoder_hid.b").unwrap(), None);
        let err = s.load("decoder.c").unwrap_err().to_string();
        assert!(
            err.contains("`decoder.c`") && err.contains("encoder."),
            "{err}"
        );
        assert_eq!(s.load("encoder.a").unwrap().to_f32_vec(), vec![1.0]);
    }

    #[test]
    fn strictness_is_kept_under_the_prefixes() {
        let s = SelectedWeights::new(source(), &["encoder.", "quant_conv."]);
        let f32_1 = TensorType::new(hyv_ir::DType::F32, [1]);
        let declared = vec![
            ("encoder.a".to_string(), f32_1.clone()),
            ("quant_conv.weight".to_string(), f32_1.clone()),
        ];
        check_weights(&declared, &s).unwrap();
        // A missing encoder tensor is still reported, and so is an unused selected one.
        let err = check_weights(&declared[..1], &s).unwrap_err().to_string();
        assert!(
            err.contains("unexpected (1)") && err.contains("quant_conv.weight"),
            "{err}"
        );
        let mut more = declared.clone();
        more.push(("encoder.z".to_string(), f32_1));
        let err = check_weights(&more, &s).unwrap_err().to_string();
        assert!(
            err.contains("missing (1)") && err.contains("encoder.z"),
            "{err}"
        );
    }
}
