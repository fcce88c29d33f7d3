//! Stand-ins for a build without the `ffmpeg` feature: every call is a clear error.

use crate::{Clip, LoadOptions, MediaError, ProbeInfo, Result};
use std::path::Path;

/// Always [`MediaError::NoFfmpeg`].
pub(crate) fn read_video(path: &Path, _opts: &LoadOptions) -> Result<Clip> {
    Err(MediaError::NoFfmpeg {
        path: path.to_path_buf(),
    })
}

/// Always [`MediaError::NoFfmpeg`].
pub(crate) fn write_video(path: &Path, _clip: &Clip) -> Result<()> {
    Err(MediaError::NoFfmpeg {
        path: path.to_path_buf(),
    })
}

/// Always [`MediaError::NoFfmpeg`].
pub(crate) fn probe_video(path: &Path) -> Result<ProbeInfo> {
    Err(MediaError::NoFfmpeg {
        path: path.to_path_buf(),
    })
}
