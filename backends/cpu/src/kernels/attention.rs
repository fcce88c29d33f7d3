//! Scaled dot-product attention with an online softmax over key tiles: the `Sq × Sk` score
//! matrix is never materialised, only a `TILE_Q × TILE_K` block per task. Tasks are
//! (batch·head, query tile) pairs run in parallel with rayon; both products of a block
//! (`Q·Kᵀ` and `P·V`) run on gemm.
//!
//! Conventions of the IR op (matched exactly): masked-out keys and, with `causal`, keys
//! `j > i` get zero weight; a query row with no visible key yields zeros.

use super::fmath::{exp_nonpos, exp_sub_sum};
use super::matmul::{sgemm, MatRef};
use crate::tensor::{load_f32, store_f32, typed, Arg};
use hyv_ir::{Op, TensorData};
use rayon::prelude::*;

/// Query rows per task. With [`TILE_K`], chosen by A/B on `[1,8,2048,64|128]`, one thread,
/// busy 2-core machine: 64×128 gave 44–45 / 57 GFLOP/s; 128×128, 128×256 and 256×128 were
/// within noise of it (±5 %), 32-row tiles 10–20 % slower. 64 rows keep more tasks for the
/// threads on short sequences.
const TILE_Q: usize = 64;
/// Keys per block.
const TILE_K: usize = 128;

/// One (batch·head, query tile) task's inputs.
struct Task<'a> {
    /// Query rows `[rows, d]`.
    q: &'a [f32],
    /// All keys of the head `[sk, d]`.
    k: &'a [f32],
    /// All values of the head `[sk, dv]`.
    v: &'a [f32],
    /// The batch's key mask `[sk]`.
    mask: Option<&'a [bool]>,
    /// Index of the first query row.
    i0: usize,
    d: usize,
    dv: usize,
    scale: f32,
    causal: bool,
}

/// Evaluates `attention`.
pub fn eval(op: &Op, args: &[Arg]) -> Result<TensorData, String> {
    let Op::Attention { scale, causal, .. } = op else {
        return Err("not an attention op".into());
    };
    let (q, k, v, mask) = match args {
        [q, k, v] => (q, k, v, None),
        [q, k, v, m] => (q, k, v, Some(typed::<bool>(m.data, "key mask")?)),
        _ => return Err(format!("expects 3 or 4 operands, got {}", args.len())),
    };
    let [_, h, sq, d] = *q.dims() else {
        return Err(format!("q {} must be [B, H, S, D]", q.ty));
    };
    let (sk, dv) = (k.dims()[2], v.dims()[3]);
    let (qv, kv, vv) = (
        load_f32(q.data, "q")?,
        load_f32(k.data, "k")?,
        load_f32(v.data, "v")?,
    );
    let mut out = vec![0.0f32; qv.len() / d * dv];
    out.par_chunks_mut(sq * dv)
        .enumerate()
        .for_each(|(bh, head_out)| {
            head_out
                .par_chunks_mut(TILE_Q * dv)
                .enumerate()
                .for_each(|(t, tile_out)| {
                    let (i0, rows) = (t * TILE_Q, tile_out.len() / dv);
                    let task = Task {
                        q: &qv[(bh * sq + i0) * d..(bh * sq + i0 + rows) * d],
                        k: &kv[bh * sk * d..(bh + 1) * sk * d],
                        v: &vv[bh * sk * dv..(bh + 1) * sk * dv],
                        mask: mask.map(|m| &m[(bh / h) * sk..(bh / h + 1) * sk]),
                        i0,
                        d,
                        dv,
                        scale: scale.0 as f32,
                        causal: *causal,
                    };
                    task.run(tile_out);
                });
        });
    store_f32(q.ty.dtype, out)
}

impl Task<'_> {
    /// Computes the task's output rows into `out` (`[rows, dv]`, zero on entry).
    fn run(&self, out: &mut [f32]) {
        let (d, dv) = (self.d, self.dv);
        let rows = self.q.len() / d;
        let sk = self.k.len() / d;
        // With causal masking no row of this tile sees keys past its last row.
        let kend = if self.causal {
            sk.min(self.i0 + rows)
        } else {
            sk
        };
        let mut s = vec![0.0f32; rows * TILE_K];
        let mut max = vec![f32::NEG_INFINITY; rows];
        let mut denom = vec![0.0f32; rows];
        for j0 in (0..kend).step_by(TILE_K) {
            let tk = TILE_K.min(kend - j0);
            let keys = MatRef::transposed(&self.k[j0 * d..(j0 + tk) * d], d);
            sgemm(
                rows,
                tk,
                d,
                &mut s,
                tk,
                MatRef::rows(self.q, d),
                keys,
                false,
                false,
            );
            for r in 0..rows {
                let row = &mut s[r * tk..(r + 1) * tk];
                let (block_max, any_visible) = self.scores(row, self.i0 + r, j0);
                let m_new = block_max.max(max[r]);
                if m_new == f32::NEG_INFINITY {
                    // No finite visible score yet: nothing to add, unless visible scores
                    // were all -∞ or NaN, whose weights are NaN (as in the reference).
                    if any_visible {
                        denom[r] = f32::NAN;
                    }
                    row.fill(0.0);
                    continue;
                }
                let corr = exp_nonpos(max[r] - m_new);
                denom[r] = denom[r] * corr + exp_sub_sum(row, m_new);
                max[r] = m_new;
                if corr != 1.0 {
                    out[r * dv..(r + 1) * dv]
                        .iter_mut()
                        .for_each(|o| *o *= corr);
                }
            }
            let values = MatRef::rows(&self.v[j0 * dv..(j0 + tk) * dv], dv);
            sgemm(
                rows,
                dv,
                tk,
                out,
                dv,
                MatRef::rows(&s[..rows * tk], tk),
                values,
                true,
                false,
            );
        }
        for (row, &l) in out.chunks_mut(dv).zip(&denom) {
            if l == 0.0 {
                // No visible key: zeros (even where a value is not finite).
                row.fill(0.0);
            } else {
                row.iter_mut().for_each(|o| *o /= l);
            }
        }
    }

    /// Scales the raw scores of query `i` against keys `j0..` in place, hiding invisible
    /// keys as -∞; returns the maximum (NaN ignored) and whether any key is visible.
    fn scores(&self, row: &mut [f32], i: usize, j0: usize) -> (f32, bool) {
        if self.mask.is_none() && !(self.causal && j0 + row.len() > i + 1) {
            // Every key of the block is visible.
            row.iter_mut().for_each(|e| *e *= self.scale);
            return (row.iter().fold(f32::NEG_INFINITY, |m, &e| m.max(e)), true);
        }
        let (mut m, mut any) = (f32::NEG_INFINITY, false);
        for (jj, e) in row.iter_mut().enumerate() {
            let j = j0 + jj;
            let visible = self.mask.is_none_or(|mk| mk[j]) && !(self.causal && j > i);
            *e = if visible {
                *e * self.scale
            } else {
                f32::NEG_INFINITY
            };
            m = m.max(*e);
            any |= visible;
        }
        (m, any)
    }
}
