//! `HunyuanVideoCausalConv3d`: replicate padding that is causal in time, then a plain 3-D
//! convolution with bias (reference/hunyuanvideo_spec.md §2.2).

use hyv_frontend::nn::Conv;
use hyv_frontend::{ConvOptions, Module, PadMode, Params, Result, Tensor};

/// A causal 3-D convolution with a cubic kernel `k`: the input `[B, C, T, H, W]` is padded by
/// replicating edge values, `k−1` frames in front and none behind in time, `k/2` on both
/// sides in height and width; then `conv` (padding 0, `stride` `[t, h, w]`, bias) runs.
/// Parameters: `<p>.conv.weight` `[out, in, k, k, k]`, `<p>.conv.bias` `[out]`.
pub(crate) struct HunyuanVideoCausalConv3d {
    path: String,
    conv: Conv,
    kernel: usize,
}

impl HunyuanVideoCausalConv3d {
    /// Declares the convolution under `<p>.conv`.
    pub(crate) fn new(
        p: &Params,
        in_channels: usize,
        out_channels: usize,
        kernel: usize,
        stride: [usize; 3],
    ) -> Result<Self> {
        let mut options = ConvOptions::new(3);
        options.stride = stride.to_vec();
        Ok(HunyuanVideoCausalConv3d {
            path: p.path().to_string(),
            conv: Conv::new(
                &p.sub("conv"),
                in_channels,
                out_channels,
                &[kernel; 3],
                options,
                true,
            )?,
            kernel,
        })
    }
}

impl Module for HunyuanVideoCausalConv3d {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let _scope = x.ctx().enter(&self.path);
        let k = self.kernel;
        let padded = if k > 1 {
            let space = (k / 2, k / 2);
            x.pad(
                &[(0, 0), (0, 0), (k - 1, 0), space, space],
                PadMode::Replicate,
            )?
        } else {
            x.clone()
        };
        self.conv.forward(&padded)
    }
}
