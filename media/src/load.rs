//! [`load_clip`]: an image or video file as a [`Clip`].

use crate::paths::{kind_of, Kind};
use crate::{image_io, video, Clip, LoadOptions, MediaError, Result};
use std::path::Path;

/// Loads an image or video as a clip, selecting frames and resizing as `opts` says.
///
/// PNG, JPEG and WebP files (by extension, else by content) are read with the `image` crate
/// as one frame at 1 fps (`num_frames` must then be `None` or 1); everything else goes to
/// ffmpeg (MP4, AVI, WebM, MKV, MOV, GIF …), whose fps divided by `sample_rate` becomes the
/// clip's. Frames are RGB as decoded (alpha dropped; YUV converted with BT.601 coefficients
/// unless the file says otherwise; rotation metadata is ignored).
///
/// Errors name the file: missing or unreadable files, content neither decoder understands,
/// a video shorter than asked for (with the frame counts), and invalid options (see
/// [`LoadOptions::validate`]).
pub fn load_clip(path: impl AsRef<Path>, opts: &LoadOptions) -> Result<Clip> {
    let path = path.as_ref();
    opts.validate()?;
    match kind_of(path) {
        Kind::Image => load_image(path, opts),
        Kind::Video => video::read_video(path, opts),
    }
}

fn load_image(path: &Path, opts: &LoadOptions) -> Result<Clip> {
    if let Some(n) = opts.num_frames.filter(|&n| n != 1) {
        return Err(MediaError::unsupported(
            path,
            format!("an image has one frame, but num_frames is {n}"),
        ));
    }
    let (pixels, height, width) = image_io::read_image(path)?;
    let clip = Clip::new(pixels, 1, height, width, 1.0)?;
    match opts.crop() {
        Some((h, w)) => clip.resize_center_crop(h, w),
        None => Ok(clip),
    }
}
