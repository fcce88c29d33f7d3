//! Throughput of the CPU backend's contraction kernels, run through `Backend::execute`
//! (so the figures include operand conversion and output allocation):
//! `cargo bench -p hyv-backend-cpu --bench matmul [-- FILTER]` (FILTER: run only the kernels
//! whose name contains it, e.g. `attention`).
//!
//! Prints GFLOP/s for an f32 2048³ matmul, the same in bf16 and f16 (and gemm's native f16
//! kernel for comparison), a VAE-like conv3d (`[1,64,9,64,64]` ⊛ `[64,64,3,3,3]`,
//! padding 1) and 8-head attentions (one at the `small` DiT's shape, 1344 tokens with a key
//! mask): each kernel's best time and its share of this
//! machine's f32 FMA peak, the highest that a probe of independent FMA chains reached in the
//! same process (probed before every timed run: a shared VM's speed drifts within seconds).
//! `HYV_CPU_GEMM=blocked|gemm-crate` picks the contraction engine.
//!
//! Figures, with the machine and date, are in `benches/RESULTS.md`.

use hyv_backend_cpu::CpuBackend;
use hyv_ir::{infer::infer, DType, HostTensor, Op, TensorData, F64};
use hyv_runtime::Backend;
use std::time::Instant;

/// A tensor of `dtype` with a cheap deterministic pattern in [-1, 1].
fn tensor(dtype: DType, shape: &[usize]) -> HostTensor {
    let n: usize = shape.iter().product();
    let v = (0..n).map(|i| ((i * 7919) % 2001) as f64 / 1000.0 - 1.0);
    HostTensor::new(shape.to_vec(), TensorData::from_f64(dtype, v)).unwrap()
}

/// The figures of one kernel: its best time over the runs, and its GFLOP/s at that time.
struct Row {
    name: String,
    best_secs: f64,
    gflops: f64,
}

/// Runs `op` `reps` times after one warm-up, each run after a short FMA-peak probe whose
/// result goes to `peaks`.
#[allow(clippy::too_many_arguments)]
fn bench(
    backend: &CpuBackend,
    name: &str,
    op: &Op,
    inputs: &[HostTensor],
    flops: f64,
    reps: usize,
    peaks: &mut Vec<f64>,
) -> Option<Row> {
    if !selected(name) {
        return None;
    }
    let dev: Vec<_> = inputs.iter().map(|t| backend.upload(t).unwrap()).collect();
    let refs: Vec<_> = dev.iter().collect();
    let tys: Vec<_> = inputs.iter().map(|t| t.ty()).collect();
    let out = infer(op, &tys).unwrap();
    backend.execute(op, &out, &refs, "bench").unwrap();
    let mut best_secs = f64::INFINITY;
    for _ in 0..reps {
        peaks.push(fma_peak::measure(backend.threads(), fma_peak::SHORT));
        let t = Instant::now();
        backend.execute(op, &out, &refs, "bench").unwrap();
        best_secs = best_secs.min(t.elapsed().as_secs_f64());
    }
    Some(Row {
        name: name.to_string(),
        best_secs,
        gflops: flops / best_secs / 1e9,
    })
}

/// Whether the kernel called `name` runs: the first command-line argument (cargo passes
/// `--bench` first, which is skipped) filters by substring.
fn selected(name: &str) -> bool {
    std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .is_none_or(|f| name.contains(&f))
}

fn main() {
    let backend = CpuBackend::new();
    println!(
        "threads: {}, AVX-512F: {}, AVX2+FMA: {}",
        backend.threads(),
        std::arch::is_x86_feature_detected!("avx512f"),
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma"),
    );
    let mut peaks = vec![fma_peak::measure(backend.threads(), fma_peak::LONG)];
    let mut rows = Vec::new();
    let n = 2048;
    let mm_flops = 2.0 * (n * n * n) as f64;
    for dtype in [DType::F32, DType::BF16, DType::F16] {
        let inputs = [tensor(dtype, &[n, n]), tensor(dtype, &[n, n])];
        let name = format!("matmul {n}³ {dtype}");
        rows.push(bench(
            &backend,
            &name,
            &Op::MatMul,
            &inputs,
            mm_flops,
            7,
            &mut peaks,
        ));
    }
    if selected("gemm native f16") {
        rows.push(Some(native_f16_gemm(n, mm_flops)));
    }

    let conv = Op::Conv {
        stride: vec![1; 3],
        padding: vec![(1, 1); 3],
        dilation: vec![1; 3],
        groups: 1,
    };
    let inputs = [
        tensor(DType::F32, &[1, 64, 9, 64, 64]),
        tensor(DType::F32, &[64, 64, 3, 3, 3]),
    ];
    let conv_flops = 2.0 * 64.0 * (9 * 64 * 64) as f64 * (64 * 27) as f64;
    let name = "conv3d [1,64,9,64,64] k3 -> 64 f32";
    rows.push(bench(
        &backend, name, &conv, &inputs, conv_flops, 5, &mut peaks,
    ));

    // The two long ones, and the `small` DiT's (1280 video + 64 text tokens, the text
    // padding hidden by the key mask).
    for (s, d, masked) in [(2048, 64, false), (2048, 128, false), (1344, 64, true)] {
        let (b, h) = (1, 8);
        let attn = Op::Attention {
            scale: F64(1.0 / (d as f64).sqrt()),
            causal: false,
            has_mask: masked,
        };
        let mut inputs: Vec<HostTensor> =
            (0..3).map(|_| tensor(DType::F32, &[b, h, s, d])).collect();
        if masked {
            let visible = (0..s).map(|j| j < s - 16).collect();
            inputs.push(HostTensor::new(vec![b, s], TensorData::Bool(visible)).unwrap());
        }
        let flops = 4.0 * (b * h * s * s * d) as f64;
        let mask = if masked { " masked" } else { "" };
        let name = format!("attention [{b},{h},{s},{d}]{mask} f32");
        rows.push(bench(&backend, &name, &attn, &inputs, flops, 5, &mut peaks));
    }
    peaks.push(fma_peak::measure(backend.threads(), fma_peak::LONG));

    // A shared VM's speed drifts within seconds, so each kernel's best run is compared
    // with the best the FMA probe reached in the same process: both are the machine at
    // its least disturbed.
    peaks.sort_by(f64::total_cmp);
    let top = peaks[peaks.len() - 1];
    println!(
        "FMA peak on {} threads over {} probes: max {top:.1}, median {:.1}, min {:.1} GFLOP/s",
        backend.threads(),
        peaks.len(),
        peaks[peaks.len() / 2],
        peaks[0]
    );
    for r in rows.into_iter().flatten() {
        println!(
            "{:<44} {:>9.2} ms {:>8.1} GFLOP/s {:>6.1}% of the max peak",
            r.name,
            r.best_secs * 1e3,
            r.gflops,
            100.0 * r.gflops / top
        );
    }
}

