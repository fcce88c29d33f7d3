//! Packed operands: the layouts the micro-kernel streams through.
//!
//! A packed A holds panels of [`MR`] rows; panel `p` stores, for every `k`, the `MR` values
//! `A[p·MR + i, k]` side by side. A packed B holds panels of [`NR`] columns; panel `q`
//! stores, for every `k`, the values `B[k, q·NR + j]`. Rows or columns past the matrix are
//! zero. Any `k` sub-range of a panel is contiguous, so one packing serves products over
//! parts of the inner dimension.

use super::micro::{MR, NR};
use super::transpose::interleave;
use super::MatRef;

/// An `m × k` left operand in [`MR`]-row panels.
#[derive(Debug, Default)]
pub struct PackedA {
    m: usize,
    k: usize,
    data: Vec<f32>,
}

impl PackedA {
    /// Rows of the packed matrix.
    pub fn rows(&self) -> usize {
        self.m
    }

    /// Repacks this buffer with rows `i0..i0 + m` and columns `p0..p0 + k` of `a`.
    pub fn pack(&mut self, a: MatRef, i0: usize, m: usize, p0: usize, k: usize) {
        let panels = m.div_ceil(MR);
        self.m = m;
        self.k = k;
        reuse(&mut self.data, panels * MR * k);
        if k == 0 {
            return;
        }
        for (p, panel) in self.data.chunks_exact_mut(MR * k).enumerate() {
            let rows = (m - p * MR).min(MR);
            let first = (i0 + p * MR) * a.rs + p0 * a.cs;
            pack_panel::<MR>(a.data, first, a.rs, a.cs, rows, k, panel);
        }
    }

    /// Panel `p`, from inner index `k0` on.
    pub(super) fn panel(&self, p: usize, k0: usize) -> &[f32] {
        &self.data[(p * self.k + k0) * MR..(p + 1) * self.k * MR]
    }
}

/// A `k × n` right operand in [`NR`]-column panels.
#[derive(Debug, Default)]
pub struct PackedB {
    k: usize,
    n: usize,
    data: Vec<f32>,
}

impl PackedB {
    /// Columns of the packed matrix.
    pub fn cols(&self) -> usize {
        self.n
    }

    /// Repacks this buffer with rows `p0..p0 + k` and columns `j0..j0 + n` of `b`; with
    /// `parallel`, panels are packed on the current rayon pool.
    pub fn pack(&mut self, b: MatRef, p0: usize, k: usize, j0: usize, n: usize, parallel: bool) {
        use rayon::prelude::*;
        let panels = n.div_ceil(NR);
        self.k = k;
        self.n = n;
        reuse(&mut self.data, panels * NR * k);
        let one = |(q, panel): (usize, &mut [f32])| {
            let cols = (n - q * NR).min(NR);
            let first = p0 * b.rs + (j0 + q * NR) * b.cs;
            pack_panel::<NR>(b.data, first, b.cs, b.rs, cols, k, panel);
        };
        if k == 0 {
            return;
        }
        if parallel {
            self.data
                .par_chunks_exact_mut(NR * k)
                .enumerate()
                .for_each(one);
        } else {
            self.data.chunks_exact_mut(NR * k).enumerate().for_each(one);
        }
    }

    /// Panel `q`, from inner index `k0` on.
    pub(super) fn panel(&self, q: usize, k0: usize) -> &[f32] {
        &self.data[(q * self.k + k0) * NR..(q + 1) * self.k * NR]
    }

    /// Multiplies every packed value by `s`.
    pub fn scale(&mut self, s: f32) {
        self.data.iter_mut().for_each(|v| *v *= s);
    }
}

/// Packs one panel of width `W` (`k` steps of `W` values): lane `l < lanes` of step `kk`
/// is `data[first + l·lane + kk·step]`, lanes past `lanes` are zero. A's panels have rows
/// as lanes, B's columns.
fn pack_panel<const W: usize>(
    data: &[f32],
    first: usize,
    lane: usize,
    step: usize,
    lanes: usize,
    k: usize,
    panel: &mut [f32],
) {
    if lanes < W {
        // The last panel's lanes past the matrix are zero.
        panel.chunks_exact_mut(W).for_each(|d| d[lanes..].fill(0.0));
    }
    if step == 1 {
        // Each lane's values are one contiguous run (A row-major, B column-major).
        let src: [&[f32]; W] = std::array::from_fn(|l| {
            if l < lanes {
                &data[first + l * lane..][..k]
            } else {
                &[]
            }
        });
        interleave(&src[..lanes], k, panel, W);
    } else if lane == 1 {
        // Each step's values are contiguous (A column-major, B row-major).
        for (kk, dst) in panel.chunks_exact_mut(W).enumerate() {
            let src = &data[first + kk * step..];
            if lanes == W {
                // A fixed-size copy, inlined (not a `memcpy` call per step).
                dst.copy_from_slice(&src[..W]);
            } else {
                dst[..lanes].copy_from_slice(&src[..lanes]);
            }
        }
    } else {
        for (kk, dst) in panel.chunks_exact_mut(W).enumerate() {
            let first = first + kk * step;
            for (l, d) in dst[..lanes].iter_mut().enumerate() {
                *d = data[first + l * lane];
            }
        }
    }
}

/// Sizes a packing buffer to `len` values without clearing what it held: every packing
/// writes all of its values (padding included), so only growth needs initialising.
fn reuse(data: &mut Vec<f32>, len: usize) {
    data.truncate(len);
    data.resize(len, 0.0);
}
