//! Scaled dot-product attention with an online softmax over key tiles: the `Sq × Sk` score
//! matrix is never materialised, only a `TILE_K × TILE_Q` block per task. Tasks are
//! (batch·head, query tile) pairs run in parallel with rayon.
//!
//! Blocks are computed transposed, `Sᵀ = K·Qᵀ` (keys × queries), on the micro-kernel of
//! `super::gemm`: each head's keys and values are packed once and shared by its query
//! tiles, a task packs its `Qᵀ` once, and the softmax then runs down the columns of `Sᵀ`
//! with every query in its own vector lane. `Sᵀ` read as a column-major `P` is already in
//! the micro-kernel's A layout up to a contiguous copy, so `P·V` needs no transposition.
//!
//! Conventions of the IR op (matched exactly): masked-out keys and, with `causal`, keys
//! `j > i` get zero weight; a query row with no visible key yields zeros.

use super::fmath::{exp_nonpos, exp_sub_columns};
use super::gemm::{gemm_packed, Kernel, MatRef, PackedA, PackedB, MR};
use crate::tensor::{load_f32, store_f32, typed, Arg};
use hyv_ir::{Op, TensorData};
use rayon::prelude::*;

/// Query rows per task. With [`TILE_K`], chosen by A/B on `[1,8,2048,64|128]`, one thread,
/// busy 2-core machine (first, untransposed version): 64×128 gave 44–45 / 57 GFLOP/s;
/// 128×128, 128×256 and 256×128 were within noise of it (±5 %), 32-row tiles 10–20 %
/// slower. 64 rows keep more tasks for the threads on short sequences.
const TILE_Q: usize = 64;
/// Keys per block: a multiple of the micro-kernel's A panel height, as blocks start on
/// panel boundaries of the packed keys.
const TILE_K: usize = 120;
const _: () = assert!(TILE_K.is_multiple_of(MR));

