//! Videos through the system FFmpeg libraries (feature `ffmpeg`, via ffmpeg-next). Without
//! the feature every entry point returns [`MediaError::NoFfmpeg`](crate::MediaError::NoFfmpeg).

#[cfg(feature = "ffmpeg")]
mod decode;
#[cfg(feature = "ffmpeg")]
mod encode;
#[cfg(feature = "ffmpeg")]
mod probe;
#[cfg(feature = "ffmpeg")]
mod setup;

#[cfg(feature = "ffmpeg")]
pub(crate) use decode::read_video;
#[cfg(feature = "ffmpeg")]
pub(crate) use encode::write_video;
#[cfg(feature = "ffmpeg")]
pub(crate) use probe::probe_video;

#[cfg(not(feature = "ffmpeg"))]
mod disabled;
#[cfg(not(feature = "ffmpeg"))]
pub(crate) use disabled::{probe_video, read_video, write_video};

/// Extensions (lower case) that [`write_video`] writes: containers whose muxer takes H.264.
pub(crate) const WRITABLE: &[&str] = &["mp4", "mov", "mkv", "m4v"];