/// The machine's f32 FMA throughput, measured: every thread runs twelve independent
/// chains of fused multiply-adds (enough to cover the FMA latency on current x86 cores) on
/// the widest vectors the CPU has (AVX-512 or AVX2), for about half a second.
mod fma_peak {
    use std::time::Instant;

    /// Multiply-add steps per chain per thread of the long probe (about half a second).
    pub const LONG: usize = 50_000_000;
    /// The same for the short probe before each timed run (about 0.1 s).
    pub const SHORT: usize = 10_000_000;

    /// GFLOP/s of `threads` threads running the probe at once, `steps` steps each.
    pub fn measure(threads: usize, steps: usize) -> f64 {
        let start = Instant::now();
        let flops: f64 = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|_| s.spawn(move || probe(steps)))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        flops / start.elapsed().as_secs_f64() / 1e9
    }

    /// Runs the chains; returns the FLOPs done (0 on CPUs without FMA).
    fn probe(steps: usize) -> f64 {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                // SAFETY: AVX-512F is available, checked just above.
                std::hint::black_box(unsafe { x86::chains_avx512(steps) });
                return (steps * 12 * 32) as f64;
            }
            if std::arch::is_x86_feature_detected!("fma") {
                // SAFETY: AVX2/FMA are available, checked just above.
                std::hint::black_box(unsafe { x86::chains_avx2(steps) });
                return (steps * 12 * 16) as f64;
            }
        }
        let _ = steps;
        0.0
    }

    #[cfg(target_arch = "x86_64")]
    mod x86 {
        use std::arch::x86_64::*;

        #[target_feature(enable = "avx,fma")]
        pub unsafe fn chains_avx2(steps: usize) -> f32 {
            let (a, b) = (_mm256_set1_ps(0.999_999), _mm256_set1_ps(1e-7));
            let mut r = [_mm256_set1_ps(1.0); 12];
            for _ in 0..steps {
                for x in r.iter_mut() {
                    *x = _mm256_fmadd_ps(*x, a, b);
                }
            }
            let sum = r
                .iter()
                .fold(_mm256_setzero_ps(), |s, &x| _mm256_add_ps(s, x));
            _mm256_cvtss_f32(sum)
        }

        #[target_feature(enable = "avx512f")]
        pub unsafe fn chains_avx512(steps: usize) -> f32 {
            let (a, b) = (_mm512_set1_ps(0.999_999), _mm512_set1_ps(1e-7));
            let mut r = [_mm512_set1_ps(1.0); 12];
            for _ in 0..steps {
                for x in r.iter_mut() {
                    *x = _mm512_fmadd_ps(*x, a, b);
                }
            }
            _mm512_reduce_add_ps(
                r.iter()
                    .fold(_mm512_setzero_ps(), |s, &x| _mm512_add_ps(s, x)),
            )
        }
    }
}

/// gemm's own f16 kernel on the same product (f16 operands and destination), for
/// comparison with the backend's widen-to-f32 path.
fn native_f16_gemm(n: usize, flops: f64) -> Row {
    use half::f16;
    let a: Vec<f16> = (0..n * n)
        .map(|i| f16::from_f32((i % 17) as f32 / 17.0))
        .collect();
    let mut c = vec![f16::ZERO; n * n];
    let threads = rayon::current_num_threads();
    let best = (0..4)
        .map(|_| {
            let t = Instant::now();
            // SAFETY: all three matrices are n×n row-major buffers of n² elements; `c` is
            // distinct from `a`.
            unsafe {
                gemm::gemm(
                    n,
                    n,
                    n,
                    c.as_mut_ptr(),
                    1,
                    n as isize,
                    false,
                    a.as_ptr(),
                    1,
                    n as isize,
                    a.as_ptr(),
                    1,
                    n as isize,
                    f16::ZERO,
                    f16::ONE,
                    false,
                    false,
                    false,
                    gemm::Parallelism::Rayon(threads),
                )
            };
            t.elapsed().as_secs_f64()
        })
        .skip(1)
        .fold(f64::INFINITY, f64::min);
    Row {
        name: format!("gemm native f16 {n}³ (not used)"),
        best_secs: best,
        gflops: flops / best / 1e9,
    }
}
