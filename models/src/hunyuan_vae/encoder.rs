//! `HunyuanVideoEncoder3D`: `conv_in`, down blocks, mid block, `conv_norm_out` + SiLU +
//! `conv_out` (reference/hunyuanvideo_spec.md §2.6).

use super::blocks::HunyuanVideoDownBlock3D;
use super::causal_conv::HunyuanVideoCausalConv3d;
use super::config::VaeConfig;
use super::mid_block::HunyuanVideoMidBlock3D;
use super::norm::VaeGroupNorm;
use hyv_frontend::{Module, Params, Result, Tensor};

/// The encoder: video `[B, in_channels, T, H, W]` → `[B, 2·latent_channels, T_l, H_l, W_l]`
/// (mean and log-variance before `quant_conv`).
pub(crate) struct HunyuanVideoEncoder3D {
    conv_in: HunyuanVideoCausalConv3d,
    down_blocks: Vec<HunyuanVideoDownBlock3D>,
    mid_block: HunyuanVideoMidBlock3D,
    conv_norm_out: VaeGroupNorm,
    conv_out: HunyuanVideoCausalConv3d,
}

impl HunyuanVideoEncoder3D {
    /// Declares every parameter of the encoder under `p` (`encoder`).
    pub(crate) fn new(p: &Params, cfg: &VaeConfig) -> Result<Self> {
        let channels = &cfg.block_out_channels;
        let last = channels[channels.len() - 1];
        let down_blocks = channels
            .iter()
            .enumerate()
            .map(|(i, &out)| {
                let input = channels[i.saturating_sub(1)];
                HunyuanVideoDownBlock3D::new(
                    &p.sub("down_blocks").sub(i),
                    cfg,
                    input,
                    out,
                    cfg.resampling(i),
                )
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(HunyuanVideoEncoder3D {
            conv_in: HunyuanVideoCausalConv3d::new(
                &p.sub("conv_in"),
                cfg.in_channels,
                channels[0],
                3,
                [1; 3],
            )?,
            down_blocks,
            mid_block: HunyuanVideoMidBlock3D::new(
                &p.sub("mid_block"),
                last,
                cfg.norm_num_groups,
                cfg.mid_block_add_attention,
            )?,
            conv_norm_out: VaeGroupNorm::new(&p.sub("conv_norm_out"), cfg.norm_num_groups, last)?,
            conv_out: HunyuanVideoCausalConv3d::new(
                &p.sub("conv_out"),
                last,
                2 * cfg.latent_channels,
                3,
                [1; 3],
            )?,
        })
    }
}

impl Module for HunyuanVideoEncoder3D {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut h = self.conv_in.forward(x)?;
        for block in &self.down_blocks {
            h = block.forward(&h)?;
        }
        h = self.mid_block.forward(&h)?;
        self.conv_out
            .forward(&self.conv_norm_out.forward(&h)?.silu()?)
    }
}
