//! Full-reference quality metrics between two clips of the same shape, computed as the
//! reference evaluation does (mindone `scripts/eval/eval_common_metrics.py` with its
//! `cal_psnr.py` / `cal_ssim.py`, taken from common_metrics_on_video_quality): per frame on
//! pixel values in `[0, 1]`, then averaged over frames.

mod kind;
mod psnr;
mod ssim;

pub use kind::MetricKind;
pub use psnr::{psnr, psnr_per_frame};
pub use ssim::{ssim, ssim_per_frame};

use crate::{Clip, MediaError, Result};

/// Checks that two clips can be compared frame by frame.
fn check_pair(a: &Clip, b: &Clip) -> Result<()> {
    a.check()?;
    b.check()?;
    let shape = |c: &Clip| (c.num_frames, c.height, c.width);
    if shape(a) != shape(b) {
        return Err(MediaError::Invalid(format!(
            "cannot compare clips of different shapes: {}x{}x{} vs {}x{}x{} \
             (frames x height x width)",
            a.num_frames, a.height, a.width, b.num_frames, b.height, b.width
        )));
    }
    Ok(())
}

/// A byte as the reference sees it: `x / 255` stored as f32 (its datasets hand float32 arrays
/// to the metrics), widened to f64.
fn unit(x: u8) -> f64 {
    f64::from((f64::from(x) / 255.0) as f32)
}

/// The mean of per-frame values.
fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}
