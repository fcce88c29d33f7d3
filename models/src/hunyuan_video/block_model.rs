//! One DiT block as a runnable model, for benchmarks and per-block comparisons with
//! diffusers' `HunyuanVideoTransformerBlock` (dual stream) and
//! `HunyuanVideoSingleTransformerBlock` (single stream).
//!
//! The block's parameters sit at the root, named as in diffusers' block `state_dict`
//! (`norm1.linear.weight`, `attn.to_q.weight`, ...). Its inputs are what the full model
//! hands each block: `hidden_states dtype[B, N, D]`, `encoder_hidden_states dtype[B, L, D]`,
//! `temb dtype[B, D]` and the rotary tables `rope_cos`, `rope_sin f32[N, head_dim]`; every
//! key is valid (diffusers' `attention_mask=None`). Outputs: the updated `hidden_states`
//! and `encoder_hidden_states`.

use super::blocks::{DualBlock, SingleBlock};
use super::config::TransformerConfig;
use hyv_frontend::{DType, Error, Model, Params, Result, Tensor, TensorType};

/// Names accepted by [`BlockKind::from_name`].
pub const BLOCK_KINDS: &[&str] = &["double", "single"];

/// Which block of the DiT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockKind {
    /// A dual-stream block (`transformer_blocks.i`): separate image and text weights,
    /// joint attention.
    Double,
    /// A single-stream block (`single_transformer_blocks.i`): image and text concatenated.
    Single,
}

impl BlockKind {
    /// The kind called `name` (see [`BLOCK_KINDS`]).
    pub fn from_name(name: &str) -> Result<Self> {
        match name {
            "double" => Ok(BlockKind::Double),
            "single" => Ok(BlockKind::Single),
            _ => Err(Error::Usage(format!(
                "unknown block `{name}` (expected one of {})",
                BLOCK_KINDS.join(", ")
            ))),
        }
    }
}

/// One block of a DiT of `config`, as a [`Model`] named `double_block` or `single_block`.
#[derive(Debug, Clone)]
pub struct BlockModel {
    config: TransformerConfig,
    kind: BlockKind,
    dtype: DType,
}

impl BlockModel {
    /// A `kind` block of `config` (validated) computing in `dtype` (f32, bf16 or f16).
    pub fn new(config: TransformerConfig, kind: BlockKind, dtype: DType) -> Result<Self> {
        config
            .validate()
            .map_err(|e| Error::Usage(format!("transformer config: {e}")))?;
        if !matches!(dtype, DType::F32 | DType::BF16 | DType::F16) {
            return Err(Error::Usage(format!(
                "block dtype must be f32, bf16 or f16, got {dtype}"
            )));
        }
        Ok(BlockModel {
            config,
            kind,
            dtype,
        })
    }

    /// The block's input names and types for `batch` videos of the latent size
    /// `(frames, height, width)` and `text_len` tokens: the image tokens are the post-patch
    /// grid, as the full model's blocks see them.
    pub fn input_types(
        &self,
        batch: usize,
        latent: (usize, usize, usize),
        text_len: usize,
    ) -> Vec<(String, TensorType)> {
        let cfg = &self.config;
        let (f, h, w) = latent;
        let n = (f / cfg.patch_size_t) * (h / cfg.patch_size) * (w / cfg.patch_size);
        let d = cfg.inner_dim();
        let rope = TensorType::new(DType::F32, [n, cfg.attention_head_dim]);
        vec![
            (
                "hidden_states".into(),
                TensorType::new(self.dtype, [batch, n, d]),
            ),
            (
                "encoder_hidden_states".into(),
                TensorType::new(self.dtype, [batch, text_len, d]),
            ),
            ("temb".into(), TensorType::new(self.dtype, [batch, d])),
            ("rope_cos".into(), rope.clone()),
            ("rope_sin".into(), rope),
        ]
    }
}

impl Model for BlockModel {
    fn name(&self) -> &str {
        match self.kind {
            BlockKind::Double => "double_block",
            BlockKind::Single => "single_block",
        }
    }

    fn forward(&self, params: &Params, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        let [x, c, temb, cos, sin] = inputs else {
            return Err(Error::Usage(format!(
                "a DiT block takes 5 inputs (hidden_states, encoder_hidden_states, temb, \
                 rope_cos, rope_sin), got {}",
                inputs.len()
            )));
        };
        if x.rank() != 3 || c.rank() != 3 {
            return Err(Error::Usage(format!(
                "a DiT block takes hidden_states [B, N, D] and encoder_hidden_states \
                 [B, L, D], got {} and {}",
                x.ty(),
                c.ty()
            )));
        }
        let cfg = &self.config;
        let p = params.in_dtype(self.dtype);
        let (heads, head_dim, mlp) = (
            cfg.num_attention_heads,
            cfg.attention_head_dim,
            cfg.mlp_dim(),
        );
        let (b, n, l) = (x.dims()[0], x.dims()[1], c.dims()[1]);
        let key_mask = x.ctx().full(&[b, n + l], DType::Bool, 1.0)?;
        let rope = (cos.clone(), sin.clone());
        let (x, c) =
            match self.kind {
                BlockKind::Double => DualBlock::new(&p, heads, head_dim, mlp)?
                    .forward(x, c, temb, &key_mask, &rope)?,
                BlockKind::Single => SingleBlock::new(&p, heads, head_dim, mlp)?
                    .forward(x, c, temb, &key_mask, &rope)?,
            };
        Ok(vec![x, c])
    }
}
