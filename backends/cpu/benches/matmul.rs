//! Throughput of the CPU backend's contraction kernels, run through `Backend::execute`
//! (so the figures include operand conversion and output allocation):
//! `cargo bench -p hyv-backend-cpu --bench matmul`.
//!
//! Prints GFLOP/s for an f32 2048³ matmul, the same in bf16 and f16 (and gemm's native f16
//! kernel for comparison), a VAE-like conv3d (`[1,64,9,64,64]` ⊛ `[64,64,3,3,3]`,
//! padding 1) and 8-head attentions, each with its ratio to this machine's f32 FMA peak,
//! measured in the same run (before and after) by a probe of independent FMA chains.
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

/// Runs `op` `reps` times after one warm-up and prints the best time as GFLOP/s.
fn bench(
    backend: &CpuBackend,
    name: &str,
    op: &Op,
    inputs: &[HostTensor],
    flops: f64,
    reps: usize,
    peak: f64,
) {
    let dev: Vec<_> = inputs.iter().map(|t| backend.upload(t).unwrap()).collect();
    let refs: Vec<_> = dev.iter().collect();
    let tys: Vec<_> = inputs.iter().map(|t| t.ty()).collect();
    let out = infer(op, &tys).unwrap();
    backend.execute(op, &out, &refs, "bench").unwrap();
    let best = (0..reps)
        .map(|_| {
            let t = Instant::now();
            backend.execute(op, &out, &refs, "bench").unwrap();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min);
    let gflops = flops / best / 1e9;
    println!(
        "{name:<44} {:>9.2} ms {gflops:>8.1} GFLOP/s {:>6.1}% of the measured peak",
        best * 1e3,
        100.0 * gflops / peak
    );
}

fn main() {
    let backend = CpuBackend::new();
    println!(
        "threads: {}, AVX-512F: {}, AVX2+FMA: {}",
        backend.threads(),
        std::arch::is_x86_feature_detected!("avx512f"),
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma"),
    );
    let peak = fma_peak::measure(backend.threads());
    println!(
        "measured FMA peak: {peak:.1} GFLOP/s on {} threads",
        backend.threads()
    );
    let n = 2048;
    let mm_flops = 2.0 * (n * n * n) as f64;
    for dtype in [DType::F32, DType::BF16, DType::F16] {
        let inputs = [tensor(dtype, &[n, n]), tensor(dtype, &[n, n])];
        let name = format!("matmul {n}³ {dtype}");
        bench(&backend, &name, &Op::MatMul, &inputs, mm_flops, 5, peak);
    }

    native_f16_gemm(n, mm_flops, peak);

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
    bench(
        &backend,
        "conv3d [1,64,9,64,64] k3 -> 64 f32",
        &conv,
        &inputs,
        conv_flops,
        3,
        peak,
    );

    for d in [64, 128] {
        let (b, h, s) = (1, 8, 2048);
        let attn = Op::Attention {
            scale: F64(1.0 / (d as f64).sqrt()),
            causal: false,
            has_mask: false,
        };
        let qkv: Vec<HostTensor> = (0..3).map(|_| tensor(DType::F32, &[b, h, s, d])).collect();
        let flops = 4.0 * (b * h * s * s * d) as f64;
        let name = format!("attention [{b},{h},{s},{d}] f32");
        bench(&backend, &name, &attn, &qkv, flops, 3, peak);
    }
    let after = fma_peak::measure(backend.threads());
    println!("measured FMA peak again: {after:.1} GFLOP/s (a shared VM's speed drifts; compare within one run)");
}

/// The machine's f32 FMA throughput, measured: every thread runs twelve independent
/// chains of fused multiply-adds (enough to cover the FMA latency on current x86 cores) on
/// the widest vectors the CPU has (AVX-512 or AVX2), for about half a second.
mod fma_peak {
    use std::time::Instant;

    /// Multiply-add steps per chain per thread.
    const STEPS: usize = 50_000_000;

    /// GFLOP/s of `threads` threads running the probe at once.
    pub fn measure(threads: usize) -> f64 {
        let start = Instant::now();
        let flops: f64 = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads).map(|_| s.spawn(probe)).collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        flops / start.elapsed().as_secs_f64() / 1e9
    }

    /// Runs the chains; returns the FLOPs done (0 on CPUs without FMA).
    fn probe() -> f64 {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                // SAFETY: AVX-512F is available, checked just above.
                std::hint::black_box(unsafe { x86::chains_avx512() });
                return (STEPS * 12 * 32) as f64;
            }
            if std::arch::is_x86_feature_detected!("fma") {
                // SAFETY: AVX2/FMA are available, checked just above.
                std::hint::black_box(unsafe { x86::chains_avx2() });
                return (STEPS * 12 * 16) as f64;
            }
        }
        0.0
    }

    #[cfg(target_arch = "x86_64")]
    mod x86 {
        use super::STEPS;
        use std::arch::x86_64::*;

        #[target_feature(enable = "avx,fma")]
        pub unsafe fn chains_avx2() -> f32 {
            let (a, b) = (_mm256_set1_ps(0.999_999), _mm256_set1_ps(1e-7));
            let mut r = [_mm256_set1_ps(1.0); 12];
            for _ in 0..STEPS {
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
        pub unsafe fn chains_avx512() -> f32 {
            let (a, b) = (_mm512_set1_ps(0.999_999), _mm512_set1_ps(1e-7));
            let mut r = [_mm512_set1_ps(1.0); 12];
            for _ in 0..STEPS {
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
fn native_f16_gemm(n: usize, flops: f64, peak: f64) {
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
    let gflops = flops / best / 1e9;
    println!(
        "{:<44} {:>9.2} ms {gflops:>8.1} GFLOP/s {:>6.1}% of the measured peak",
        format!("gemm native f16 {n}³ (not used)"),
        best * 1e3,
        100.0 * gflops / peak
    );
}
