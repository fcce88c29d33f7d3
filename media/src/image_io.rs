//! Images (PNG, JPEG, WebP) as one-frame clips, through the `image` crate.

use crate::{Clip, MediaError, Result};
use image::codecs::{jpeg::JpegEncoder, png::PngEncoder, webp::WebPEncoder};
use image::{ExtendedColorType, ImageEncoder, ImageReader};
use std::path::Path;

/// JPEG quality of saved images (libjpeg scale; 95 keeps artefacts well below what the VAE
/// itself changes).
const JPEG_QUALITY: u8 = 95;

/// Decodes an image file to RGB24 (alpha is dropped, grey is expanded), whatever its extension
/// says. Returns `(pixels, height, width)`.
pub(crate) fn read_image(path: &Path) -> Result<(Vec<u8>, usize, usize)> {
    let reader = ImageReader::open(path)
        .and_then(|r| r.with_guessed_format())
        .map_err(|e| MediaError::io(path, e))?;
    let image = reader
        .decode()
        .map_err(|e| MediaError::decode(path, e))?
        .into_rgb8();
    let (w, h) = image.dimensions();
    Ok((image.into_raw(), h as usize, w as usize))
}

/// The `(height, width)` of an image file, read from its header only.
pub(crate) fn image_size(path: &Path) -> Result<(usize, usize)> {
    let reader = ImageReader::open(path)
        .and_then(|r| r.with_guessed_format())
        .map_err(|e| MediaError::io(path, e))?;
    let (w, h) = reader
        .into_dimensions()
        .map_err(|e| MediaError::decode(path, e))?;
    Ok((h as usize, w as usize))
}

/// Encodes a one-frame clip as PNG, JPEG (quality 95) or lossless WebP, chosen by the
/// extension of `path`, and writes it atomically.
pub(crate) fn write_image(path: &Path, clip: &Clip) -> Result<()> {
    if clip.num_frames != 1 {
        return Err(MediaError::unsupported(
            path,
            format!(
                "an image file holds one frame, but the clip has {}; save it as .mp4 instead",
                clip.num_frames
            ),
        ));
    }
    let (w, h) = dims_u32(path, clip)?;
    let ext = crate::paths::extension(path);
    let mut bytes = Vec::new();
    let written = match ext.as_str() {
        "png" => {
            PngEncoder::new(&mut bytes).write_image(&clip.frames, w, h, ExtendedColorType::Rgb8)
        }
        "jpg" | "jpeg" => JpegEncoder::new_with_quality(&mut bytes, JPEG_QUALITY).write_image(
            &clip.frames,
            w,
            h,
            ExtendedColorType::Rgb8,
        ),
        "webp" => WebPEncoder::new_lossless(&mut bytes).write_image(
            &clip.frames,
            w,
            h,
            ExtendedColorType::Rgb8,
        ),
        _ => {
            return Err(MediaError::unsupported(
                path,
                "unknown image extension; use .png, .jpg, .jpeg or .webp",
            ))
        }
    };
    written.map_err(|e| MediaError::encode(path, e))?;
    hyv_ir::write_atomic(path, &bytes).map_err(|e| MediaError::io(path, e))
}

/// The clip's width and height as the `u32`s encoders take.
fn dims_u32(path: &Path, clip: &Clip) -> Result<(u32, u32)> {
    let fit = |v: usize| u32::try_from(v).ok();
    fit(clip.width)
        .zip(fit(clip.height))
        .ok_or_else(|| MediaError::unsupported(path, "image too large to encode"))
}
