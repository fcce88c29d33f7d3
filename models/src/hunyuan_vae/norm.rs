//! The VAE's GroupNorm: `torch.nn.GroupNorm(groups, channels, eps=1e-6, affine=True)` whose
//! statistics and affine transform always run in f32, whatever the model dtype.

use hyv_frontend::nn::GroupNorm;
use hyv_frontend::{DType, Module, Params, Result, Tensor};

/// Epsilon of every GroupNorm of the VAE.
const EPS: f64 = 1e-6;

/// A GroupNorm computed in f32: the input is cast to f32, normalised (parameters widened),
/// and cast back. The IR's `group_norm` already promises f32 statistics; the explicit casts
/// keep them f32 through mixed-precision passes and native lowerings too. Norms over whole
/// videos (C/G · T · H · W elements per group) are where bf16 accumulation would hurt most.
pub(crate) struct VaeGroupNorm {
    norm: GroupNorm,
}

impl VaeGroupNorm {
    /// Declares `<p>.weight` and `<p>.bias` `[channels]` (model dtype).
    pub(crate) fn new(p: &Params, groups: usize, channels: usize) -> Result<Self> {
        Ok(VaeGroupNorm {
            norm: GroupNorm::new(p, groups, channels, EPS, true)?,
        })
    }
}

impl Module for VaeGroupNorm {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.norm
            .forward(&x.to_dtype(DType::F32)?)?
            .to_dtype(x.dtype())
    }
}
