//! The ffmpeg command-line tools the video tests use (each includes this file with
//! `#[path]`). A missing tool fails the test with what to install, never a silent pass.

use super::cli::text;
use std::path::Path;
use std::process::{Command, Output};

/// Runs the tool `name` with `args`, which must succeed.
pub fn tool(name: &str, args: &[&str]) -> Output {
    let out = Command::new(name).args(args).output().unwrap_or_else(|e| {
        panic!("`{name}` is needed by this test ({e}); install it: apt-get install ffmpeg")
    });
    assert!(
        out.status.success(),
        "{name} {args:?} failed: {}",
        text(&out)
    );
    out
}

/// Frames of the first video stream of `path`, counted by decoding with ffprobe.
pub fn ffprobe_frames(path: &Path) -> usize {
    let out = tool(
        "ffprobe",
        &[
            "-v",
            "error",
            "-count_frames",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=nb_read_frames",
            "-of",
            "csv=p=0",
            path.to_str().unwrap(),
        ],
    );
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}
