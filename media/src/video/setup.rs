//! What every ffmpeg entry point does first: one-time library setup and path checks.

use crate::{MediaError, Result};
use ffmpeg_next as ffmpeg;
use std::path::Path;
use std::sync::Once;

/// Initialises ffmpeg once per process and lowers its log level to errors, so that libx264's
/// banner and per-file info lines stay off stderr (errors still show, and every failure is
/// also returned as a [`MediaError`]). This level is process-wide.
pub(crate) fn init() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // `init` only registers error strings on FFmpeg ≥ 5 and cannot fail there.
        let _ = ffmpeg::init();
        ffmpeg::log::set_level(ffmpeg::log::Level::Error);
    });
}

/// The path as the UTF-8 string ffmpeg-next needs (it panics on anything else), or an error
/// naming the path.
pub(crate) fn utf8_path(path: &Path) -> Result<&str> {
    path.to_str().filter(|s| !s.contains('\0')).ok_or_else(|| {
        MediaError::unsupported(
            path,
            "ffmpeg can only open paths that are valid UTF-8 without NUL bytes; rename the file",
        )
    })
}

/// Opens `path` for demuxing, with a plain "not found"/"permission denied" error when the
/// file system refuses it and ffmpeg's message when the content is not a media file.
pub(crate) fn open_input(path: &Path) -> Result<ffmpeg::format::context::Input> {
    init();
    let name = utf8_path(path)?;
    std::fs::File::open(path).map_err(|e| MediaError::io(path, e))?;
    ffmpeg::format::input(name).map_err(|e| MediaError::decode(path, e))
}

/// The playback rate of a stream: its average frame rate, else its base rate, else 25 fps
/// (ffmpeg's own default).
pub(crate) fn frame_rate(stream: &ffmpeg::Stream) -> f64 {
    [stream.avg_frame_rate(), stream.rate()]
        .into_iter()
        .find(|r| r.numerator() > 0 && r.denominator() > 0)
        .map_or(25.0, f64::from)
}
