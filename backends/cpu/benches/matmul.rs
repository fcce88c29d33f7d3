//! Throughput of the CPU backend's contraction kernels, run through `Backend::execute`
//! (so the figures include operand conversion and output allocation):
//! `cargo bench -p hyv-backend-cpu --bench matmul`.
//!
//! Prints GFLOP/s for an f32 2048³ matmul, the same in bf16 and f16 (and gemm's native f16
//! kernel for comparison), a VAE-like conv3d (`[1,64,9,64,64]` ⊛ `[64,64,3,3,3]`,
//! padding 1) and 8-head attentions, each with its ratio to the development machine's
//! measured f32 FMA peak (524 GFLOP/s on 2 AVX-512 cores, `performance_anchors.md`).
//!
//! First figures (2026-11-24), best of 3–5, on a 2-vCPU AMD EPYC Zen 3 (family 25) box
//! **without AVX-512**, whose measured AVX2 FMA peak is 101 GFLOP/s per core and 198 on
//! both, shared with other builds (load average 1.2–1.5, so ±30 % run to run):
//!
//! | kernel | 2 threads | 1 thread |
//! |---|---|---|
//! | matmul 2048³ f32 | best 125 ms, 138 GFLOP/s (70 % of 198; 26 % of 524), typically 100–110 | 71–77 GFLOP/s (72 % of 101) |
//! | matmul 2048³ bf16 / f16 (widened to f32) | 86 / 89 GFLOP/s | 57 / 58 GFLOP/s |
//! | conv3d above, f32 (shifted products) | 78 ms, 105 GFLOP/s (20 % of 524) | 62 GFLOP/s |
//! | attention `[1,8,2048,64]` f32 | 94–111 ms, 78–92 GFLOP/s (15–17 % of 524) | 44–45 GFLOP/s |
//! | attention `[1,8,2048,128]` f32 (HunyuanVideo's head dim) | busy box only: 50 GFLOP/s | 52–59 GFLOP/s |

use hyv_backend_cpu::CpuBackend;
use hyv_ir::{infer::infer, DType, HostTensor, Op, TensorData, F64};
use hyv_runtime::Backend;
use std::time::Instant;

/// Measured f32 FMA peak of the reference development machine (2 cores, AVX-512), GFLOP/s.
const PEAK_GFLOPS: f64 = 524.0;

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
        "{name:<44} {:>9.2} ms {gflops:>8.1} GFLOP/s {:>6.1}% of {PEAK_GFLOPS}",
        best * 1e3,
        100.0 * gflops / PEAK_GFLOPS
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
    let n = 2048;
    let mm_flops = 2.0 * (n * n * n) as f64;
    for dtype in [DType::F32, DType::BF16, DType::F16] {
        let inputs = [tensor(dtype, &[n, n]), tensor(dtype, &[n, n])];
        let name = format!("matmul {n}³ {dtype}");
        bench(&backend, &name, &Op::MatMul, &inputs, mm_flops, 5);
    }

    native_f16_gemm(n, mm_flops);

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
        bench(&backend, &name, &attn, &qkv, flops, 3);
    }
}

/// gemm's own f16 kernel on the same product (f16 operands and destination), for
/// comparison with the backend's widen-to-f32 path.
fn native_f16_gemm(n: usize, flops: f64) {
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
        "{:<44} {:>9.2} ms {gflops:>8.1} GFLOP/s {:>6.1}% of {PEAK_GFLOPS}",
        format!("gemm native f16 {n}³ (not used)"),
        best * 1e3,
        100.0 * gflops / PEAK_GFLOPS
    );
}
