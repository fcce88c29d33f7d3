//! Activation buffer reuse within one run of a compiled graph.
//!
//! A run of [`crate::CpuExecutable`] installs a pool on the thread that runs its steps
//! ([`scoped`]). Each value the run no longer needs, if nothing else holds it (a reshape
//! may share it, a parameter or an input is held by the caller), goes back to the pool
//! ([`release`]); the kernels take their f32 outputs from it ([`buffer`], [`zeros`]), so a
//! forward's many same-sized activations (every block has the same shapes) live in a few
//! buffers that stay mapped and cached instead of fresh allocations, whose pages the OS
//! faults in and zeroes one at a time (on the `small` DiT: 33.5k → 16.6k page faults per
//! forward, `benches/RESULTS.md`).
//!
//! The pool lives for one run: what it holds at the end is freed, so nothing accumulates
//! across runs and a run's memory is bounded by the executable's planned peak plus the
//! pooled buffers not yet reused. Without a pool (eager mode, other threads) the functions
//! fall back to plain allocation.

use std::any::{Any, TypeId};
use std::cell::RefCell;
use std::collections::HashMap;

/// Free f32 buffers by length.
#[derive(Debug, Default)]
struct Pool {
    free: HashMap<usize, Vec<Vec<f32>>>,
}

thread_local! {
    static POOL: RefCell<Option<Pool>> = const { RefCell::new(None) };
}

/// Runs `f` with an empty pool installed on this thread (the previous one, if any, is
/// restored afterwards) and frees what the pool holds at the end.
pub fn scoped<R>(f: impl FnOnce() -> R) -> R {
    let outer = POOL.with(|p| p.replace(Some(Pool::default())));
    let r = f();
    POOL.with(|p| p.replace(outer));
    r
}

/// Gives `v` to this thread's pool, or drops it where there is none.
pub fn release(v: Vec<f32>) {
    POOL.with(|p| {
        if let Some(pool) = p.borrow_mut().as_mut() {
            pool.free.entry(v.len()).or_default().push(v);
        }
    });
}

/// A buffer of `n` values whose contents are unspecified (a pooled buffer keeps what it
/// held; a fresh one is zero): for kernels that write every element.
pub fn buffer(n: usize) -> Vec<f32> {
    let pooled = POOL.with(|p| {
        p.borrow_mut()
            .as_mut()
            .and_then(|pool| pool.free.get_mut(&n)?.pop())
    });
    pooled.unwrap_or_else(|| vec![0.0; n])
}

/// [`buffer`] for any element type: pooled for f32, `n` copies of `fill` otherwise (the
/// contents are unspecified either way: for kernels that write every element).
pub fn buffer_of<T: Copy + 'static>(n: usize, fill: T) -> Vec<T> {
    if TypeId::of::<T>() == TypeId::of::<f32>() {
        let pooled: Box<dyn Any> = Box::new(buffer(n));
        if let Ok(v) = pooled.downcast::<Vec<T>>() {
            return *v;
        }
    }
    vec![fill; n]
}

/// A buffer of `n` zeros.
pub fn zeros(n: usize) -> Vec<f32> {
    let mut v = buffer(n);
    v.fill(0.0);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn released_buffers_are_reused_by_length_within_the_scope_only() {
        scoped(|| {
            let a = vec![7.0f32; 10];
            let ptr = a.as_ptr();
            release(a);
            // Another length does not take it; the same length does, contents kept.
            let other = buffer(11);
            assert_ne!(other.as_ptr(), ptr);
            let b = buffer(10);
            assert_eq!((b.as_ptr(), b[3]), (ptr, 7.0));
            release(b);
            let z = zeros(10);
            assert_eq!((z.as_ptr(), z.iter().sum::<f32>()), (ptr, 0.0));
            release(z);
            let w = buffer_of(10, 1.0f32);
            assert_eq!(w.as_ptr(), ptr);
            release(w);
            assert_eq!(buffer_of(3, 5i32), [5, 5, 5]);
            // A nested scope has its own pool and gives the outer one back.
            scoped(|| {
                let inner = buffer(10);
                assert_ne!(inner.as_ptr(), ptr);
            });
            let again = buffer(10);
            assert_eq!(again.as_ptr(), ptr);
        });
        // Outside any scope nothing is pooled.
        let a = vec![1.0f32; 10];
        release(a);
        assert_eq!(buffer(10), vec![0.0; 10]);
    }
}
