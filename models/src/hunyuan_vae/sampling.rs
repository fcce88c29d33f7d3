//! Down- and up-sampling with the first-frame rule (reference/hunyuanvideo_spec.md §2.4):
//! `HunyuanVideoDownsampleCausal3D` and `HunyuanVideoUpsampleCausal3D`.

use super::causal_conv::HunyuanVideoCausalConv3d;
use hyv_frontend::{concat, Module, Params, Result, Tensor};

/// A strided causal 3×3×3 conv (`conv`): stride `[t, h, w]` with entries 1 or 2. Its causal
/// padding makes output frame `j` see input frames `2j−2 ..= 2j` (clamped to frame 0), so
/// the first output frame depends on the first input frame only.
pub(crate) struct HunyuanVideoDownsampleCausal3D {
    conv: HunyuanVideoCausalConv3d,
}

impl HunyuanVideoDownsampleCausal3D {
    /// Declares `<p>.conv.conv` (`channels` in and out).
    pub(crate) fn new(p: &Params, channels: usize, stride: [usize; 3]) -> Result<Self> {
        Ok(HunyuanVideoDownsampleCausal3D {
            conv: HunyuanVideoCausalConv3d::new(&p.sub("conv"), channels, channels, 3, stride)?,
        })
    }
}

impl Module for HunyuanVideoDownsampleCausal3D {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.conv.forward(x)
    }
}

/// Nearest-neighbour upsampling by `factor` `[t, h, w]` that keeps the first frame single
/// (only its height and width grow), then a causal 3×3×3 conv: `T → 1 + f_t·(T−1)` frames.
pub(crate) struct HunyuanVideoUpsampleCausal3D {
    path: String,
    conv: HunyuanVideoCausalConv3d,
    factor: [usize; 3],
}

impl HunyuanVideoUpsampleCausal3D {
    /// Declares `<p>.conv.conv` (`channels` in and out).
    pub(crate) fn new(p: &Params, channels: usize, factor: [usize; 3]) -> Result<Self> {
        Ok(HunyuanVideoUpsampleCausal3D {
            path: p.path().to_string(),
            conv: HunyuanVideoCausalConv3d::new(&p.sub("conv"), channels, channels, 3, [1; 3])?,
            factor,
        })
    }
}

impl Module for HunyuanVideoUpsampleCausal3D {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let _scope = x.ctx().enter(&self.path);
        let frames = x.dims()[2];
        let [_, fh, fw] = self.factor;
        let first = x.narrow(2, 0, 1)?.upsample_nearest(&[1, fh, fw])?;
        let up = if frames > 1 {
            let rest = x.narrow(2, 1, frames - 1)?.upsample_nearest(&self.factor)?;
            concat(&[&first, &rest], 2)?
        } else {
            first
        };
        self.conv.forward(&up)
    }
}
