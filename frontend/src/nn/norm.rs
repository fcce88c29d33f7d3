//! Normalisation layers: `LayerNorm`, `RmsNorm`, `GroupNorm`.

use crate::{Init, Module, Params, Result, Tensor};

/// Declares `<p>.weight` (ones) and `<p>.bias` (zeros) of `[channels]` when `affine`.
fn affine_params(p: &Params, channels: usize, affine: bool) -> Result<Option<(Tensor, Tensor)>> {
    if !affine {
        return Ok(None);
    }
    Ok(Some((
        p.get("weight", &[channels], Init::Constant(1.0))?,
        p.get("bias", &[channels], Init::Constant(0.0))?,
    )))
}

/// Layer norm over the last axis, like `torch.nn.LayerNorm(dim, eps, elementwise_affine)`.
pub struct LayerNorm {
    path: String,
    affine: Option<(Tensor, Tensor)>,
    eps: f64,
}

impl LayerNorm {
    /// Declares `<p>.weight` and `<p>.bias` `[dim]` when `affine`.
    pub fn new(p: &Params, dim: usize, eps: f64, affine: bool) -> Result<Self> {
        Ok(LayerNorm {
            path: p.path().to_string(),
            affine: affine_params(p, dim, affine)?,
            eps,
        })
    }
}

impl Module for LayerNorm {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let _scope = x.ctx().enter(&self.path);
        let affine = self.affine.as_ref().map(|(w, b)| (w, b));
        x.layer_norm(affine, self.eps)
    }
}

/// RMS norm over the last axis with a weight, like diffusers' `RMSNorm(dim, eps)`.
pub struct RmsNorm {
    path: String,
    weight: Option<Tensor>,
    eps: f64,
}

impl RmsNorm {
    /// Declares `<p>.weight` `[dim]` (ones) when `affine`.
    pub fn new(p: &Params, dim: usize, eps: f64, affine: bool) -> Result<Self> {
        let weight = if affine {
            Some(p.get("weight", &[dim], Init::Constant(1.0))?)
        } else {
            None
        };
        Ok(RmsNorm {
            path: p.path().to_string(),
            weight,
            eps,
        })
    }
}

impl Module for RmsNorm {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let _scope = x.ctx().enter(&self.path);
        x.rms_norm(self.weight.as_ref(), self.eps)
    }
}

/// Group norm of `[N, C, ...]`, like `torch.nn.GroupNorm(groups, channels, eps, affine)`.
pub struct GroupNorm {
    path: String,
    groups: usize,
    affine: Option<(Tensor, Tensor)>,
    eps: f64,
}

impl GroupNorm {
    /// Declares `<p>.weight` and `<p>.bias` `[channels]` when `affine`.
    pub fn new(p: &Params, groups: usize, channels: usize, eps: f64, affine: bool) -> Result<Self> {
        Ok(GroupNorm {
            path: p.path().to_string(),
            groups,
            affine: affine_params(p, channels, affine)?,
            eps,
        })
    }
}

impl Module for GroupNorm {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let _scope = x.ctx().enter(&self.path);
        let affine = self.affine.as_ref().map(|(w, b)| (w, b));
        x.group_norm(self.groups, affine, self.eps)
    }
}
