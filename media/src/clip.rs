//! [`Clip`]: a short RGB video in memory, and its conversion to and from model tensors.

use crate::{transform, MediaError, Result};
use hyv_ir::{DType, HostTensor, TensorData};

/// A clip of `num_frames` RGB frames of `height × width` pixels, played at `fps`.
///
/// An image is a one-frame clip. `frames` holds RGB24 bytes in `T×H×W×3` order (frame, row,
/// column, channel), the layout ffmpeg and the `image` crate use.
#[derive(Debug, Clone, PartialEq)]
pub struct Clip {
    /// RGB24 pixels, `num_frames × height × width × 3` bytes.
    pub frames: Vec<u8>,
    /// Number of frames (T).
    pub num_frames: usize,
    /// Frame height in pixels (H).
    pub height: usize,
    /// Frame width in pixels (W).
    pub width: usize,
    /// Frames per second for playback (1 for images).
    pub fps: f64,
}

impl Clip {
    /// A clip from its parts; errors when `frames` does not hold `T×H×W×3` bytes or a
    /// dimension is zero.
    pub fn new(
        frames: Vec<u8>,
        num_frames: usize,
        height: usize,
        width: usize,
        fps: f64,
    ) -> Result<Clip> {
        let clip = Clip {
            frames,
            num_frames,
            height,
            width,
            fps,
        };
        clip.check()?;
        Ok(clip)
    }

    /// Bytes in one frame (`H×W×3`).
    pub fn frame_len(&self) -> usize {
        self.height * self.width * 3
    }

    /// The RGB24 bytes of frame `index` (`H×W×3`), or `None` past the end.
    pub fn frame(&self, index: usize) -> Option<&[u8]> {
        let n = self.frame_len();
        self.frames.get(index * n..(index + 1) * n)
    }

    /// Checks that the fields agree: non-zero dimensions and `frames.len() == T×H×W×3`.
    pub fn check(&self) -> Result<()> {
        if self.num_frames == 0 || self.height == 0 || self.width == 0 {
            return Err(MediaError::Invalid(format!(
                "clip has an empty dimension: {} frames of {}x{} (height x width)",
                self.num_frames, self.height, self.width
            )));
        }
        let expected = self
            .num_frames
            .checked_mul(self.frame_len())
            .ok_or_else(|| MediaError::Invalid("clip dimensions overflow".into()))?;
        if self.frames.len() != expected {
            return Err(MediaError::Invalid(format!(
                "clip of {} frames of {}x{} needs {expected} RGB bytes, has {}",
                self.num_frames,
                self.height,
                self.width,
                self.frames.len()
            )));
        }
        Ok(())
    }

    /// The clip as a model input: `[1, 3, T, H, W]` f32 in `[-1, 1]` (`x / 127.5 - 1`, the
    /// normalisation of the reference VAE dataset).
    pub fn to_tensor(&self) -> HostTensor {
        let (t, h, w) = (self.num_frames, self.height, self.width);
        let plane = t * h * w;
        let mut values = vec![0f32; 3 * plane];
        // `take` keeps an inconsistent clip (see [`Clip::check`]) from indexing past the end.
        for (pixel, rgb) in self.frames.chunks_exact(3).take(plane).enumerate() {
            for (c, &v) in rgb.iter().enumerate() {
                values[c * plane + pixel] = (f64::from(v) / 127.5 - 1.0) as f32;
            }
        }
        HostTensor::new([1, 3, t, h, w], TensorData::F32(values))
            .expect("3·T·H·W values for a [1, 3, T, H, W] tensor")
    }

