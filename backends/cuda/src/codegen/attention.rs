//! The flash-attention kernel source (`attention.cu`), specialised by head dimension and
//! storage type.
//!
//! This is the SIMT version (f32 FMAs, no tensor cores): correct first; an `mma`-based
//! bf16 kernel is future work. Not yet run on a GPU: only its compilation to PTX is tested.

use super::{storage, KernelSource, Launch, PRELUDE};
use hyv_ir::DType;

/// Queries per block (one warp each; `HYV_WARPS` in `attention.cu`).
pub const ATTENTION_BLOCK_Q: usize = 8;

/// Which attention kernel: the storage type of q, k, v and the output, and the head
/// dimension (HunyuanVideo's 128 and 64 fill whole warps; any other works, with idle
/// lanes, up to 160).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AttentionSpec {
    /// f32, f16 or bf16.
    pub dtype: DType,
    /// Head dimension of q, k and v.
    pub head_dim: usize,
}

/// The kernel for `spec`, launched for `batch_heads` (B·H) and `sq` queries. Its
/// arguments: `q, k, v, key_mask (or null), out, heads, sq, sk, scale, causal`. `None`
/// for an integer or bool dtype or a head dimension of 0 or above 160 (the shared-memory
/// tiles of K and V must fit in 48 KiB).
pub fn attention_kernel(
    spec: AttentionSpec,
    batch_heads: usize,
    sq: usize,
) -> Option<KernelSource> {
    if !spec.dtype.is_float() || spec.head_dim == 0 || spec.head_dim > 160 {
        return None;
    }
    let (ty, sfx) = storage(spec.dtype)?;
    let name = format!("hyv_attention_{sfx}_d{}", spec.head_dim);
    let source = format!(
        "{PRELUDE}\n#define HYV_D {d}\n#define HYV_T {ty}\n#define HYV_LD hyv_ld_{sfx}\n\
         #define HYV_ST hyv_st_{sfx}\n#define HYV_NAME {name}\n{body}",
        d = spec.head_dim,
        body = include_str!("attention.cu"),
    );
    Some(KernelSource {
        name,
        source,
        launch: Launch::Attention {
            query_tiles: sq.div_ceil(ATTENTION_BLOCK_Q) as u32,
            batch_heads: batch_heads as u32,
        },
    })
}
