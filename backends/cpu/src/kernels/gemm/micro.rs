//! The 6×16 micro-kernel: `C[6×16] (+)= Σₖ a[k]ᵀ·b[k]` over packed panels (see `pack`),
//! the innermost loop of every product. Twelve 8-wide accumulators stay in registers; per
//! step it loads two vectors of the B panel, broadcasts six values of the A panel and
//! issues twelve FMAs (the Haswell/Zen shape BLIS uses for sgemm on AVX2).

/// Rows of a micro-tile (the A panel width).
pub const MR: usize = 6;
/// Columns of a micro-tile (the B panel width).
pub const NR: usize = 16;

/// A micro-kernel implementation, picked once per process from the CPU's features.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    /// AVX2 + FMA intrinsics (x86-64).
    Avx2Fma,
    /// Plain Rust loops the compiler vectorises for the baseline target: correct everywhere,
    /// several times slower than [`Kernel::Avx2Fma`].
    Portable,
}

impl Kernel {
    /// The fastest kernel this CPU runs.
    pub fn detect() -> Kernel {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            return Kernel::Avx2Fma;
        }
        Kernel::Portable
    }

    /// Multiplies a packed A panel (`kc` steps of [`MR`] values) by a packed B panel (`kc`
    /// steps of [`NR`] values) into the `rows × cols` top-left corner of the tile at `c`
    /// (row stride `rs_c`, unit column stride), adding to it when `accumulate`.
    ///
    /// # Safety
    /// `a` and `b` must hold `kc·MR` and `kc·NR` values; `c` must be valid for reads and
    /// writes of `rows` rows of `cols` values at stride `rs_c`; `rows ≤ MR`, `cols ≤ NR`.
    #[allow(clippy::too_many_arguments)]
    pub unsafe fn tile(
        self,
        kc: usize,
        a: *const f32,
        b: *const f32,
        c: *mut f32,
        rs_c: usize,
        rows: usize,
        cols: usize,
        accumulate: bool,
    ) {
        if rows == MR && cols == NR {
            return self.full(kc, a, b, c, rs_c, accumulate);
        }
        // An edge tile: compute the whole tile aside, then copy its valid corner.
        let mut t = [0.0f32; MR * NR];
        self.full(kc, a, b, t.as_mut_ptr(), NR, false);
        for i in 0..rows {
            let dst = std::slice::from_raw_parts_mut(c.add(i * rs_c), cols);
            let src = &t[i * NR..i * NR + cols];
            if accumulate {
                dst.iter_mut().zip(src).for_each(|(d, s)| *d += s);
            } else {
                dst.copy_from_slice(src);
            }
        }
    }

    /// A full [`MR`]×[`NR`] tile; the contract of [`Kernel::tile`] with `rows = MR`,
    /// `cols = NR`.
    unsafe fn full(
        self,
        kc: usize,
        a: *const f32,
        b: *const f32,
        c: *mut f32,
        rs_c: usize,
        accumulate: bool,
    ) {
        match self {
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2Fma => avx2::full(kc, a, b, c, rs_c, accumulate),
            _ => portable(kc, a, b, c, rs_c, accumulate),
        }
    }
}

/// The portable kernel: the same tile in plain loops.
unsafe fn portable(
    kc: usize,
    a: *const f32,
    b: *const f32,
    c: *mut f32,
    rs_c: usize,
    accumulate: bool,
) {
    let mut acc = [[0.0f32; NR]; MR];
    let (a, b) = (
        std::slice::from_raw_parts(a, kc * MR),
        std::slice::from_raw_parts(b, kc * NR),
    );
    for (ap, bp) in a.chunks_exact(MR).zip(b.chunks_exact(NR)) {
        for (row, &ai) in acc.iter_mut().zip(ap) {
            for (o, &bj) in row.iter_mut().zip(bp) {
                *o += ai * bj;
            }
        }
    }
    for (i, row) in acc.iter().enumerate() {
        let dst = std::slice::from_raw_parts_mut(c.add(i * rs_c), NR);
        if accumulate {
            dst.iter_mut().zip(row).for_each(|(d, s)| *d += s);
        } else {
            dst.copy_from_slice(row);
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{MR, NR};
    use std::arch::x86_64::*;

    /// The AVX2 + FMA full tile. The destination rows are prefetched first so their cache
    /// misses overlap the `kc` loop.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn full(
        kc: usize,
        a: *const f32,
        b: *const f32,
        c: *mut f32,
        rs_c: usize,
        accumulate: bool,
    ) {
        for i in 0..MR {
            let row = c.add(i * rs_c) as *const i8;
            _mm_prefetch::<_MM_HINT_T0>(row);
            _mm_prefetch::<_MM_HINT_T0>(row.add(4 * NR - 4));
        }
        let mut acc = [[_mm256_setzero_ps(); 2]; MR];
        let (mut a, mut b) = (a, b);
        for _ in 0..kc {
            let b0 = _mm256_loadu_ps(b);
            let b1 = _mm256_loadu_ps(b.add(8));
            for (i, row) in acc.iter_mut().enumerate() {
                let ai = _mm256_broadcast_ss(&*a.add(i));
                row[0] = _mm256_fmadd_ps(ai, b0, row[0]);
                row[1] = _mm256_fmadd_ps(ai, b1, row[1]);
            }
            a = a.add(MR);
            b = b.add(NR);
        }
        for (i, row) in acc.iter().enumerate() {
            let ci = c.add(i * rs_c);
            let (mut lo, mut hi) = (row[0], row[1]);
            if accumulate {
                lo = _mm256_add_ps(_mm256_loadu_ps(ci), lo);
                hi = _mm256_add_ps(_mm256_loadu_ps(ci.add(8)), hi);
            }
            _mm256_storeu_ps(ci, lo);
            _mm256_storeu_ps(ci.add(8), hi);
        }
    }
}
