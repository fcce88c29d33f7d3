//! diffusers' `Attention` as HunyuanVideo uses it (`HunyuanVideoAttnProcessor2_0` and the
//! refiner's `AttnProcessor2_0`): `to_q/to_k/to_v` with optional RMS qk-norm, optional
//! text-stream projections `add_*_proj` + `norm_added_*` + `to_add_out`, optional
//! `to_out.0`. Heads are laid out `[B, H, S, head_dim]` for the attention op; the scale is
//! `1/sqrt(head_dim)` everywhere.

use hyv_frontend::nn::{Linear, RmsNorm};
use hyv_frontend::{concat, AttentionOptions, DType, Module, Params, Result, Tensor};

/// Epsilon of the qk RMS norms.
const QK_NORM_EPS: f64 = 1e-6;

/// The text-stream projections of a dual-stream block.
struct Added {
    add_q_proj: Linear,
    add_k_proj: Linear,
    add_v_proj: Linear,
    norm_added_q: RmsNorm,
    norm_added_k: RmsNorm,
    to_add_out: Linear,
}

/// Which parameters an [`Attention`] has.
#[derive(Clone, Copy)]
pub(crate) struct AttentionKind {
    /// `norm_q`/`norm_k` (and `norm_added_*`) RMS norms.
    pub qk_norm: bool,
    /// Text-stream projections (dual-stream blocks).
    pub added: bool,
    /// `to_out.0` (absent in single-stream blocks, `pre_only`).
    pub out: bool,
}

/// One multi-head attention module; see the module docs.
pub(crate) struct Attention {
    path: String,
    heads: usize,
    to_q: Linear,
    to_k: Linear,
    to_v: Linear,
    norm_q: Option<RmsNorm>,
    norm_k: Option<RmsNorm>,
    added: Option<Added>,
    to_out: Option<Linear>,
}

/// `[B, S, H·Dh]` → `[B, H, S, Dh]`.
fn split_heads(x: &Tensor, heads: usize) -> Result<Tensor> {
    let (b, s) = (x.dims()[0], x.dims()[1]);
    x.reshape([b as i64, s as i64, heads as i64, -1])?
        .permute(&[0, 2, 1, 3])
}

/// `[B, H, S, Dh]` → `[B, S, H·Dh]`.
fn merge_heads(x: &Tensor) -> Result<Tensor> {
    let (b, s) = (x.dims()[0], x.dims()[2]);
    x.transpose(1, 2)?.reshape([b as i64, s as i64, -1])
}

/// Interleaved rotary embedding of `x [B, H, S, Dh]` computed in f32 (tables `[S, Dh]`
/// f32), cast back to `x`'s dtype, like diffusers' `apply_rotary_emb`.
fn apply_rope(x: &Tensor, rope: &(Tensor, Tensor)) -> Result<Tensor> {
    x.to_dtype(DType::F32)?
        .rope(&rope.0, &rope.1, true)?
        .to_dtype(x.dtype())
}

impl Attention {
    pub(crate) fn new(
        p: &Params,
        heads: usize,
        head_dim: usize,
        kind: AttentionKind,
    ) -> Result<Self> {
        let d = heads * head_dim;
        let norm = |name: &str| -> Result<Option<RmsNorm>> {
            if kind.qk_norm {
                Ok(Some(RmsNorm::new(
                    &p.sub(name),
                    head_dim,
                    QK_NORM_EPS,
                    true,
                )?))
            } else {
                Ok(None)
            }
        };
        let added = if kind.added {
            Some(Added {
                add_q_proj: Linear::new(&p.sub("add_q_proj"), d, d, true)?,
                add_k_proj: Linear::new(&p.sub("add_k_proj"), d, d, true)?,
                add_v_proj: Linear::new(&p.sub("add_v_proj"), d, d, true)?,
                norm_added_q: RmsNorm::new(&p.sub("norm_added_q"), head_dim, QK_NORM_EPS, true)?,
                norm_added_k: RmsNorm::new(&p.sub("norm_added_k"), head_dim, QK_NORM_EPS, true)?,
                to_add_out: Linear::new(&p.sub("to_add_out"), d, d, true)?,
            })
        } else {
            None
        };
        Ok(Attention {
            path: p.path().to_string(),
            heads,
            to_q: Linear::new(&p.sub("to_q"), d, d, true)?,
            to_k: Linear::new(&p.sub("to_k"), d, d, true)?,
            to_v: Linear::new(&p.sub("to_v"), d, d, true)?,
            norm_q: norm("norm_q")?,
            norm_k: norm("norm_k")?,
            added,
            to_out: if kind.out {
                Some(Linear::new(&p.sub("to_out").sub(0), d, d, true)?)
            } else {
                None
            },
        })
    }

