//! Where parameter values come from: loaded tensors, shapes only, or seeded random init;
//! and the strict check of loaded tensors against what a model declares.

use crate::{Error, Result};
use hyv_ir::{HostTensor, TensorType};
use hyv_runtime::WeightStore;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::rc::Rc;

/// Named tensors a model can load its parameters from (a checkpoint, or tensors in memory).
pub trait WeightSource {
    /// Every tensor name.
    fn names(&self) -> Vec<String>;
    /// The type of tensor `name`, `None` when there is no such tensor.
    fn tensor_type(&self, name: &str) -> Result<Option<TensorType>>;
    /// Reads tensor `name`.
    fn load(&self, name: &str) -> Result<HostTensor>;
}

impl WeightSource for WeightStore {
    fn names(&self) -> Vec<String> {
        WeightStore::names(self).map(str::to_string).collect()
    }
    fn tensor_type(&self, name: &str) -> Result<Option<TensorType>> {
        if !self.contains(name) {
            return Ok(None);
        }
        Ok(Some(WeightStore::tensor_type(self, name)?))
    }
    fn load(&self, name: &str) -> Result<HostTensor> {
        Ok(WeightStore::load(self, name)?)
    }
}

impl WeightSource for BTreeMap<String, HostTensor> {
    fn names(&self) -> Vec<String> {
        self.keys().cloned().collect()
    }
    fn tensor_type(&self, name: &str) -> Result<Option<TensorType>> {
        Ok(self.get(name).map(|t| t.ty().clone()))
    }
    fn load(&self, name: &str) -> Result<HostTensor> {
        self.get(name)
            .cloned()
            .ok_or_else(|| Error::Weights(format!("no tensor named `{name}`")))
    }
}

/// How [`crate::Params`] resolves parameters.
#[derive(Clone)]
pub enum Weights {
    /// From named tensors, strictly: each parameter must exist with the declared type.
    Loaded(Rc<dyn WeightSource>),
    /// Types only, for tracing (graph mode) without memory for the weights.
    ShapesOnly,
    /// Seeded random initialisation (identical in both modes), for tests and examples.
    Random {
        /// Base seed; each parameter's stream also depends on its name.
        seed: u64,
    },
}

/// How a parameter is initialised under [`Weights::Random`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Init {
    /// Normal samples with mean 0 and standard deviation `std`.
    Normal {
        /// Standard deviation.
        std: f64,
    },
    /// Every element equal to the value (e.g. 1 for norm weights).
    Constant(f64),
}

/// The value of parameter `name` of type `ty` under random init with base seed `seed`.
pub(crate) fn random_value(seed: u64, name: &str, ty: &TensorType, init: Init) -> HostTensor {
    match init {
        Init::Constant(v) => HostTensor::full(ty, v),
        Init::Normal { std } => crate::randn_host(ty, seed ^ fnv1a(name), std),
    }
}

/// FNV-1a hash, a stable per-name seed offset.
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Checks `source` against the parameters a model declared and reports every missing,
/// unexpected and wrongly typed tensor in one error.
pub fn check_weights(declared: &[(String, TensorType)], source: &dyn WeightSource) -> Result<()> {
    let mut missing = Vec::new();
    let mut wrong = Vec::new();
    for (name, want) in declared {
        match source.tensor_type(name)? {
            None => missing.push(format!("  `{name}` (expected {want})")),
            Some(got) if &got != want => {
                wrong.push(format!("  `{name}`: expected {want}, got {got}"))
            }
            Some(_) => {}
        }
    }
    let known: std::collections::HashSet<&str> = declared.iter().map(|(n, _)| n.as_str()).collect();
    let unexpected: Vec<String> = source
        .names()
        .into_iter()
        .filter(|n| !known.contains(n.as_str()))
        .map(|n| format!("  `{n}`"))
        .collect();
    if missing.is_empty() && wrong.is_empty() && unexpected.is_empty() {
        return Ok(());
    }
    let mut msg = String::from("weights do not match the model:");
    for (title, items) in [
        ("missing", &missing),
        ("unexpected", &unexpected),
        ("wrong type", &wrong),
    ] {
        if !items.is_empty() {
            let _ = write!(msg, "\n{title} ({}):\n{}", items.len(), items.join("\n"));
        }
    }
    Err(Error::Weights(msg))
}
