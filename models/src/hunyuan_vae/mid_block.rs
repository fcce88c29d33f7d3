//! `HunyuanVideoMidBlock3D`: resnet, frame-causal self-attention, resnet
//! (reference/hunyuanvideo_spec.md §2.5).

use super::norm::VaeGroupNorm;
use super::resnet::HunyuanVideoResnetBlockCausal3D;
use hyv_frontend::nn::Linear;
use hyv_frontend::{concat, AttentionOptions, Error, Module, Params, Result, Tensor};

/// diffusers' `Attention` as the mid block builds it: one head of all `C` channels over the
/// `T·H·W` tokens (t slowest, then h, then w), `group_norm` before `to_q/to_k/to_v`, output
/// projection `to_out.0`, residual connection, scale `1/√C`.
///
/// Token `i` sees token `j` iff `frame(j) ≤ frame(i)`: diffusers adds a dense `[S, S]` mask of
/// 0 / −∞ (`prepare_causal_attention_mask`). That is block-causal, not token-causal, so the
/// IR attention's `causal` flag (token-causal) and key mask (per batch row, not per query)
/// cannot express it directly. It is computed exactly as one attention per frame `f`: the
/// queries of frame `f` over the keys and values of frames `0..=f`, a prefix of the sequence.
/// A masked key gets weight `exp(−∞) = 0` in diffusers, so dropping it is the same softmax;
/// no `[S, S]` mask is materialised and no score outside the mask is computed, and every
/// piece stays an `attention` node that backends can lower to flash attention.
struct MidBlockAttention {
    path: String,
    group_norm: VaeGroupNorm,
    to_q: Linear,
    to_k: Linear,
    to_v: Linear,
    to_out: Linear,
}

impl MidBlockAttention {
    fn new(p: &Params, channels: usize, groups: usize) -> Result<Self> {
        let linear = |name: &str| Linear::new(&p.sub(name), channels, channels, true);
        Ok(MidBlockAttention {
            path: p.path().to_string(),
            group_norm: VaeGroupNorm::new(&p.sub("group_norm"), groups, channels)?,
            to_q: linear("to_q")?,
            to_k: linear("to_k")?,
            to_v: linear("to_v")?,
            to_out: linear("to_out.0")?,
        })
    }
}

impl Module for MidBlockAttention {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let _scope = x.ctx().enter(&self.path);
        let &[b, c, t, h, w] = x.dims() else {
            return Err(Error::Usage(format!(
                "`{}` expects a [B, C, T, H, W] tensor, got {}",
                self.path,
                x.ty()
            )));
        };
        let per_frame = h * w;
        // GroupNorm of the tokens `[B, C, T·H·W]` has the same groups as of `[B, C, T, H, W]`.
        let tokens = self
            .group_norm
            .forward(x)?
            .permute(&[0, 2, 3, 4, 1])?
            .reshape([b, t * per_frame, c])?;
        // One head: [B, S, C] → [B, 1, S, C].
        let q = self.to_q.forward(&tokens)?.unsqueeze(1)?;
        let k = self.to_k.forward(&tokens)?.unsqueeze(1)?;
        let v = self.to_v.forward(&tokens)?.unsqueeze(1)?;
        let frames = (0..t)
            .map(|f| {
                let visible = (f + 1) * per_frame;
                q.narrow(2, f * per_frame, per_frame)?.attention(
                    &k.narrow(2, 0, visible)?,
                    &v.narrow(2, 0, visible)?,
                    None,
                    AttentionOptions::default(),
                )
            })
            .collect::<Result<Vec<_>>>()?;
        let attended = concat(&frames.iter().collect::<Vec<_>>(), 2)?.squeeze(1)?;
        self.to_out
            .forward(&attended)?
            .reshape([b, t, h, w, c])?
            .permute(&[0, 4, 1, 2, 3])?
            .add(x)
    }
}

/// `resnets.0`, then `attentions.0` (when `add_attention`) and `resnets.1`, all at
/// `channels` (diffusers' `num_layers = 1`).
pub(crate) struct HunyuanVideoMidBlock3D {
    resnets: [HunyuanVideoResnetBlockCausal3D; 2],
    attention: Option<MidBlockAttention>,
}

impl HunyuanVideoMidBlock3D {
    /// Declares `resnets.{0,1}` and, with `add_attention`, `attentions.0` under `p`.
    pub(crate) fn new(
        p: &Params,
        channels: usize,
        groups: usize,
        add_attention: bool,
    ) -> Result<Self> {
        let resnet = |i: usize| {
            HunyuanVideoResnetBlockCausal3D::new(
                &p.sub("resnets").sub(i),
                channels,
                channels,
                groups,
            )
        };
        let attention = if add_attention {
            Some(MidBlockAttention::new(
                &p.sub("attentions.0"),
                channels,
                groups,
            )?)
        } else {
            None
        };
        Ok(HunyuanVideoMidBlock3D {
            resnets: [resnet(0)?, resnet(1)?],
            attention,
        })
    }
}

impl Module for HunyuanVideoMidBlock3D {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut h = self.resnets[0].forward(x)?;
        if let Some(attention) = &self.attention {
            h = attention.forward(&h)?;
        }
        self.resnets[1].forward(&h)
    }
}