    /// A clip from a model output of shape `[1, 3, T, H, W]` or `[3, T, H, W]` in any float
    /// dtype, mapped from `[-1, 1]` to bytes as diffusers' postprocessing does:
    /// `round(clamp(x / 2 + 0.5, 0, 1) · 255)` in f32, rounding half to even (NaN becomes 0).
    pub fn from_tensor(tensor: &HostTensor, fps: f64) -> Result<Clip> {
        let dims = tensor.shape().dims();
        let (t, h, w) = match dims {
            [1, 3, t, h, w] | [3, t, h, w] => (*t, *h, *w),
            _ => {
                return Err(MediaError::Invalid(format!(
                    "a video tensor must have shape [1, 3, T, H, W] or [3, T, H, W], got {}",
                    tensor.shape()
                )))
            }
        };
        if !matches!(tensor.dtype(), DType::F32 | DType::F16 | DType::BF16) {
            return Err(MediaError::Invalid(format!(
                "a video tensor must have a float dtype (f32, f16, bf16), got {:?}",
                tensor.dtype()
            )));
        }
        let values = tensor.to_f32_vec();
        let plane = t * h * w;
        let mut frames = vec![0u8; 3 * plane];
        for (pixel, rgb) in frames.chunks_exact_mut(3).enumerate() {
            for (c, out) in rgb.iter_mut().enumerate() {
                *out = to_byte(values[c * plane + pixel]);
            }
        }
        Clip::new(frames, t, h, w, fps)
    }

    /// The clip resized with OpenCV-compatible bicubic interpolation so that it covers
    /// `height × width` with the smallest scale, then center-cropped to exactly that size
    /// (see [`crate::transform`]).
    pub fn resize_center_crop(&self, height: usize, width: usize) -> Result<Clip> {
        self.check()?;
        if height == 0 || width == 0 {
            return Err(MediaError::Invalid(format!(
                "cannot resize to an empty size {height}x{width} (height x width)"
            )));
        }
        let mut frames = Vec::with_capacity(self.num_frames * height * width * 3);
        for frame in self.frames.chunks_exact(self.frame_len()) {
            frames.extend(transform::resize_center_crop(
                frame,
                self.height,
                self.width,
                height,
                width,
            ));
        }
        Clip::new(frames, self.num_frames, height, width, self.fps)
    }
}

/// One value of a model output in `[-1, 1]` as a byte (diffusers' `postprocess` + `numpy_to_pil`).
fn to_byte(x: f32) -> u8 {
    let unit = (x / 2.0 + 0.5).clamp(0.0, 1.0);
    // `as` saturates and maps NaN to 0.
    (unit * 255.0).round_ties_even() as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Clip {
        let frames: Vec<u8> = (0..2 * 2 * 3 * 3).map(|i| (i * 7) as u8).collect();
        Clip::new(frames, 2, 2, 3, 8.0).unwrap()
    }

    #[test]
    fn tensor_round_trip_is_exact() {
        let clip = tiny();
        let t = clip.to_tensor();
        assert_eq!(t.shape().dims(), &[1, 3, 2, 2, 3]);
        let back = Clip::from_tensor(&t, 8.0).unwrap();
        assert_eq!(back, clip);
        let f16 = t.cast(DType::F16);
        assert_eq!(Clip::from_tensor(&f16, 8.0).unwrap(), clip);
        let unbatched = t.reshape([3, 2, 2, 3]).unwrap();
        assert_eq!(Clip::from_tensor(&unbatched, 8.0).unwrap(), clip);
    }

    #[test]
    fn tensor_layout_is_channel_first() {
        let clip = Clip::new(vec![255, 0, 0], 1, 1, 1, 1.0).unwrap();
        assert_eq!(clip.to_tensor().to_f32_vec(), vec![1.0, -1.0, -1.0]);
    }

    #[test]
    fn postprocess_clamps_and_rounds_like_diffusers() {
        assert_eq!(to_byte(-3.0), 0);
        assert_eq!(to_byte(2.0), 255);
        assert_eq!(to_byte(0.0), 128); // 127.5 rounds half to even
        assert_eq!(to_byte(f32::NAN), 0);
    }

    #[test]
    fn bad_shapes_and_dtypes_are_errors() {
        let t = HostTensor::from_f32([2, 3, 1, 1, 1], vec![0.0; 6]).unwrap();
        let e = Clip::from_tensor(&t, 1.0).unwrap_err().to_string();
        assert!(e.contains("[2,3,1,1,1]"), "{e}");
        let t = HostTensor::new([3, 1, 1, 1], TensorData::I32(vec![0; 3])).unwrap();
        assert!(Clip::from_tensor(&t, 1.0).is_err());
        assert!(Clip::new(vec![0; 5], 1, 1, 2, 1.0).is_err());
        assert!(Clip::new(vec![], 0, 1, 1, 1.0).is_err());
    }
}
