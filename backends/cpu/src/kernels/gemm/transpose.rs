//! Interleaving rows into packed panels: `dst[kk·width + j] = src[j][kk]`, the inner step
//! of packing a column-major operand (e.g. a linear layer's `[out, in]` weight read as
//! `Wᵀ`). Groups of eight rows go through 8×8 AVX transposes where the CPU has AVX; the
//! rest, and other CPUs, take the scalar loop. Both copy values exactly.

/// Writes `dst[kk·width + j] = src[j][kk]` for every `j < src.len()` (at most `width`) and
/// `kk < k`; every `src[j]` must hold at least `k` values and `dst` at least `k·width`.
pub fn interleave(src: &[&[f32]], k: usize, dst: &mut [f32], width: usize) {
    assert!(src.len() <= width && src.iter().all(|s| s.len() >= k) && dst.len() >= k * width);
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") && src.len() == 6 && width == 6 {
        // A full A panel: six rows, transposed as eight with two zero rows.
        let rows: &[&[f32]; 6] = src.try_into().unwrap();
        // SAFETY: AVX is available (checked above); the bounds were asserted on entry.
        unsafe { avx::six(rows, k, dst) };
        let k8 = k / 8 * 8;
        for (kk, row) in dst.chunks_exact_mut(6).take(k).enumerate().skip(k8) {
            for (d, s) in row.iter_mut().zip(src) {
                *d = s[kk];
            }
        }
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        for g in 0..src.len() / 8 {
            let rows: &[&[f32]; 8] = src[g * 8..g * 8 + 8].try_into().unwrap();
            // SAFETY: AVX is available (checked above); the bounds were asserted on entry.
            unsafe { avx::group(rows, k, &mut dst[g * 8..], width) };
        }
        done = k / 8 * 8;
        // Columns of full groups are done up to `done`; finish their tail below.
        for (j, s) in src.iter().enumerate().take(src.len() / 8 * 8) {
            for kk in done..k {
                dst[kk * width + j] = s[kk];
            }
        }
        done = src.len() / 8 * 8;
    }
    for (kk, row) in dst.chunks_exact_mut(width).take(k).enumerate() {
        for (d, s) in row[done..].iter_mut().zip(&src[done..]) {
            *d = s[kk];
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx {
    use std::arch::x86_64::*;

    /// Transposes `rows[0..6][0..k/8·8]` into `dst[kk·6 + j]`.
    ///
    /// # Safety
    /// AVX must be available; every row holds `k` values; `dst` holds `k·6` values.
    #[target_feature(enable = "avx")]
    pub unsafe fn six(rows: &[&[f32]; 6], k: usize, dst: &mut [f32]) {
        let out = dst.as_mut_ptr();
        let zero = _mm256_setzero_ps();
        for kk in (0..k / 8 * 8).step_by(8) {
            let r: [__m256; 8] = std::array::from_fn(|j| {
                if j < 6 {
                    _mm256_loadu_ps(rows[j].as_ptr().add(kk))
                } else {
                    zero
                }
            });
            for (t, c) in transpose8(r).into_iter().enumerate() {
                // Six values: four, then two.
                let p = out.add((kk + t) * 6);
                _mm_storeu_ps(p, _mm256_castps256_ps128(c));
                _mm_storel_epi64(
                    p.add(4) as *mut __m128i,
                    _mm_castps_si128(_mm256_extractf128_ps::<1>(c)),
                );
            }
        }
    }

    /// The columns of the 8×8 block whose rows are `r`.
    #[inline]
    #[target_feature(enable = "avx")]
    fn transpose8(r: [__m256; 8]) -> [__m256; 8] {
        let t0 = _mm256_unpacklo_ps(r[0], r[1]);
        let t1 = _mm256_unpackhi_ps(r[0], r[1]);
        let t2 = _mm256_unpacklo_ps(r[2], r[3]);
        let t3 = _mm256_unpackhi_ps(r[2], r[3]);
        let t4 = _mm256_unpacklo_ps(r[4], r[5]);
        let t5 = _mm256_unpackhi_ps(r[4], r[5]);
        let t6 = _mm256_unpacklo_ps(r[6], r[7]);
        let t7 = _mm256_unpackhi_ps(r[6], r[7]);
        let s0 = _mm256_shuffle_ps::<0x44>(t0, t2);
        let s1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
        let s2 = _mm256_shuffle_ps::<0x44>(t1, t3);
        let s3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
        let s4 = _mm256_shuffle_ps::<0x44>(t4, t6);
        let s5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
        let s6 = _mm256_shuffle_ps::<0x44>(t5, t7);
        let s7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
        [
            _mm256_permute2f128_ps::<0x20>(s0, s4),
            _mm256_permute2f128_ps::<0x20>(s1, s5),
            _mm256_permute2f128_ps::<0x20>(s2, s6),
            _mm256_permute2f128_ps::<0x20>(s3, s7),
            _mm256_permute2f128_ps::<0x31>(s0, s4),
            _mm256_permute2f128_ps::<0x31>(s1, s5),
            _mm256_permute2f128_ps::<0x31>(s2, s6),
            _mm256_permute2f128_ps::<0x31>(s3, s7),
        ]
    }

    /// Transposes `rows[0..8][0..k/8·8]` in 8×8 blocks into `dst[kk·width + j]`.
    ///
    /// # Safety
    /// AVX must be available; every row holds `k` values; `dst` holds
    /// `(k/8·8 − 1)·width + 8` values.
    #[target_feature(enable = "avx")]
    pub unsafe fn group(rows: &[&[f32]; 8], k: usize, dst: &mut [f32], width: usize) {
        let out = dst.as_mut_ptr();
        for kk in (0..k / 8 * 8).step_by(8) {
            let r: [__m256; 8] = std::array::from_fn(|j| _mm256_loadu_ps(rows[j].as_ptr().add(kk)));
            let cols = transpose8(r);
            for (t, c) in cols.into_iter().enumerate() {
                _mm256_storeu_ps(out.add((kk + t) * width), c);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::interleave;

    #[test]
    fn interleaving_matches_the_scalar_definition() {
        for (rows, k, width) in [
            (16, 40, 16),
            (13, 19, 16),
            (8, 8, 8),
            (6, 11, 6),
            (17, 3, 20),
            (0, 5, 4),
        ] {
            let data: Vec<Vec<f32>> = (0..rows)
                .map(|j| (0..k + 3).map(|kk| (j * 1000 + kk) as f32).collect())
                .collect();
            let src: Vec<&[f32]> = data.iter().map(|r| &r[..]).collect();
            let mut dst = vec![-1.0f32; k * width];
            interleave(&src, k, &mut dst, width);
            for kk in 0..k {
                for j in 0..width {
                    let want = if j < rows {
                        (j * 1000 + kk) as f32
                    } else {
                        -1.0
                    };
                    assert_eq!(
                        dst[kk * width + j],
                        want,
                        "{rows}×{k} into {width}: ({kk}, {j})"
                    );
                }
            }
        }
    }
}
