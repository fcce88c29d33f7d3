//! hyv media: video and image input/output and quality metrics.
//!
//! * [`load_clip`] reads a video (through ffmpeg, feature `ffmpeg`, on by default) or an image
//!   (PNG/JPEG/WebP through the `image` crate) into a [`Clip`] of RGB24 frames, taking every
//!   `sample_rate`-th frame and resizing + center-cropping like the reference's datasets
//!   ([`LoadOptions`], [`transform`]).
//! * [`save_clip`] writes a clip as H.264 MP4 or as an image, atomically.
//! * [`Clip::to_tensor`] / [`Clip::from_tensor`] convert to and from the `[1, 3, T, H, W]`
//!   tensors in `[-1, 1]` that the VAE and pipelines use.
//! * [`metrics`] computes PSNR and SSIM as the reference's evaluation script does.
//! * [`probe`], [`is_video_path`], [`is_image_path`] help walk folders of media.

#![warn(missing_docs)]

mod clip;
mod error;
mod image_io;
mod load;
pub mod metrics;
mod options;
mod paths;
mod probe;
mod save;
pub mod transform;
mod video;

pub use clip::Clip;
pub use error::{MediaError, Result};
pub use load::load_clip;
pub use metrics::{psnr, ssim, MetricKind};
pub use options::LoadOptions;
pub use paths::{image_extensions, is_image_path, is_video_path, video_extensions};
pub use probe::{probe, ProbeInfo};
pub use save::save_clip;
