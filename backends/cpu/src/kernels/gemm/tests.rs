//! Both engines and both micro-kernels against an f64 loop: odd sizes (edge tiles in both
//! directions), strided and transposed operands, accumulation, several `KC` slices and
//! column splits.

use super::*;

/// A deterministic matrix of `len` values in [-1, 1).
fn values(len: usize, seed: usize) -> Vec<f32> {
    (0..len)
        .map(|i| ((i * 7919 + seed * 104_729) % 2003) as f32 / 1001.5 - 1.0)
        .collect()
}

/// `dst0 + lhs·rhs` (or `lhs·rhs`) in f64.
fn naive(m: usize, n: usize, k: usize, lhs: MatRef, rhs: MatRef, dst0: Option<&[f32]>) -> Vec<f64> {
    let mut out = vec![0.0f64; m * n];
    for i in 0..m {
        for j in 0..n {
            let mut s = dst0.map_or(0.0, |d| d[i * n + j] as f64);
            for p in 0..k {
                s += lhs.data[i * lhs.rs + p * lhs.cs] as f64
                    * rhs.data[p * rhs.rs + j * rhs.cs] as f64;
            }
            out[i * n + j] = s;
        }
    }
    out
}

fn assert_close(got: &[f32], want: &[f64], k: usize, what: &str) {
    let tol = 1e-6 * (k as f64).max(1.0) * 2.0;
    for (idx, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g as f64 - w).abs() <= tol,
            "{what}: element {idx} is {g}, want {w}"
        );
    }
}

fn engines() -> Vec<Engine> {
    let mut e = vec![Engine::GemmCrate, Engine::Blocked(Kernel::Portable)];
    if Kernel::detect() == Kernel::Avx2Fma {
        e.push(Engine::Blocked(Kernel::Avx2Fma));
    } else {
        println!("note: this CPU lacks AVX2 + FMA; the AVX2 micro-kernel is not exercised");
    }
    e
}

