//! f32 matrix products: `sgemm` for every contraction of the backend, and products over
//! packed operands for kernels that reuse a packing (attention).
//!
//! Two engines, chosen once per process ([`Engine::get`]):
//!
//! * **blocked** (module `driver`): a BLIS-style loop nest written here — B packed in
//!   `KC × NC` blocks shared by all threads, A packed per `MC`-row block, a 6×16 AVX2/FMA
//!   micro-kernel (`micro`). On the 2-core Zen 3 development VM (AVX2, no AVX-512) it
//!   reached ~88 % of the measured per-core FMA peak on an f32 2048³ product where the
//!   `gemm` crate's AVX2 kernels reached ~79 % (same run, one thread, CPU time).
//! * **gemm crate** (`gemm` 0.19 with feature `x86-v4`): its AVX-512 kernels reach ~98 % of
//!   peak on AVX-512 CPUs (`dependencies.md` §2), so it stays the engine there, and on CPUs
//!   without AVX2 + FMA.
//!
//! `HYV_CPU_GEMM=blocked` or `HYV_CPU_GEMM=gemm-crate` overrides the choice (for A/B
//! measurements).

mod driver;
mod micro;
mod pack;
mod transpose;

pub use micro::{Kernel, MR, NR};
pub use pack::{PackedA, PackedB};

use gemm::Parallelism;
use std::ops::Range;
use std::sync::OnceLock;

/// A strided f32 matrix: element `(i, j)` is `data[i·rs + j·cs]`.
#[derive(Debug, Clone, Copy)]
pub struct MatRef<'a> {
    /// The elements.
    pub data: &'a [f32],
    /// Row stride.
    pub rs: usize,
    /// Column stride.
    pub cs: usize,
}

impl<'a> MatRef<'a> {
    /// A row-major matrix with `cols` columns.
    pub fn rows(data: &'a [f32], cols: usize) -> Self {
        MatRef {
            data,
            rs: cols,
            cs: 1,
        }
    }

    /// The transpose of a row-major matrix with `cols` columns.
    pub fn transposed(data: &'a [f32], cols: usize) -> Self {
        MatRef {
            data,
            rs: 1,
            cs: cols,
        }
    }

    fn check(&self, rows: usize, cols: usize, what: &str) {
        let last = (rows - 1) * self.rs + (cols - 1) * self.cs;
        assert!(
            last < self.data.len(),
            "{what} view {rows}×{cols} (strides {}, {}) exceeds {} elements",
            self.rs,
            self.cs,
            self.data.len()
        );
    }
}

/// The implementation behind [`sgemm`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// The blocked loop nest of this module with the given micro-kernel.
    Blocked(Kernel),
    /// The `gemm` crate.
    GemmCrate,
}

impl Engine {
    /// The process-wide engine: `HYV_CPU_GEMM` when set, else the gemm crate on AVX-512
    /// CPUs and on CPUs without AVX2 + FMA, the blocked engine otherwise.
    pub fn get() -> Engine {
        static ENGINE: OnceLock<Engine> = OnceLock::new();
        *ENGINE.get_or_init(|| match std::env::var("HYV_CPU_GEMM").as_deref() {
            Ok("blocked") => Engine::Blocked(Kernel::detect()),
            Ok("gemm-crate") => Engine::GemmCrate,
            _ => Engine::default_for_cpu(),
        })
    }

    fn default_for_cpu() -> Engine {
        #[cfg(target_arch = "x86_64")]
        if !std::arch::is_x86_feature_detected!("avx512f") && Kernel::detect() == Kernel::Avx2Fma {
            return Engine::Blocked(Kernel::Avx2Fma);
        }
        Engine::GemmCrate
    }
}

/// `dst (+)= lhs · rhs` for an `m×n` destination with row stride `dst_rs` and unit column
/// stride; `accumulate` adds to `dst` instead of overwriting it. `parallel` splits the
/// product over the current rayon pool.
#[allow(clippy::too_many_arguments)]
pub fn sgemm(
    m: usize,
    n: usize,
    k: usize,
    dst: &mut [f32],
    dst_rs: usize,
    lhs: MatRef,
    rhs: MatRef,
    accumulate: bool,
    parallel: bool,
) {
    sgemm_with(
        Engine::get(),
        m,
        n,
        k,
        dst,
        dst_rs,
        lhs,
        rhs,
        accumulate,
        parallel,
    );
}

