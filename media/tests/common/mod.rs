//! Helpers shared by the integration tests: test media made at run time with the ffmpeg
//! command line, and synthetic clips.

#![allow(dead_code)] // each test binary uses a different subset

use hyv_media::Clip;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs an ffmpeg-suite tool, failing the test with install advice when it is missing.
fn run_tool(tool: &str, args: &[&str]) -> String {
    let out = Command::new(tool).args(args).output().unwrap_or_else(|e| {
        panic!(
            "these tests need the `{tool}` command-line tool to make and check test videos, \
             and running it failed ({e}); install FFmpeg (e.g. `apt-get install ffmpeg`)"
        )
    });
    assert!(
        out.status.success(),
        "{tool} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Makes `name` in `dir`: `frames` frames of ffmpeg's `testsrc2` pattern at `width × height`
/// and `rate` fps, encoded with `codec_args` (e.g. `["-c:v", "libx264", "-pix_fmt", "yuv420p"]`).
pub fn make_video(
    dir: &Path,
    name: &str,
    width: usize,
    height: usize,
    rate: &str,
    frames: usize,
    codec_args: &[&str],
) -> PathBuf {
    let path = dir.join(name);
    let source = format!("testsrc2=size={width}x{height}:rate={rate}");
    let frames = frames.to_string();
    let mut args = vec![
        "-v",
        "error",
        "-y",
        "-f",
        "lavfi",
        "-i",
        &source,
        "-frames:v",
        &frames,
    ];
    args.extend_from_slice(codec_args);
    let out = path.to_str().expect("temp paths are UTF-8");
    args.push(out);
    run_tool("ffmpeg", &args);
    path
}

/// An H.264 MP4 of `frames` testsrc2 frames.
pub fn make_mp4(dir: &Path, name: &str, width: usize, height: usize, frames: usize) -> PathBuf {
    make_video(
        dir,
        name,
        width,
        height,
        "10",
        frames,
        &["-c:v", "libx264", "-pix_fmt", "yuv420p"],
    )
}

/// `(decoded frame count, r_frame_rate)` of the first video stream, as
/// `ffprobe -count_frames` reports them.
pub fn ffprobe_frames(path: &Path) -> (usize, String) {
    let out = run_tool(
        "ffprobe",
        &[
            "-v",
            "error",
            "-count_frames",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=nb_read_frames,r_frame_rate",
            "-of",
            "default=noprint_wrappers=1",
            path.to_str().expect("temp paths are UTF-8"),
        ],
    );
    let field = |key: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(key))
            .unwrap_or_else(|| panic!("ffprobe printed no {key}: {out}"))
            .to_string()
    };
    let frames = field("nb_read_frames=").parse().expect("a frame count");
    (frames, field("r_frame_rate="))
}

/// A clip whose every pixel is a function of (frame, row, column, channel).
pub fn synthetic(
    t: usize,
    h: usize,
    w: usize,
    fps: f64,
    f: impl Fn(usize, usize, usize, usize) -> u8,
) -> Clip {
    let mut frames = Vec::with_capacity(t * h * w * 3);
    for ti in 0..t {
        for y in 0..h {
            for x in 0..w {
                for c in 0..3 {
                    frames.push(f(ti, y, x, c));
                }
            }
        }
    }
    Clip::new(frames, t, h, w, fps).expect("consistent synthetic clip")
}

/// The byte `tools/golden/make_media_fixtures.py` calls `noise(index, seed)`.
pub fn noise(index: usize, seed: usize) -> u8 {
    (((index as u64 + seed as u64).wrapping_mul(2_654_435_761) % (1 << 32)) >> 24) as u8
}
