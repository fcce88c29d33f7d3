//! Resize-shortest-side then center crop, as the reference preprocesses videos and images.
//!
//! mindone's HunyuanVideo datasets (`hyvideo/utils/dataset_utils.py::create_video_transforms`,
//! used by the VAE, latent-cache and evaluation scripts) apply albumentations'
//! `SmallestMaxSize(interpolation=cv2.INTER_CUBIC)` and then `CenterCrop(h, w)`. This module
//! reproduces that:
//!
//! * **Size.** The frame is scaled by `max(h / H, w / W)` — the smallest scale at which it
//!   covers the `h × w` crop — and the new sides are `round(H·s)`, `round(W·s)` (rounding half to
//!   even like Python's `round`), never below the crop.
//! * **Filter.** OpenCV's `INTER_CUBIC`: Keys' cubic convolution with `A = −0.75`, half-pixel
//!   centres (`src = (dst + 0.5)·S/D − 0.5`), replicated borders and no antialiasing when
//!   downscaling (like OpenCV), evaluated as two separable passes in f32 with weights computed
//!   in f64. Checked against `cv2.resize` of OpenCV 5.0 (`tools/golden/make_media_fixtures.py`):
//!   identical bytes except ±1 on about 1 pixel in 10⁵, where the exact value is within 10⁻⁴ of
//!   a rounding tie. (OpenCV 4 evaluates 8-bit cubic resizing in 11-bit fixed point and differs
//!   from both by ±1 on a few percent of the pixels.)
//! * **Crop.** The window starts at `((H' − h) / 2, (W' − w) / 2)`, rounding down, like
//!   albumentations' `CenterCrop`.

/// The size `(height, width)` a `height × width` frame is resized to before a center crop to
/// `crop_height × crop_width`: the smallest scale that covers the crop.
pub fn cover_size(
    height: usize,
    width: usize,
    crop_height: usize,
    crop_width: usize,
) -> (usize, usize) {
    let scale = f64::max(
        crop_height as f64 / height as f64,
        crop_width as f64 / width as f64,
    );
    let scaled =
        |side: usize, crop: usize| ((side as f64 * scale).round_ties_even() as usize).max(crop);
    (scaled(height, crop_height), scaled(width, crop_width))
}

/// One RGB24 frame resized to cover `crop_height × crop_width` (see [`cover_size`]) and then
/// center-cropped to exactly that size.
///
/// # Panics
///
/// When a size is zero or `frame` does not hold `height × width × 3` bytes (callers such as
/// [`crate::Clip::resize_center_crop`] check this first).
pub fn resize_center_crop(
    frame: &[u8],
    height: usize,
    width: usize,
    crop_height: usize,
    crop_width: usize,
) -> Vec<u8> {
    let (h, w) = cover_size(height, width, crop_height, crop_width);
    if (h, w) == (height, width) {
        center_crop(frame, height, width, crop_height, crop_width)
    } else {
        let resized = resize_cubic(frame, height, width, h, w);
        center_crop(&resized, h, w, crop_height, crop_width)
    }
}

/// The centred `crop_height × crop_width` window of an RGB24 frame.
///
/// # Panics
///
/// When the crop is larger than the frame or `frame` does not hold `height × width × 3` bytes.
pub fn center_crop(
    frame: &[u8],
    height: usize,
    width: usize,
    crop_height: usize,
    crop_width: usize,
) -> Vec<u8> {
    check_frame(frame, height, width);
    assert!(
        crop_height <= height && crop_width <= width,
        "crop {crop_height}x{crop_width} is larger than the frame {height}x{width}"
    );
    let top = (height - crop_height) / 2;
    let left = (width - crop_width) / 2;
    let mut out = Vec::with_capacity(crop_height * crop_width * 3);
    for row in frame.chunks_exact(width * 3).skip(top).take(crop_height) {
        out.extend_from_slice(&row[left * 3..(left + crop_width) * 3]);
    }
    out
}

