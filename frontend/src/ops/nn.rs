//! Composite neural-network ops (single IR nodes with a reference decomposition): linear,
//! norms, attention, rotary embedding, upsampling, and convolution.

use crate::{Result, Tensor};
use hyv_ir::{Op, F64};

/// Options of [`Tensor::attention`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct AttentionOptions {
    /// Score scale; `None` is `1/sqrt(head_dim)`.
    pub scale: Option<f64>,
    /// Hide keys after the query position.
    pub causal: bool,
}

/// Options of [`Tensor::conv`], one entry per spatial axis (like `torch.nn.ConvNd`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvOptions {
    /// Stride per spatial axis.
    pub stride: Vec<usize>,
    /// Zero padding `(before, after)` per spatial axis.
    pub padding: Vec<(usize, usize)>,
    /// Dilation per spatial axis.
    pub dilation: Vec<usize>,
    /// Number of channel groups.
    pub groups: usize,
}

impl ConvOptions {
    /// Stride 1, no padding, dilation 1, one group, over `spatial` axes.
    pub fn new(spatial: usize) -> Self {
        ConvOptions {
            stride: vec![1; spatial],
            padding: vec![(0, 0); spatial],
            dilation: vec![1; spatial],
            groups: 1,
        }
    }

    /// The same padding `p` on both sides of every spatial axis.
    pub fn with_padding(mut self, p: usize) -> Self {
        self.padding = vec![(p, p); self.padding.len()];
        self
    }

    /// The same stride `s` on every spatial axis.
    pub fn with_stride(mut self, s: usize) -> Self {
        self.stride = vec![s; self.stride.len()];
        self
    }
}

impl Tensor {
    /// `self @ weightᵀ (+ bias)` with weight `[out, in]`, like `torch.nn.functional.linear`.
    pub fn linear(&self, weight: &Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
        let op = Op::Linear {
            has_bias: bias.is_some(),
        };
        match bias {
            Some(b) => self.ctx().apply(op, &[self, weight, b]),
            None => self.ctx().apply(op, &[self, weight]),
        }
    }

    /// Layer norm over the last axis with optional `(weight, bias)`.
    pub fn layer_norm(&self, affine: Option<(&Tensor, &Tensor)>, eps: f64) -> Result<Tensor> {
        let op = Op::LayerNorm {
            eps: F64(eps),
            affine: affine.is_some(),
        };
        match affine {
            Some((w, b)) => self.ctx().apply(op, &[self, w, b]),
            None => self.ctx().apply(op, &[self]),
        }
    }

    /// RMS norm over the last axis with an optional weight.
    pub fn rms_norm(&self, weight: Option<&Tensor>, eps: f64) -> Result<Tensor> {
        let op = Op::RmsNorm {
            eps: F64(eps),
            affine: weight.is_some(),
        };
        match weight {
            Some(w) => self.ctx().apply(op, &[self, w]),
            None => self.ctx().apply(op, &[self]),
        }
    }

    /// Group norm of `[N, C, ...]` with `groups` groups and optional `(weight, bias)`.
    pub fn group_norm(
        &self,
        groups: usize,
        affine: Option<(&Tensor, &Tensor)>,
        eps: f64,
    ) -> Result<Tensor> {
        let op = Op::GroupNorm {
            groups,
            eps: F64(eps),
            affine: affine.is_some(),
        };
        match affine {
            Some((w, b)) => self.ctx().apply(op, &[self, w, b]),
            None => self.ctx().apply(op, &[self]),
        }
    }

    /// Scaled dot-product attention of `self` (q `[B,H,Sq,D]`) over `k`, `v`
    /// (`[B,H,Sk,D]`, `[B,H,Sk,Dv]`), with an optional bool key mask `[B,Sk]` (false hides
    /// the key).
    pub fn attention(
        &self,
        k: &Tensor,
        v: &Tensor,
        key_mask: Option<&Tensor>,
        options: AttentionOptions,
    ) -> Result<Tensor> {
        let head_dim = self.dims().last().copied().unwrap_or(1);
        let op = Op::Attention {
            scale: F64(options.scale.unwrap_or(1.0 / (head_dim as f64).sqrt())),
            causal: options.causal,
            has_mask: key_mask.is_some(),
        };
        match key_mask {
            Some(m) => self.ctx().apply(op, &[self, k, v, m]),
            None => self.ctx().apply(op, &[self, k, v]),
        }
    }

    /// Rotary embedding of `[..., S, D]` with `cos`, `sin` `[S, D]`; `interleaved` rotates
    /// pairs (HunyuanVideo), otherwise halves (Llama).
    pub fn rope(&self, cos: &Tensor, sin: &Tensor, interleaved: bool) -> Result<Tensor> {
        self.ctx()
            .apply(Op::Rope { interleaved }, &[self, cos, sin])
    }

    /// Nearest-neighbour upsampling of `[N, C, s...]` by an integer factor per spatial axis.
    pub fn upsample_nearest(&self, scale: &[usize]) -> Result<Tensor> {
        self.ctx().apply(
            Op::UpsampleNearest {
                scale: scale.to_vec(),
            },
            &[self],
        )
    }

    /// N-d cross-correlation of `[N, C, s...]` with weight `[O, C/groups, k...]` (no bias),
    /// like `torch.nn.functional.convNd`.
    pub fn conv(&self, weight: &Tensor, options: &ConvOptions) -> Result<Tensor> {
        self.ctx().apply(
            Op::Conv {
                stride: options.stride.clone(),
                padding: options.padding.clone(),
                dilation: options.dilation.clone(),
                groups: options.groups,
            },
            &[self, weight],
        )
    }
}
