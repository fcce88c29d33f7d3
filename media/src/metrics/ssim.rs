//! Structural similarity, as the reference's `cal_ssim.py` computes it:
//!
//! ```text
//! C1 = 0.01², C2 = 0.03²   (values in [0, 1])
//! window = outer(cv2.getGaussianKernel(11, 1.5))          # 11×11, σ = 1.5, sums to 1
//! mu1 = cv2.filter2D(img1, -1, window)[5:-5, 5:-5]        # 'valid' part only
//! … sigma1_sq, sigma2_sq, sigma12 likewise (E[x²] − mu², …)
//! ssim = mean(((2·mu1·mu2 + C1)(2·sigma12 + C2)) / ((mu1² + mu2² + C1)(sigma1_sq + sigma2_sq + C2)))
//! ```
//!
//! per channel of a `[3, H, W]` frame, the three channel values averaged
//! (`calculate_ssim_function`), then frames averaged. The filter is applied as two separable
//! 1-D passes in f64; it equals the 2-D window up to rounding (checked against OpenCV by
//! `tools/golden/make_media_fixtures.py`).

use super::{check_pair, mean, unit};
use crate::{Clip, MediaError, Result};

/// Side of the Gaussian window.
const WINDOW: usize = 11;
/// Standard deviation of the Gaussian window.
const SIGMA: f64 = 1.5;
const C1: f64 = 0.01 * 0.01;
const C2: f64 = 0.03 * 0.03;

/// SSIM of each frame of `b` against `a` (1 for identical frames). Frames must be at least
/// 11×11 pixels, the window size.
pub fn ssim_per_frame(a: &Clip, b: &Clip) -> Result<Vec<f64>> {
    check_pair(a, b)?;
    if a.height < WINDOW || a.width < WINDOW {
        return Err(MediaError::Invalid(format!(
            "SSIM needs frames of at least {WINDOW}x{WINDOW} pixels (its Gaussian window), \
             got {}x{} (height x width)",
            a.height, a.width
        )));
    }
    let kernel = gaussian_kernel();
    let n = a.frame_len();
    Ok(a.frames
        .chunks_exact(n)
        .zip(b.frames.chunks_exact(n))
        .map(|(x, y)| {
            let channels: Vec<f64> = (0..3)
                .map(|c| {
                    let plane = |f: &[u8]| -> Vec<f64> {
                        f.iter().skip(c).step_by(3).map(|&v| unit(v)).collect()
                    };
                    channel_ssim(&plane(x), &plane(y), a.height, a.width, &kernel)
                })
                .collect();
            mean(&channels)
        })
        .collect())
}

/// SSIM of `b` against `a`: the mean over frames of [`ssim_per_frame`].
pub fn ssim(a: &Clip, b: &Clip) -> Result<f64> {
    Ok(mean(&ssim_per_frame(a, b)?))
}

/// `cv2.getGaussianKernel(11, 1.5)`: `exp(−(i−5)² / (2σ²))`, scaled to sum to 1.
fn gaussian_kernel() -> [f64; WINDOW] {
    let centre = (WINDOW - 1) as f64 / 2.0;
    let scale = -0.5 / (SIGMA * SIGMA);
    let raw: [f64; WINDOW] = std::array::from_fn(|i| {
        let x = i as f64 - centre;
        (scale * x * x).exp()
    });
    let inv_sum = 1.0 / raw.iter().sum::<f64>();
    raw.map(|v| v * inv_sum)
}

/// The mean SSIM map of one channel (`h × w` planes).
fn channel_ssim(x: &[f64], y: &[f64], h: usize, w: usize, kernel: &[f64; WINDOW]) -> f64 {
    let product =
        |p: &[f64], q: &[f64]| -> Vec<f64> { p.iter().zip(q).map(|(a, b)| a * b).collect() };
    let blur = |p: &[f64]| filter_valid(p, h, w, kernel);
    let mu1 = blur(x);
    let mu2 = blur(y);
    let xx = blur(&product(x, x));
    let yy = blur(&product(y, y));
    let xy = blur(&product(x, y));
    let total: f64 = (0..mu1.len())
        .map(|i| {
            let (m1, m2) = (mu1[i], mu2[i]);
            let s1 = xx[i] - m1 * m1;
            let s2 = yy[i] - m2 * m2;
            let s12 = xy[i] - m1 * m2;
            ((2.0 * m1 * m2 + C1) * (2.0 * s12 + C2)) / ((m1 * m1 + m2 * m2 + C1) * (s1 + s2 + C2))
        })
        .sum();
    total / mu1.len() as f64
}

/// Correlation of an `h × w` plane with the separable window, where the window fits:
/// `(h − 10) × (w − 10)` values.
fn filter_valid(plane: &[f64], h: usize, w: usize, kernel: &[f64; WINDOW]) -> Vec<f64> {
    let ow = w - WINDOW + 1;
    let oh = h - WINDOW + 1;
    let mut rows = Vec::with_capacity(h * ow);
    for row in plane.chunks_exact(w) {
        rows.extend(row.windows(WINDOW).map(|win| dot(win, kernel)));
    }
    let mut out = Vec::with_capacity(oh * ow);
    for y in 0..oh {
        for x in 0..ow {
            out.push(
                (0..WINDOW)
                    .map(|k| rows[(y + k) * ow + x] * kernel[k])
                    .sum(),
            );
        }
    }
    out
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_is_normalised_and_symmetric() {
        let k = gaussian_kernel();
        assert!((k.iter().sum::<f64>() - 1.0).abs() < 1e-15);
        assert_eq!(k[0], k[10]);
        assert!(k[5] > k[4]);
    }

    #[test]
    fn identical_is_one_and_small_frames_are_an_error() {
        let frames: Vec<u8> = (0..2 * 12 * 13 * 3).map(|i| (i * 37 % 251) as u8).collect();
        let a = Clip::new(frames, 2, 12, 13, 1.0).unwrap();
        assert!((ssim(&a, &a).unwrap() - 1.0).abs() < 1e-12);
        let small = Clip::new(vec![0; 10 * 20 * 3], 1, 10, 20, 1.0).unwrap();
        let e = ssim(&small, &small).unwrap_err().to_string();
        assert!(e.contains("11x11") && e.contains("10x20"), "{e}");
    }

    #[test]
    fn constant_offset_only_changes_luminance_term() {
        // Flat frames: every σ is 0, so SSIM = (2·m1·m2 + C1) / (m1² + m2² + C1).
        let a = Clip::new(vec![100; 11 * 11 * 3], 1, 11, 11, 1.0).unwrap();
        let b = Clip::new(vec![150; 11 * 11 * 3], 1, 11, 11, 1.0).unwrap();
        let (m1, m2) = (unit(100), unit(150));
        let expected = (2.0 * m1 * m2 + C1) / (m1 * m1 + m2 * m2 + C1);
        assert!((ssim(&a, &b).unwrap() - expected).abs() < 1e-12);
    }
}