/// One (batch·head, query tile) task's inputs.
struct Task<'a> {
    /// Query rows `[rows, d]`.
    q: &'a [f32],
    /// All keys of the head, packed as the `[sk, d]` left operand.
    k: &'a PackedA,
    /// All values of the head, packed as the `[sk, dv]` right operand.
    v: &'a PackedB,
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
    let mut out = crate::pool::zeros(qv.len() / d * dv);
    out.par_chunks_mut(sq * dv)
        .enumerate()
        .for_each(|(bh, head_out)| {
            let mut kp = PackedA::default();
            kp.pack(MatRef::rows(&kv[bh * sk * d..], d), 0, sk, 0, d);
            let mut vp = PackedB::default();
            vp.pack(MatRef::rows(&vv[bh * sk * dv..], dv), 0, sk, 0, dv, false);
            head_out
                .par_chunks_mut(TILE_Q * dv)
                .enumerate()
                .for_each(|(t, tile_out)| {
                    let (i0, rows) = (t * TILE_Q, tile_out.len() / dv);
                    let task = Task {
                        q: &qv[(bh * sq + i0) * d..(bh * sq + i0 + rows) * d],
                        k: &kp,
                        v: &vp,
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

/// Per-query running state of the online softmax.
struct Running {
    /// Largest visible score so far (−∞ before the first finite one).
    max: Vec<f32>,
    /// Sum of the weights so far, relative to `max`.
    denom: Vec<f32>,
}

impl Task<'_> {
    /// Computes the task's output rows into `out` (`[rows, dv]`, zero on entry).
    fn run(&self, out: &mut [f32]) {
        let (d, dv) = (self.d, self.dv);
        let rows = self.q.len() / d;
        let sk = self.k.rows();
        // With causal masking no row of this tile sees keys past its last row.
        let kend = if self.causal {
            sk.min(self.i0 + rows)
        } else {
            sk
        };
        let kernel = Kernel::detect();
        let mut qt = PackedB::default();
        qt.pack(MatRef::transposed(self.q, d), 0, d, 0, rows, false);
        // Scores come out scaled: (s·q)·k instead of s·(q·k), one multiply per query value
        // instead of one per score.
        qt.scale(self.scale);
        let mut st = vec![0.0f32; TILE_K * rows];
        let mut block_max = vec![0.0f32; rows];
        let mut p = PackedA::default();
        let mut state = Running {
            max: vec![f32::NEG_INFINITY; rows],
            denom: vec![0.0; rows],
        };
        let mut shift = vec![0.0f32; rows];
        let mut sums = vec![0.0f32; rows];
        for j0 in (0..kend).step_by(TILE_K) {
            let tk = TILE_K.min(kend - j0);
            let st = &mut st[..tk * rows];
            gemm_packed(
                kernel,
                self.k,
                j0..j0 + tk,
                0,
                &qt,
                0,
                d,
                0,
                rows,
                st,
                rows,
                false,
            );
            let visible_from = self.scores(st, &mut block_max, j0);
            for r in 0..rows {
                let m_new = block_max[r].max(state.max[r]);
                if m_new == f32::NEG_INFINITY {
                    // No finite visible score yet: nothing to add (weights exp(s − ∞) = 0),
                    // unless visible scores were all −∞ or NaN, whose weights are NaN (as
                    // in the reference).
                    if r >= visible_from {
                        state.denom[r] = f32::NAN;
                    }
                    shift[r] = f32::INFINITY;
                    continue;
                }
                let corr = exp_nonpos(state.max[r] - m_new);
                state.max[r] = m_new;
                shift[r] = m_new;
                state.denom[r] *= corr;
                if corr != 1.0 {
                    out[r * dv..(r + 1) * dv]
                        .iter_mut()
                        .for_each(|o| *o *= corr);
                }
            }
            exp_sub_columns(st, &shift, &mut sums);
            for (l, s) in state.denom.iter_mut().zip(&sums) {
                *l += s;
            }
            // Pᵀ is `st`; P is its column-major view.
            p.pack(MatRef::transposed(st, rows), 0, rows, 0, tk);
            gemm_packed(kernel, &p, 0..rows, 0, self.v, j0, tk, 0, dv, out, dv, true);
        }
        for (row, &l) in out.chunks_mut(dv).zip(&state.denom) {
            if l == 0.0 {
                // No visible key: zeros (even where a value is not finite).
                row.fill(0.0);
            } else {
                row.iter_mut().for_each(|o| *o /= l);
            }
        }
    }

    /// Hides the invisible keys of the (already scaled) scores `st` (keys `j0..` × this
    /// task's queries) as −∞ and writes each query's maximum (NaN ignored) to `max`.
    /// Returns the first query row that sees a key of the block (all rows from it on do,
    /// since with causal masking a later query sees every key an earlier one sees).
    fn scores(&self, st: &mut [f32], max: &mut [f32], j0: usize) -> usize {
        let rows = max.len();
        max.fill(f32::NEG_INFINITY);
        let mut visible_from = rows;
        for (jj, keyrow) in st.chunks_exact_mut(rows).enumerate() {
            let j = j0 + jj;
            if self.mask.is_some_and(|mk| !mk[j]) {
                keyrow.fill(f32::NEG_INFINITY);
                continue;
            }
            // With causal masking, queries `i ≥ j` see key `j`: rows from `first` on.
            let first = if self.causal {
                j.saturating_sub(self.i0).min(rows)
            } else {
                0
            };
            visible_from = visible_from.min(first);
            keyrow[..first].fill(f32::NEG_INFINITY);
            // A select rather than `f32::max` (whose NaN rule does not vectorise) or a
            // conditional store (which stays a branch): NaN scores are ignored alike.
            for (&e, m) in keyrow[first..].iter().zip(&mut max[first..]) {
                *m = if e > *m { e } else { *m };
            }
        }
        visible_from
    }
}
