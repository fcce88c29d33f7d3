//! `Linear`: `y = x Wᵀ + b`, like `torch.nn.Linear`.

use crate::{Init, Module, Params, Result, Tensor};

/// A fully connected layer with weight `[out, in]` and optional bias `[out]`.
pub struct Linear {
    path: String,
    weight: Tensor,
    bias: Option<Tensor>,
}

impl Linear {
    /// Declares `<p>.weight` `[out_features, in_features]` and, when `bias`, `<p>.bias`
    /// `[out_features]` (random init: normal with std `1/sqrt(in_features)`).
    pub fn new(p: &Params, in_features: usize, out_features: usize, bias: bool) -> Result<Self> {
        let init = Init::Normal {
            std: 1.0 / (in_features.max(1) as f64).sqrt(),
        };
        Ok(Linear {
            path: p.path().to_string(),
            weight: p.get("weight", &[out_features, in_features], init)?,
            bias: if bias {
                Some(p.get("bias", &[out_features], init)?)
            } else {
                None
            },
        })
    }
}

impl Module for Linear {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let _scope = x.ctx().enter(&self.path);
        x.linear(&self.weight, self.bias.as_ref())
    }
}
