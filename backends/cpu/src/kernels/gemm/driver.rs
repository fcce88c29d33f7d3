//! The blocked engine's loop nest (BLIS order): for each `NC`-column block and `KC`-deep
//! slice of the inner dimension, B is packed once (shared by all threads); the rows are cut
//! into blocks of at most `MC` (balanced over the threads), each packing its own A; inside
//! a block, each B panel stays in L1 while the A panels stream past it from L2.

use super::micro::{Kernel, MR, NR};
use super::pack::{PackedA, PackedB};
use super::MatRef;
use rayon::prelude::*;
use std::cell::RefCell;
use std::ops::Range;
use std::thread::LocalKey;

/// Depth of a packed slice: a B panel (`KC × NR`) and an A panel (`KC × MR`) fit in L1
/// together. Tuned with [`MC`] on the Zen 3 VM (one thread, f32 2048³): KC 256 → 384 took
/// 81 → 87–89 % of peak (fewer passes over the destination); 320–448 were within noise.
const KC: usize = 384;
/// Rows of a packed A block (it stays in L2 while every B panel of the slice passes);
/// 48–96 measured alike, 240 ~5 % slower.
const MC: usize = 72;
/// Columns of a packed B block (`KC × NC` floats, 4.7 MB, stays in L3).
const NC: usize = 3072;

thread_local! {
    static A_BUF: RefCell<PackedA> = RefCell::default();
    static B_BUF: RefCell<PackedB> = RefCell::default();
}

/// Runs `f` on this thread's buffer, or on a fresh one if a caller further up this
/// thread's stack holds it (rayon may run another product while one waits).
fn with_buf<T: Default + 'static, R>(
    key: &'static LocalKey<RefCell<T>>,
    f: impl FnOnce(&mut T) -> R,
) -> R {
    key.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => f(&mut buf),
        Err(_) => f(&mut T::default()),
    })
}

/// Extents of a product.
#[derive(Debug, Clone, Copy)]
pub struct Dims {
    /// Rows of the destination.
    pub m: usize,
    /// Columns of the destination.
    pub n: usize,
    /// The inner dimension (at least 1).
    pub k: usize,
    /// Row stride of the destination.
    pub dst_rs: usize,
}

/// A destination pointer that may cross threads: every task writes disjoint tiles.
#[derive(Clone, Copy)]
struct Dst(*mut f32);
// SAFETY: tasks write disjoint (row block, column range) tiles of the destination.
unsafe impl Send for Dst {}
// SAFETY: as above.
unsafe impl Sync for Dst {}

impl Dst {
    /// The address `offset` values in.
    ///
    /// # Safety
    /// `offset` must stay inside the destination.
    unsafe fn at(self, offset: usize) -> *mut f32 {
        self.0.add(offset)
    }
}

/// `dst (+)= lhs · rhs` on the blocked engine.
///
/// # Safety
/// `dst` must be valid for `m` rows of `n` values at stride `dst_rs` and not alias the
/// operands; the operand views must be in bounds for `m×k` and `k×n`; `k ≥ 1`.
pub unsafe fn run(
    kernel: Kernel,
    d: Dims,
    dst: *mut f32,
    lhs: MatRef,
    rhs: MatRef,
    accumulate: bool,
    parallel: bool,
) {
    let threads = if parallel {
        rayon::current_num_threads()
    } else {
        1
    };
    let dst = Dst(dst);
    // Equal slices of the inner dimension, at most KC deep.
    let kc = d.k.div_ceil(d.k.div_ceil(KC));
    // Row blocks of about MC rows, as many as a multiple of the thread count where there
    // are enough panels, each a run of whole MR-row panels: block `b` has panels
    // `b·P/blocks ..`, so the threads get equal shares (1344 rows: 224 panels in 20
    // blocks of 11 or 12, where equal 72-row blocks made 19 and one thread did 10).
    let panels_m = d.m.div_ceil(MR);
    let blocks =
        d.m.div_ceil(MC)
            .div_ceil(threads)
            .saturating_mul(threads)
            .min(panels_m);
    let block_rows = |b: usize| {
        let (p0, p1) = (b * panels_m / blocks, (b + 1) * panels_m / blocks);
        (p0 * MR, (p1 * MR).min(d.m) - p0 * MR)
    };
    with_buf(&B_BUF, |bp| {
        for jc in (0..d.n).step_by(NC) {
            let nc = (d.n - jc).min(NC);
            let panels = nc.div_ceil(NR);
            // Too few row blocks for the threads: also split the columns.
            let splits = if blocks >= threads {
                1
            } else {
                threads.div_ceil(blocks).min(panels)
            };
            for pc in (0..d.k).step_by(kc) {
                let kcb = (d.k - pc).min(kc);
                bp.pack(rhs, pc, kcb, jc, nc, parallel);
                let acc = accumulate || pc > 0;
                let bp = &*bp;
                let task = |t: usize| {
                    let (blk, s) = (t / splits, t % splits);
                    let (i0, rows) = block_rows(blk);
                    let (q0, q1) = (s * panels / splits, (s + 1) * panels / splits);
                    let (c0, cols) = (q0 * NR, (q1 * NR).min(nc) - q0 * NR);
                    with_buf(&A_BUF, |ap| {
                        ap.pack(lhs, i0, rows, pc, kcb);
                        // SAFETY: this task's tile lies inside the destination (rows
                        // `i0..i0 + rows`, columns `jc + c0..` of `cols`), and no other task
                        // writes it.
                        unsafe {
                            let out = dst.at(i0 * d.dst_rs + jc + c0);
                            packed_block(
                                kernel,
                                ap,
                                0..rows,
                                0,
                                bp,
                                0,
                                kcb,
                                c0,
                                cols,
                                out,
                                d.dst_rs,
                                acc,
                            )
                        }
                    });
                };
                if threads > 1 {
                    (0..blocks * splits).into_par_iter().for_each(task);
                } else {
                    (0..blocks * splits).for_each(task);
                }
            }
        }
    });
}

/// `dst (+)= A[rows, ka..ka+kc] · B[kb..kb+kc, c0..c0+cols]`, `rows.start` a multiple of
/// [`MR`] and `c0` of [`NR`]: every B panel of the range against every A panel of the rows.
///
/// # Safety
/// `dst` must be valid for `rows.len()` rows of `cols` values at stride `dst_rs`.
#[allow(clippy::too_many_arguments)]
pub unsafe fn packed_block(
    kernel: Kernel,
    a: &PackedA,
    rows: Range<usize>,
    ka: usize,
    b: &PackedB,
    kb: usize,
    kc: usize,
    c0: usize,
    cols: usize,
    dst: *mut f32,
    dst_rs: usize,
    accumulate: bool,
) {
    let (m, p0) = (rows.len(), rows.start / MR);
    for q in 0..cols.div_ceil(NR) {
        let bpanel = &b.panel(c0 / NR + q, kb)[..kc * NR];
        let qcols = (cols - q * NR).min(NR);
        for p in 0..m.div_ceil(MR) {
            let apanel = &a.panel(p0 + p, ka)[..kc * MR];
            let prows = (m - p * MR).min(MR);
            kernel.tile(
                kc,
                apanel.as_ptr(),
                bpanel.as_ptr(),
                dst.add(p * MR * dst_rs + q * NR),
                dst_rs,
                prows,
                qcols,
                accumulate,
            );
        }
    }
}
