//! [`probe`]: a media file's frame count, rate and size without decoding its frames.

use crate::paths::{kind_of, Kind};
use crate::{image_io, video, Result};
use std::path::Path;

/// What [`probe`] reports about a file.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeInfo {
    /// Frames in the file (1 for an image).
    pub num_frames: usize,
    /// Frames per second (1 for an image).
    pub fps: f64,
    /// Frame width in pixels.
    pub width: usize,
    /// Frame height in pixels.
    pub height: usize,
}

/// The frame count, rate and size of an image or video. For videos the count comes from the
/// container (or its packet count) without decoding, so it can differ from what
/// [`crate::load_clip`] decodes for damaged files.
pub fn probe(path: impl AsRef<Path>) -> Result<ProbeInfo> {
    let path = path.as_ref();
    match kind_of(path) {
        Kind::Image => {
            let (height, width) = image_io::image_size(path)?;
            Ok(ProbeInfo {
                num_frames: 1,
                fps: 1.0,
                width,
                height,
            })
        }
        Kind::Video => video::probe_video(path),
    }
}
