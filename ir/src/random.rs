//! The counter-based normal generator behind `random_normal`, identical on every backend.
//!
//! Element `i` of a `random_normal` with `seed` and `offset` is
//! `normal_sample(seed, offset + i)`. The sample comes from Philox4x32-10 (Salmon et al.,
//! SC'11) keyed by the seed, with counter `(c / 2)` split into two 32-bit words, followed by
//! the Box–Muller transform; even counters take the cosine branch and odd counters the sine
//! branch of the same pair, so a pair of neighbouring elements shares one Philox block.

const PHILOX_M0: u32 = 0xD251_1F53;
const PHILOX_M1: u32 = 0xCD9E_8D57;
const PHILOX_W0: u32 = 0x9E37_79B9;
const PHILOX_W1: u32 = 0xBB67_AE85;

/// Philox4x32 with 10 rounds: four 32-bit random words for a 128-bit counter and 64-bit key.
pub fn philox4x32_10(counter: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let mut c = counter;
    let mut k = key;
    for round in 0..10 {
        if round > 0 {
            k[0] = k[0].wrapping_add(PHILOX_W0);
            k[1] = k[1].wrapping_add(PHILOX_W1);
        }
        let p0 = (PHILOX_M0 as u64) * (c[0] as u64);
        let p1 = (PHILOX_M1 as u64) * (c[2] as u64);
        c = [
            ((p1 >> 32) as u32) ^ c[1] ^ k[0],
            p1 as u32,
            ((p0 >> 32) as u32) ^ c[3] ^ k[1],
            p0 as u32,
        ];
    }
    c
}

/// The standard-normal sample number `counter` of the stream `seed`, in f64.
pub fn normal_sample(seed: u64, counter: u64) -> f64 {
    let pair = counter / 2;
    let r = philox4x32_10(
        [pair as u32, (pair >> 32) as u32, 0, 0],
        [seed as u32, (seed >> 32) as u32],
    );
    // u1 in (0, 1] so the logarithm is finite; u2 in [0, 1).
    let u1 = ((r[0] >> 8) as f64 + 1.0) * (1.0 / 16_777_216.0);
    let u2 = (r[1] >> 8) as f64 * (1.0 / 16_777_216.0);
    let radius = (-2.0 * u1.ln()).sqrt();
    let angle = std::f64::consts::TAU * u2;
    if counter.is_multiple_of(2) {
        radius * angle.cos()
    } else {
        radius * angle.sin()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Known-answer test from the Random123 distribution (kat_vectors, philox4x32_10).
    #[test]
    fn philox_known_answers() {
        assert_eq!(
            philox4x32_10([0, 0, 0, 0], [0, 0]),
            [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8]
        );
        assert_eq!(
            philox4x32_10([u32::MAX; 4], [u32::MAX; 2]),
            [0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd]
        );
        assert_eq!(
            philox4x32_10(
                [0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344],
                [0xa409_3822, 0x299f_31d0]
            ),
            [0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1]
        );
    }

    #[test]
    fn normal_moments_are_standard() {
        let n = 200_000u64;
        let xs: Vec<f64> = (0..n).map(|i| normal_sample(42, i)).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.01, "variance {var}");
        assert!(xs.iter().all(|x| x.is_finite()));
    }

    #[test]
    fn streams_differ_by_seed_and_are_reproducible() {
        assert_eq!(normal_sample(7, 123), normal_sample(7, 123));
        assert_ne!(normal_sample(7, 123), normal_sample(8, 123));
        assert_ne!(normal_sample(7, 122), normal_sample(7, 123));
    }
}
