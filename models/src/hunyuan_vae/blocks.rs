//! diffusers' `HunyuanVideoDownBlock3D` and `HunyuanVideoUpBlock3D`: a stack of resnets, then
//! an optional resampler.

use super::config::VaeConfig;
use super::resnet::HunyuanVideoResnetBlockCausal3D;
use super::sampling::{HunyuanVideoDownsampleCausal3D, HunyuanVideoUpsampleCausal3D};
use hyv_frontend::{Module, Params, Result, Tensor};

/// `resnets.0 ..` (the first changes the channel count), then `sampler` when present.
pub(crate) struct HunyuanVideoBlock3D<S> {
    resnets: Vec<HunyuanVideoResnetBlockCausal3D>,
    sampler: Option<S>,
}

/// An encoder block: `layers_per_block` resnets, then `downsamplers.0`.
pub(crate) type HunyuanVideoDownBlock3D = HunyuanVideoBlock3D<HunyuanVideoDownsampleCausal3D>;
/// A decoder block: `layers_per_block + 1` resnets, then `upsamplers.0`.
pub(crate) type HunyuanVideoUpBlock3D = HunyuanVideoBlock3D<HunyuanVideoUpsampleCausal3D>;

/// Declares `count` resnets `<p>.resnets.{i}`, `in_channels → out_channels` for the first.
fn resnets(
    p: &Params,
    cfg: &VaeConfig,
    count: usize,
    in_channels: usize,
    out_channels: usize,
) -> Result<Vec<HunyuanVideoResnetBlockCausal3D>> {
    (0..count)
        .map(|i| {
            let cin = if i == 0 { in_channels } else { out_channels };
            HunyuanVideoResnetBlockCausal3D::new(
                &p.sub("resnets").sub(i),
                cin,
                out_channels,
                cfg.norm_num_groups,
            )
        })
        .collect()
}

impl HunyuanVideoDownBlock3D {
    /// Down block `p` with a downsampler of `stride` `[t, h, w]` when given.
    pub(crate) fn new(
        p: &Params,
        cfg: &VaeConfig,
        in_channels: usize,
        out_channels: usize,
        stride: Option<[usize; 3]>,
    ) -> Result<Self> {
        let sampler = stride
            .map(|s| HunyuanVideoDownsampleCausal3D::new(&p.sub("downsamplers.0"), out_channels, s))
            .transpose()?;
        Ok(HunyuanVideoBlock3D {
            resnets: resnets(p, cfg, cfg.layers_per_block, in_channels, out_channels)?,
            sampler,
        })
    }
}

impl HunyuanVideoUpBlock3D {
    /// Up block `p` with an upsampler of `factor` `[t, h, w]` when given.
    pub(crate) fn new(
        p: &Params,
        cfg: &VaeConfig,
        in_channels: usize,
        out_channels: usize,
        factor: Option<[usize; 3]>,
    ) -> Result<Self> {
        let sampler = factor
            .map(|f| HunyuanVideoUpsampleCausal3D::new(&p.sub("upsamplers.0"), out_channels, f))
            .transpose()?;
        Ok(HunyuanVideoBlock3D {
            resnets: resnets(p, cfg, cfg.layers_per_block + 1, in_channels, out_channels)?,
            sampler,
        })
    }
}

impl<S: Module> Module for HunyuanVideoBlock3D<S> {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut h = x.clone();
        for resnet in &self.resnets {
            h = resnet.forward(&h)?;
        }
        match &self.sampler {
            Some(s) => s.forward(&h),
            None => Ok(h),
        }
    }
}
