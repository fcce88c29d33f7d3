//! PSNR and SSIM against numbers from the reference's algorithm (NumPy + OpenCV, printed by
//! `tools/golden/make_media_fixtures.py`) and closed forms.

mod common;

use common::{noise, synthetic};
use hyv_media::metrics::{psnr_per_frame, ssim_per_frame};
use hyv_media::{psnr, ssim, Clip, MetricKind};

/// Clip pair A (ramp + texture) and B (A + bounded noise), as `metric_pair` in the script.
fn pair(t: usize, h: usize, w: usize) -> (Clip, Clip) {
    let index = |ti: usize, y: usize, x: usize, c: usize| ((ti * h + y) * w + x) * 3 + c;
    let a_value = move |ti, y, x, c| {
        ((x * 8 + y * 5 + ti * 20 + c * 40 + noise(index(ti, y, x, c), 7) as usize % 32) % 256)
            as u8
    };
    let a = synthetic(t, h, w, 8.0, a_value);
    let b = synthetic(t, h, w, 8.0, |ti, y, x, c| {
        let v = a_value(ti, y, x, c) as i32 + noise(index(ti, y, x, c), 11) as i32 % 21 - 10;
        v.clamp(0, 255) as u8
    });
    (a, b)
}

// From tools/golden/make_media_fixtures.py (numpy 2.4.6, opencv 5.0.0): the reference computes
// PSNR in float32, so only ~1e-5 dB agreement is meaningful; SSIM is float64 throughout.
const PSNR_FRAMES: [f64; 3] = [32.492515563964844, 32.53590393066406, 32.51459503173828];
const SSIM_FRAMES: [f64; 3] = [0.9669662232203059, 0.9671095159436099, 0.9661748324605565];
const SSIM_MEAN: f64 = 0.9667501905414908;

#[test]
fn match_the_reference_implementation() {
    let (a, b) = pair(3, 24, 32);
    for (ours, theirs) in psnr_per_frame(&a, &b).unwrap().iter().zip(PSNR_FRAMES) {
        assert!((ours - theirs).abs() < 1e-4, "PSNR {ours} vs {theirs}");
    }
    for (ours, theirs) in ssim_per_frame(&a, &b).unwrap().iter().zip(SSIM_FRAMES) {
        assert!((ours - theirs).abs() < 1e-12, "SSIM {ours} vs {theirs}");
    }
    assert!((ssim(&a, &b).unwrap() - SSIM_MEAN).abs() < 1e-12);
    assert!((MetricKind::Ssim.compute(&a, &b).unwrap() - SSIM_MEAN).abs() < 1e-12);
}

#[test]
fn identical_clips_are_perfect() {
    let (a, _) = pair(2, 16, 16);
    assert_eq!(psnr(&a, &a).unwrap(), 100.0);
    assert!((ssim(&a, &a).unwrap() - 1.0).abs() < 1e-12);
}

#[test]
fn constant_offset_has_the_closed_form_psnr() {
    // Values 20..=219 shifted by 17 levels everywhere: MSE = (17/255)².
    let a = synthetic(2, 12, 12, 8.0, |t, y, x, c| {
        (20 + (t * 50 + y * 7 + x * 3 + c) % 200) as u8
    });
    let b = synthetic(2, 12, 12, 8.0, |t, y, x, c| {
        (37 + (t * 50 + y * 7 + x * 3 + c) % 200) as u8
    });
    let expected = 20.0 * (255.0f64 / 17.0).log10();
    assert!((psnr(&a, &b).unwrap() - expected).abs() < 1e-5);
    assert!((MetricKind::Psnr.compute(&a, &b).unwrap() - expected).abs() < 1e-5);
    // Structure is unchanged, so SSIM is below 1 only through the luminance term.
    let s = ssim(&a, &b).unwrap();
    assert!(s > 0.9 && s < 1.0, "{s}");
}

#[test]
fn mismatched_shapes_are_errors() {
    let (a, _) = pair(2, 16, 16);
    let (c, _) = pair(3, 16, 16);
    let e = psnr(&a, &c).unwrap_err().to_string();
    assert!(e.contains("2x16x16") && e.contains("3x16x16"), "{e}");
    assert!(ssim(&a, &c).is_err());
    let (d, _) = pair(2, 16, 24);
    assert!(ssim(&a, &d).unwrap_err().to_string().contains("16x24"));
}