    /// Queries, keys and values of `x [B, S, D]` as `[B, H, S, Dh]`, qk-normed.
    fn qkv(&self, x: &Tensor) -> Result<(Tensor, Tensor, Tensor)> {
        let h = |t: Tensor| split_heads(&t, self.heads);
        let mut q = h(self.to_q.forward(x)?)?;
        let mut k = h(self.to_k.forward(x)?)?;
        let v = h(self.to_v.forward(x)?)?;
        if let (Some(nq), Some(nk)) = (&self.norm_q, &self.norm_k) {
            q = nq.forward(&q)?;
            k = nk.forward(&k)?;
        }
        Ok((q, k, v))
    }

    /// Dual-stream joint attention: image `x [B, N, D]` (rotary on its q/k) and text
    /// `c [B, L, D]` attend jointly (image first) under `key_mask bool[B, N+L]`; returns
    /// `(to_out.0(image rows), to_add_out(text rows))`.
    pub(crate) fn joint(
        &self,
        x: &Tensor,
        c: &Tensor,
        key_mask: &Tensor,
        rope: &(Tensor, Tensor),
    ) -> Result<(Tensor, Tensor)> {
        let _scope = x.ctx().enter(&self.path);
        let (Some(added), Some(to_out)) = (&self.added, &self.to_out) else {
            return Err(hyv_frontend::Error::Usage(format!(
                "`{}`: joint attention needs the text-stream projections and to_out",
                self.path
            )));
        };
        let (q, k, v) = self.qkv(x)?;
        let (q, k) = (apply_rope(&q, rope)?, apply_rope(&k, rope)?);
        let h = |t: Tensor| split_heads(&t, self.heads);
        let cq = added
            .norm_added_q
            .forward(&h(added.add_q_proj.forward(c)?)?)?;
        let ck = added
            .norm_added_k
            .forward(&h(added.add_k_proj.forward(c)?)?)?;
        let cv = h(added.add_v_proj.forward(c)?)?;
        let q = concat(&[&q, &cq], 2)?;
        let k = concat(&[&k, &ck], 2)?;
        let v = concat(&[&v, &cv], 2)?;
        let o = merge_heads(&q.attention(&k, &v, Some(key_mask), AttentionOptions::default())?)?;
        let (n, l) = (x.dims()[1], c.dims()[1]);
        Ok((
            to_out.forward(&o.narrow(1, 0, n)?)?,
            added.to_add_out.forward(&o.narrow(1, n, l)?)?,
        ))
    }

    /// Single-stream attention over `s [B, N+L, D]` (image first), rotary on the first `N`
    /// positions of q/k only, under `key_mask bool[B, N+L]`; heads merged, no projection.
    pub(crate) fn single(
        &self,
        s: &Tensor,
        n: usize,
        key_mask: &Tensor,
        rope: &(Tensor, Tensor),
    ) -> Result<Tensor> {
        let _scope = s.ctx().enter(&self.path);
        let (q, k, v) = self.qkv(s)?;
        let total = s.dims()[1];
        let rope_first = |t: &Tensor| -> Result<Tensor> {
            let img = apply_rope(&t.narrow(2, 0, n)?, rope)?;
            concat(&[&img, &t.narrow(2, n, total - n)?], 2)
        };
        let (q, k) = (rope_first(&q)?, rope_first(&k)?);
        merge_heads(&q.attention(&k, &v, Some(key_mask), AttentionOptions::default())?)
    }

    /// Refiner self-attention of `x [B, L, D]` with diffusers' mask
    /// `M[i, j] = valid_i AND valid_j`, column 0 forced true (`valid bool[B, L]`): valid
    /// queries see keys `{j : valid_j} ∪ {0}`, padded queries see key 0 only and so get
    /// exactly `v_0`. Then `to_out.0`.
    pub(crate) fn refiner(&self, x: &Tensor, valid: &Tensor) -> Result<Tensor> {
        let _scope = x.ctx().enter(&self.path);
        let Some(to_out) = &self.to_out else {
            return Err(hyv_frontend::Error::Usage(format!(
                "`{}`: refiner attention needs to_out",
                self.path
            )));
        };
        let (q, k, v) = self.qkv(x)?;
        let ctx = x.ctx();
        let first =
            ctx.iota(valid.dims(), 1, DType::I32)?
                .eq(&ctx.full(&[1, 1], DType::I32, 0.0)?)?;
        let key_mask = valid.or(&first)?;
        let o = q.attention(&k, &v, Some(&key_mask), AttentionOptions::default())?;
        let (b, l) = (valid.dims()[0], valid.dims()[1]);
        let query_valid = valid.reshape([b, 1, l, 1])?;
        let o = query_valid.where_(&o, &v.narrow(2, 0, 1)?)?;
        to_out.forward(&merge_heads(&o)?)
    }
}
