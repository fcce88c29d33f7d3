//! `HunyuanVideoDecoder3D`: `conv_in`, mid block, up blocks, `conv_norm_out` + SiLU +
//! `conv_out` (reference/hunyuanvideo_spec.md §2.6).

use super::blocks::HunyuanVideoUpBlock3D;
use super::causal_conv::HunyuanVideoCausalConv3d;
use super::config::VaeConfig;
use super::mid_block::HunyuanVideoMidBlock3D;
use super::norm::VaeGroupNorm;
use hyv_frontend::{Module, Params, Result, Tensor};

/// The decoder: latent `[B, latent_channels, T_l, H_l, W_l]` (after `post_quant_conv`) →
/// video `[B, out_channels, T, H, W]`.
pub(crate) struct HunyuanVideoDecoder3D {
    conv_in: HunyuanVideoCausalConv3d,
    mid_block: HunyuanVideoMidBlock3D,
    up_blocks: Vec<HunyuanVideoUpBlock3D>,
    conv_norm_out: VaeGroupNorm,
    conv_out: HunyuanVideoCausalConv3d,
}

impl HunyuanVideoDecoder3D {
    /// Declares every parameter of the decoder under `p` (`decoder`).
    pub(crate) fn new(p: &Params, cfg: &VaeConfig) -> Result<Self> {
        let reversed: Vec<usize> = cfg.block_out_channels.iter().rev().copied().collect();
        let (first, last) = (reversed[0], reversed[reversed.len() - 1]);
        let up_blocks = reversed
            .iter()
            .enumerate()
            .map(|(i, &out)| {
                let input = reversed[i.saturating_sub(1)];
                HunyuanVideoUpBlock3D::new(
                    &p.sub("up_blocks").sub(i),
                    cfg,
                    input,
                    out,
                    cfg.resampling(i),
                )
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(HunyuanVideoDecoder3D {
            conv_in: HunyuanVideoCausalConv3d::new(
                &p.sub("conv_in"),
                cfg.latent_channels,
                first,
                3,
                [1; 3],
            )?,
            mid_block: HunyuanVideoMidBlock3D::new(
                &p.sub("mid_block"),
                first,
                cfg.norm_num_groups,
                cfg.mid_block_add_attention,
            )?,
            up_blocks,
            conv_norm_out: VaeGroupNorm::new(&p.sub("conv_norm_out"), cfg.norm_num_groups, last)?,
            conv_out: HunyuanVideoCausalConv3d::new(
                &p.sub("conv_out"),
                last,
                cfg.out_channels,
                3,
                [1; 3],
            )?,
        })
    }
}

impl Module for HunyuanVideoDecoder3D {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut h = self.conv_in.forward(x)?;
        h = self.mid_block.forward(&h)?;
        for block in &self.up_blocks {
            h = block.forward(&h)?;
        }
        self.conv_out
            .forward(&self.conv_norm_out.forward(&h)?.silu()?)
    }
}