#[test]
fn every_engine_matches_an_f64_loop() {
    let shapes = [
        (1, 1, 1),
        (5, 7, 3),
        (6, 16, 8),
        (13, 33, 17),
        (70, 45, 400),
        (150, 20, 769),
        (7, 3100, 5),
    ];
    for engine in engines() {
        for &(m, n, k) in &shapes {
            for trans_lhs in [false, true] {
                for trans_rhs in [false, true] {
                    for accumulate in [false, true] {
                        for parallel in [false, true] {
                            let (a, b) = (values(m * k, 1), values(k * n, 2));
                            let lhs = if trans_lhs {
                                MatRef::transposed(&a, m)
                            } else {
                                MatRef::rows(&a, k)
                            };
                            let rhs = if trans_rhs {
                                MatRef::transposed(&b, k)
                            } else {
                                MatRef::rows(&b, n)
                            };
                            let dst0 = values(m * n, 3);
                            let mut dst = dst0.clone();
                            sgemm_with(
                                engine, m, n, k, &mut dst, n, lhs, rhs, accumulate, parallel,
                            );
                            let want = naive(m, n, k, lhs, rhs, accumulate.then_some(&dst0[..]));
                            let what = format!(
                                "{engine:?} {m}×{n}×{k} tl={trans_lhs} tr={trans_rhs} acc={accumulate} par={parallel}"
                            );
                            assert_close(&dst, &want, k, &what);
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn a_strided_destination_keeps_its_gaps() {
    for engine in engines() {
        let (m, n, k, rs) = (9, 19, 11, 23);
        let (a, b) = (values(m * k, 4), values(k * n, 5));
        let mut dst = vec![7.0f32; (m - 1) * rs + n + 3];
        sgemm_with(
            engine,
            m,
            n,
            k,
            &mut dst,
            rs,
            MatRef::rows(&a, k),
            MatRef::rows(&b, n),
            false,
            true,
        );
        let want = naive(m, n, k, MatRef::rows(&a, k), MatRef::rows(&b, n), None);
        for i in 0..m {
            assert_close(
                &dst[i * rs..i * rs + n],
                &want[i * n..(i + 1) * n],
                k,
                &format!("{engine:?} row {i}"),
            );
            if i + 1 < m {
                assert!(
                    dst[i * rs + n..(i + 1) * rs].iter().all(|&v| v == 7.0),
                    "{engine:?}: gap of row {i} written"
                );
            }
        }
        assert!(dst[(m - 1) * rs + n..].iter().all(|&v| v == 7.0));
    }
}

#[test]
fn packed_products_cover_inner_and_column_ranges() {
    let (m, k, n) = (11, 40, 48);
    let (a, b) = (values(m * k, 6), values(k * n, 7));
    let (lhs, rhs) = (MatRef::rows(&a, k), MatRef::rows(&b, n));
    let mut pa = PackedA::default();
    pa.pack(lhs, 0, m, 0, k);
    let mut pb = PackedB::default();
    pb.pack(rhs, 0, k, 0, n, false);
    for kernel in [Kernel::Portable, Kernel::detect()] {
        // Inner indices 8..33 of both, columns 16..45.
        let (k0, kc, c0, cols) = (8, 25, 16, 29);
        let mut dst = vec![0.0f32; m * cols];
        gemm_packed(
            kernel,
            &pa,
            0..m,
            k0,
            &pb,
            k0,
            kc,
            c0,
            cols,
            &mut dst,
            cols,
            false,
        );
        for i in 0..m {
            for j in 0..cols {
                let want: f64 = (k0..k0 + kc)
                    .map(|p| a[i * k + p] as f64 * b[p * n + c0 + j] as f64)
                    .sum();
                assert!(
                    (dst[i * cols + j] as f64 - want).abs() < 1e-5,
                    "{kernel:?} ({i},{j})"
                );
            }
        }
        // Rows 6..11 only (the second panel), all of B's inner range.
        let mut dst = vec![0.0f32; 5 * n];
        gemm_packed(kernel, &pa, 6..11, 0, &pb, 0, k, 0, n, &mut dst, n, false);
        for i in 0..5 {
            for j in 0..n {
                let want: f64 = (0..k)
                    .map(|p| a[(6 + i) * k + p] as f64 * b[p * n + j] as f64)
                    .sum();
                assert!(
                    (dst[i * n + j] as f64 - want).abs() < 1e-5,
                    "{kernel:?} row {i} ({j})"
                );
            }
        }
    }
}

#[test]
fn a_reused_packing_buffer_pads_with_zeros_again() {
    let (big_a, big_b) = (values(12 * 40, 8), values(40 * 32, 9));
    let mut pa = PackedA::default();
    let mut pb = PackedB::default();
    pa.pack(MatRef::rows(&big_a, 40), 0, 12, 0, 40);
    pb.pack(MatRef::rows(&big_b, 32), 0, 40, 0, 32, false);
    // Now an edge-sized product (5 rows, 9 columns) in the same buffers.
    let (m, k, n) = (5, 40, 9);
    let (a, b) = (values(m * k, 10), values(k * n, 11));
    pa.pack(MatRef::rows(&a, k), 0, m, 0, k);
    pb.pack(MatRef::transposed(&b, k), 0, k, 0, n, false);
    let mut dst = vec![0.0f32; m * NR];
    gemm_packed(
        Kernel::detect(),
        &pa,
        0..m,
        0,
        &pb,
        0,
        k,
        0,
        n,
        &mut dst,
        NR,
        false,
    );
    let want = naive(
        m,
        n,
        k,
        MatRef::rows(&a, k),
        MatRef::transposed(&b, k),
        None,
    );
    for i in 0..m {
        assert_close(
            &dst[i * NR..i * NR + n],
            &want[i * n..(i + 1) * n],
            k,
            &format!("row {i}"),
        );
    }
    // The padded panel itself holds zeros past column n.
    let panel = pb.panel(0, 0);
    assert!(panel
        .chunks_exact(NR)
        .all(|step| step[n..].iter().all(|&v| v == 0.0)));
    // And the A panel past row m.
    let apanel = pa.panel(0, 0);
    assert!(apanel
        .chunks_exact(6)
        .all(|step| step[m..].iter().all(|&v| v == 0.0)));
}
