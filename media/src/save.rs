//! [`save_clip`]: a [`Clip`] to a video or image file.

use crate::paths::extension;
use crate::paths::is_image_path;
use crate::{image_io, video, Clip, MediaError, Result};
use std::path::Path;

/// Saves a clip, choosing the format by extension, atomically (a temporary file in the same
/// folder, created if missing, renamed when complete; never a half-written file under `path`).
///
/// * `.mp4` (also `.mov`, `.mkv`, `.m4v`): H.264 via libx264, yuv420p, CRF 18, preset medium,
///   at `clip.fps` with exactly `clip.num_frames` frames. Width and height must be even.
/// * `.png`, `.jpg`/`.jpeg` (quality 95), `.webp` (lossless): one-frame clips only.
pub fn save_clip(path: impl AsRef<Path>, clip: &Clip) -> Result<()> {
    let path = path.as_ref();
    clip.check()?;
    if is_image_path(path) {
        image_io::write_image(path, clip)
    } else if video::WRITABLE.contains(&extension(path).as_str()) {
        video::write_video(path, clip)
    } else {
        Err(MediaError::unsupported(
            path,
            "cannot tell the output format from the extension; use .mp4 (or .mov, .mkv, .m4v) \
             for H.264 video, or .png, .jpg, .jpeg, .webp for a single frame",
        ))
    }
}
