//! `HunyuanVideoResnetBlockCausal3D`: GroupNorm → SiLU → causal conv, twice, plus a shortcut
//! (reference/hunyuanvideo_spec.md §2.3).

use super::causal_conv::HunyuanVideoCausalConv3d;
use super::norm::VaeGroupNorm;
use hyv_frontend::{Module, Params, Result, Tensor};

/// `conv2(silu(norm2(conv1(silu(norm1(x)))))) + shortcut(x)`; the shortcut is a causal 1×1×1
/// conv (`conv_shortcut`) when the channel count changes, else the identity. Dropout is 0.
pub(crate) struct HunyuanVideoResnetBlockCausal3D {
    path: String,
    norm1: VaeGroupNorm,
    conv1: HunyuanVideoCausalConv3d,
    norm2: VaeGroupNorm,
    conv2: HunyuanVideoCausalConv3d,
    conv_shortcut: Option<HunyuanVideoCausalConv3d>,
}

impl HunyuanVideoResnetBlockCausal3D {
    /// Declares `norm1`, `conv1`, `norm2`, `conv2` and, when `in_channels != out_channels`,
    /// `conv_shortcut` under `p`.
    pub(crate) fn new(
        p: &Params,
        in_channels: usize,
        out_channels: usize,
        groups: usize,
    ) -> Result<Self> {
        let conv = |name: &str, cin: usize, k: usize| {
            HunyuanVideoCausalConv3d::new(&p.sub(name), cin, out_channels, k, [1; 3])
        };
        Ok(HunyuanVideoResnetBlockCausal3D {
            path: p.path().to_string(),
            norm1: VaeGroupNorm::new(&p.sub("norm1"), groups, in_channels)?,
            conv1: conv("conv1", in_channels, 3)?,
            norm2: VaeGroupNorm::new(&p.sub("norm2"), groups, out_channels)?,
            conv2: conv("conv2", out_channels, 3)?,
            conv_shortcut: if in_channels != out_channels {
                Some(conv("conv_shortcut", in_channels, 1)?)
            } else {
                None
            },
        })
    }
}

impl Module for HunyuanVideoResnetBlockCausal3D {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let _scope = x.ctx().enter(&self.path);
        let h = self.conv1.forward(&self.norm1.forward(x)?.silu()?)?;
        let h = self.conv2.forward(&self.norm2.forward(&h)?.silu()?)?;
        let residual = match &self.conv_shortcut {
            Some(conv) => conv.forward(x)?,
            None => x.clone(),
        };
        h.add(&residual)
    }
}