/// [`sgemm`] on a given engine.
#[allow(clippy::too_many_arguments)]
pub fn sgemm_with(
    engine: Engine,
    m: usize,
    n: usize,
    k: usize,
    dst: &mut [f32],
    dst_rs: usize,
    lhs: MatRef,
    rhs: MatRef,
    accumulate: bool,
    parallel: bool,
) {
    if m == 0 || n == 0 {
        return;
    }
    assert!((m - 1) * dst_rs + n <= dst.len(), "destination too small");
    if k == 0 {
        if !accumulate {
            for row in dst.chunks_mut(dst_rs).take(m) {
                row[..n].fill(0.0);
            }
        }
        return;
    }
    lhs.check(m, k, "lhs");
    rhs.check(k, n, "rhs");
    match engine {
        Engine::Blocked(kernel) => {
            let dims = driver::Dims { m, n, k, dst_rs };
            // SAFETY: the views and the destination were bounds-checked above, and `dst`
            // is borrowed mutably, so no operand aliases it.
            unsafe {
                driver::run(
                    kernel,
                    dims,
                    dst.as_mut_ptr(),
                    lhs,
                    rhs,
                    accumulate,
                    parallel,
                )
            }
        }
        Engine::GemmCrate => gemm_crate(m, n, k, dst, dst_rs, lhs, rhs, accumulate, parallel),
    }
}

/// The `gemm` crate's product; the contract of [`sgemm`], arguments checked by the caller.
#[allow(clippy::too_many_arguments)]
fn gemm_crate(
    m: usize,
    n: usize,
    k: usize,
    dst: &mut [f32],
    dst_rs: usize,
    lhs: MatRef,
    rhs: MatRef,
    accumulate: bool,
    parallel: bool,
) {
    let threads = rayon::current_num_threads();
    let parallelism = if parallel && threads > 1 {
        Parallelism::Rayon(threads)
    } else {
        Parallelism::None
    };
    // SAFETY: the caller bounds-checked the three views for the given extents and
    // strides; `dst` is borrowed mutably, so it aliases neither operand.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            dst_rs as isize,
            accumulate,
            lhs.data.as_ptr(),
            lhs.cs as isize,
            lhs.rs as isize,
            rhs.data.as_ptr(),
            rhs.cs as isize,
            rhs.rs as isize,
            1.0f32,
            1.0f32,
            false,
            false,
            false,
            parallelism,
        );
    }
}

/// `dst (+)= A[rows, ka..ka+kc] · B[kb..kb+kc, c0..c0+cols]` on the current thread, where
/// `dst` is `rows.len() × cols` with row stride `dst_rs`, `rows.start` is a multiple of
/// [`MR`] and `c0` a multiple of [`NR`].
#[allow(clippy::too_many_arguments)]
pub fn gemm_packed(
    kernel: Kernel,
    a: &PackedA,
    rows: Range<usize>,
    ka: usize,
    b: &PackedB,
    kb: usize,
    kc: usize,
    c0: usize,
    cols: usize,
    dst: &mut [f32],
    dst_rs: usize,
    accumulate: bool,
) {
    if rows.is_empty() || cols == 0 {
        return;
    }
    assert!(
        rows.start.is_multiple_of(MR) && rows.end <= a.rows(),
        "rows out of range"
    );
    assert!(
        c0.is_multiple_of(NR) && c0 + cols <= b.cols(),
        "columns out of range"
    );
    assert!(
        (rows.len() - 1) * dst_rs + cols <= dst.len(),
        "destination too small"
    );
    // SAFETY: the destination was bounds-checked just above; the panels' own slices
    // bound-check the inner ranges.
    unsafe {
        driver::packed_block(
            kernel,
            a,
            rows,
            ka,
            b,
            kb,
            kc,
            c0,
            cols,
            dst.as_mut_ptr(),
            dst_rs,
            accumulate,
        )
    }
}

#[cfg(test)]
mod tests;
