//! The error type of the media crate.

use std::path::PathBuf;
use thiserror::Error;

/// Result of media operations.
pub type Result<T> = std::result::Result<T, MediaError>;

/// An error while reading, writing or comparing media. Every variant that concerns a file
/// names it; option and shape errors name the offending value and what was expected.
#[derive(Debug, Error)]
pub enum MediaError {
    /// The file system refused an operation (missing file, no permission, full disk …).
    /// The I/O error is part of the message, not a chained source, so `{:#}` chains do not
    /// print it twice.
    #[error("{}: {error}", path.display())]
    Io {
        /// The file or folder concerned.
        path: PathBuf,
        /// The underlying error.
        error: std::io::Error,
    },
    /// The file could not be opened or decoded as an image or video.
    #[error("cannot decode {}: {message}", path.display())]
    Decode {
        /// The file concerned.
        path: PathBuf,
        /// What the decoder (ffmpeg or the `image` crate) said.
        message: String,
    },
    /// The clip could not be encoded or written to the file.
    #[error("cannot write {}: {message}", path.display())]
    Encode {
        /// The file concerned.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A video was requested from a build without the `ffmpeg` feature.
    #[error(
        "{}: this build has no video support (it was built without the `ffmpeg` feature); \
         rebuild with `--features ffmpeg` (needs the FFmpeg development libraries) \
         or use images (.png, .jpg, .jpeg, .webp)",
        path.display()
    )]
    NoFfmpeg {
        /// The video file concerned.
        path: PathBuf,
    },
    /// The video has fewer frames than requested.
    #[error(
        "{}: clip too short: it has {available} frames at sample rate {sample_rate} \
         ({decoded} decoded frames), but {needed} are needed",
        path.display()
    )]
    TooShort {
        /// The video file concerned.
        path: PathBuf,
        /// Frames available after sampling.
        available: usize,
        /// Frames decoded from the file.
        decoded: usize,
        /// The sample rate used.
        sample_rate: usize,
        /// Frames requested.
        needed: usize,
    },
    /// The file's format or the clip cannot be handled as asked (e.g. three frames into a
    /// PNG, an odd-sized clip into H.264, an unknown extension).
    #[error("{}: {message}", path.display())]
    Unsupported {
        /// The file concerned.
        path: PathBuf,
        /// What is not supported and what to do instead.
        message: String,
    },
    /// An option, tensor or clip has an invalid value or shape (the message names it).
    #[error("{0}")]
    Invalid(String),
}

impl MediaError {
    /// An [`MediaError::Io`] for `path`.
    pub(crate) fn io(path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        MediaError::Io {
            path: path.into(),
            error,
        }
    }

    /// A [`MediaError::Decode`] for `path`.
    pub(crate) fn decode(path: impl Into<PathBuf>, message: impl ToString) -> Self {
        MediaError::Decode {
            path: path.into(),
            message: message.to_string(),
        }
    }

    /// A [`MediaError::Encode`] for `path`.
    pub(crate) fn encode(path: impl Into<PathBuf>, message: impl ToString) -> Self {
        MediaError::Encode {
            path: path.into(),
            message: message.to_string(),
        }
    }

    /// A [`MediaError::Unsupported`] for `path`.
    pub(crate) fn unsupported(path: impl Into<PathBuf>, message: impl ToString) -> Self {
        MediaError::Unsupported {
            path: path.into(),
            message: message.to_string(),
        }
    }
}