/// An RGB24 frame resized to `dst_height × dst_width` with OpenCV's `INTER_CUBIC` filter.
///
/// # Panics
///
/// When a size is zero or `frame` does not hold `height × width × 3` bytes.
pub fn resize_cubic(
    frame: &[u8],
    height: usize,
    width: usize,
    dst_height: usize,
    dst_width: usize,
) -> Vec<u8> {
    check_frame(frame, height, width);
    assert!(
        dst_height > 0 && dst_width > 0,
        "cannot resize to an empty size {dst_height}x{dst_width}"
    );
    let columns = taps(width, dst_width);
    let rows = taps(height, dst_height);
    // Horizontal pass: every source row to the new width.
    let mut horizontal = vec![0f32; height * dst_width * 3];
    for (src, dst) in frame
        .chunks_exact(width * 3)
        .zip(horizontal.chunks_exact_mut(dst_width * 3))
    {
        for (tap, out) in columns.iter().zip(dst.chunks_exact_mut(3)) {
            for (c, o) in out.iter_mut().enumerate() {
                let mut acc = 0f32;
                for (&i, &wgt) in tap.index.iter().zip(&tap.weight) {
                    acc += f32::from(src[i * 3 + c]) * wgt;
                }
                *o = acc;
            }
        }
    }
    // Vertical pass: combine four rows of the horizontal result per output row.
    let row_len = dst_width * 3;
    let mut out = vec![0u8; dst_height * row_len];
    for (tap, dst) in rows.iter().zip(out.chunks_exact_mut(row_len)) {
        for (x, o) in dst.iter_mut().enumerate() {
            let mut acc = 0f32;
            for (&i, &wgt) in tap.index.iter().zip(&tap.weight) {
                acc += horizontal[i * row_len + x] * wgt;
            }
            *o = acc.round_ties_even().clamp(0.0, 255.0) as u8;
        }
    }
    out
}

/// Panics unless `frame` is a non-empty `height × width` RGB24 frame.
fn check_frame(frame: &[u8], height: usize, width: usize) {
    assert!(
        height > 0 && width > 0 && frame.len() == height * width * 3,
        "expected a non-empty {height}x{width} RGB24 frame ({} bytes), got {} bytes",
        height * width * 3,
        frame.len()
    );
}

/// The four source positions (clamped to the border) and weights of one output position.
struct Tap {
    index: [usize; 4],
    weight: [f32; 4],
}

/// The taps of every output position along one axis, from `src` to `dst` samples.
fn taps(src: usize, dst: usize) -> Vec<Tap> {
    let scale = 1.0 / (dst as f64 / src as f64);
    let last = src as i64 - 1;
    (0..dst)
        .map(|d| {
            let pos = (d as f64 + 0.5) * scale - 0.5;
            let start = pos.floor();
            let weights = cubic_weights(pos - start);
            let start = start as i64 - 1;
            Tap {
                index: std::array::from_fn(|k| (start + k as i64).clamp(0, last) as usize),
                weight: weights.map(|w| w as f32),
            }
        })
        .collect()
}

/// OpenCV's `interpolateCubic`: Keys' kernel with `A = −0.75` at offsets `x+1, x, 1−x, 2−x`.
fn cubic_weights(x: f64) -> [f64; 4] {
    const A: f64 = -0.75;
    let w0 = ((A * (x + 1.0) - 5.0 * A) * (x + 1.0) + 8.0 * A) * (x + 1.0) - 4.0 * A;
    let w1 = ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0;
    let w2 = ((A + 2.0) * (1.0 - x) - (A + 3.0)) * (1.0 - x) * (1.0 - x) + 1.0;
    [w0, w1, w2, 1.0 - w0 - w1 - w2]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cover_size_scales_the_short_side() {
        assert_eq!(cover_size(240, 320, 64, 64), (64, 85));
        assert_eq!(cover_size(320, 240, 64, 64), (85, 64));
        // The crop's aspect decides which side matches exactly.
        assert_eq!(cover_size(240, 320, 64, 128), (96, 128));
        assert_eq!(cover_size(100, 100, 100, 100), (100, 100));
        assert_eq!(cover_size(10, 20, 40, 40), (40, 80));
    }

    #[test]
    fn same_size_resize_is_identity_and_constant_stays_constant() {
        let frame: Vec<u8> = (0..5 * 7 * 3).map(|i| (i * 11 % 256) as u8).collect();
        assert_eq!(resize_cubic(&frame, 5, 7, 5, 7), frame);
        let flat = vec![77u8; 6 * 9 * 3];
        assert!(resize_cubic(&flat, 6, 9, 13, 4).iter().all(|&v| v == 77));
    }

    #[test]
    fn center_crop_takes_the_middle() {
        // 4 rows × 6 columns, pixel value = 10·row + column in every channel.
        let frame: Vec<u8> = (0..4)
            .flat_map(|r| (0..6).flat_map(move |c| [10 * r + c; 3]))
            .collect();
        let out = center_crop(&frame, 4, 6, 2, 3);
        let firsts: Vec<u8> = out.chunks(3).map(|p| p[0]).collect();
        assert_eq!(firsts, vec![11, 12, 13, 21, 22, 23]);
    }
}
