//! Peak signal-to-noise ratio.

use super::{check_pair, mean, unit};
use crate::{Clip, Result};

/// PSNR in dB of each frame of `b` against `a`, on values in `[0, 1]`:
/// `20·log10(1 / sqrt(MSE))` over all pixels and channels of the frame, or 100 when
/// `MSE < 1e-10` (the reference's `img_psnr`; for large frames a few pixels off by one level
/// already fall under that threshold).
pub fn psnr_per_frame(a: &Clip, b: &Clip) -> Result<Vec<f64>> {
    check_pair(a, b)?;
    let n = a.frame_len();
    Ok(a.frames
        .chunks_exact(n)
        .zip(b.frames.chunks_exact(n))
        .map(|(x, y)| frame_psnr(x, y))
        .collect())
}

/// PSNR in dB of `b` against `a`: the mean over frames of [`psnr_per_frame`].
pub fn psnr(a: &Clip, b: &Clip) -> Result<f64> {
    Ok(mean(&psnr_per_frame(a, b)?))
}

fn frame_psnr(x: &[u8], y: &[u8]) -> f64 {
    let sum: f64 = x
        .iter()
        .zip(y)
        .map(|(&p, &q)| (unit(p) - unit(q)).powi(2))
        .sum();
    let mse = sum / x.len() as f64;
    if mse < 1e-10 {
        100.0
    } else {
        20.0 * (1.0 / mse.sqrt()).log10()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clip(frames: Vec<u8>, t: usize) -> Clip {
        let hw = frames.len() / 3 / t;
        Clip::new(frames, t, 1, hw, 1.0).unwrap()
    }

    #[test]
    fn identical_is_100_and_offset_matches_closed_form() {
        let a = clip((0..48).map(|i| i as u8 * 5).collect(), 2);
        assert_eq!(psnr(&a, &a).unwrap(), 100.0);
        // Every value off by 10 levels: MSE = (10/255)², PSNR = 20·log10(25.5).
        let b = clip(a.frames.iter().map(|v| v + 10).collect(), 2);
        let expected = 20.0 * (255.0f64 / 10.0).log10();
        assert!((psnr(&a, &b).unwrap() - expected).abs() < 1e-5);
    }

    #[test]
    fn frames_are_averaged_not_pooled() {
        // Frame 0 identical (100 dB), frame 1 off by 255 everywhere (0 dB).
        let a = clip(vec![0; 6], 2);
        let b = clip(vec![0, 0, 0, 255, 255, 255], 2);
        assert_eq!(psnr_per_frame(&a, &b).unwrap(), vec![100.0, 0.0]);
        assert_eq!(psnr(&a, &b).unwrap(), 50.0);
    }
}
