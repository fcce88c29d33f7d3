//! Encoding a clip to H.264 (libx264, yuv420p) in an MP4/MOV/MKV container, atomically.

use super::setup::{init, utf8_path};
use crate::paths::extension;
use crate::{Clip, MediaError, Result};
use ffmpeg::format::Pixel;
use ffmpeg::software::scaling;
use ffmpeg::{codec, color, encoder, format, frame, Dictionary, Packet, Rational};
use ffmpeg_next as ffmpeg;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// libx264 constant rate factor: 18 is visually lossless for most content.
const CRF: &str = "18";
/// libx264 speed/size trade-off.
const PRESET: &str = "medium";

/// Writes `clip` (already checked) to `path` (one of the [`WRITABLE`](super::WRITABLE)
/// extensions) as H.264 at `clip.fps` with exactly `clip.num_frames` frames. The file is written under a temporary name in the same folder
/// (created if missing) and renamed when complete; on failure the temporary is removed.
///
/// yuv420p stores chroma at half resolution, so the width and height must be even: an odd
/// size is an error rather than a silent pad or crop that would change the clip's shape.
pub(crate) fn write_video(path: &Path, clip: &Clip) -> Result<()> {
    init();
    let ext = extension(path);
    if !clip.width.is_multiple_of(2) || !clip.height.is_multiple_of(2) {
        return Err(MediaError::unsupported(
            path,
            format!(
                "H.264 (yuv420p) needs an even width and height, but the clip is {}x{} \
                 (height x width); crop or resize it first",
                clip.height, clip.width
            ),
        ));
    }
    if !(clip.fps.is_finite() && clip.fps > 0.0) {
        return Err(MediaError::Invalid(format!(
            "cannot write {}: fps must be a positive number, got {}",
            path.display(),
            clip.fps
        )));
    }
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir).map_err(|e| MediaError::io(dir, e))?;
    }
    let tmp = temp_path(path, &ext);
    let written = encode(path, &tmp, clip)
        .and_then(|()| {
            std::fs::File::open(&tmp)
                .and_then(|f| f.sync_all())
                .map_err(|e| MediaError::io(&tmp, e))
        })
        .and_then(|()| std::fs::rename(&tmp, path).map_err(|e| MediaError::io(path, e)));
    if written.is_err() {
        // Best effort: the temporary is garbage either way.
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// A hidden name next to `path`, unique in this process, ending in the same extension so
/// that ffmpeg picks the same muxer.
fn temp_path(path: &Path, ext: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    path.with_file_name(format!(
        ".{name}.{}-{}.tmp.{ext}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ))
}

/// Encodes `clip` into the file `tmp`; errors name `path`, the file the user asked for.
fn encode(path: &Path, tmp: &Path, clip: &Clip) -> Result<()> {
    let fail = |e: ffmpeg::Error| MediaError::encode(path, e);
    let mut output = format::output(utf8_path(tmp)?).map_err(fail)?;
    let codec = encoder::find_by_name("libx264").ok_or_else(|| {
        MediaError::encode(
            path,
            "this FFmpeg has no libx264 encoder (install one built with it)",
        )
    })?;
    let (w, h) = (clip.width as u32, clip.height as u32);
    let rate = Rational::from(clip.fps).reduce();
    if rate.numerator() <= 0 || rate.denominator() <= 0 {
        return Err(MediaError::Invalid(format!(
            "cannot write {}: fps {} has no usable rational form",
            path.display(),
            clip.fps
        )));
    }
    let time_base = rate.invert();

    let mut context = codec::context::Context::new_with_codec(codec)
        .encoder()
        .video()
        .map_err(fail)?;
    context.set_width(w);
    context.set_height(h);
    context.set_format(Pixel::YUV420P);
    context.set_time_base(time_base);
    context.set_frame_rate(Some(rate));
    // swscale converts with BT.601 limited-range coefficients; say so in the stream.
    context.set_colorspace(color::Space::SMPTE170M);
    context.set_color_range(color::Range::MPEG);
    if output
        .format()
        .flags()
        .contains(format::Flags::GLOBAL_HEADER)
    {
        context.set_flags(codec::Flags::GLOBAL_HEADER);
    }
    let mut options = Dictionary::new();
    options.set("preset", PRESET);
    options.set("crf", CRF);
    let mut encoder = context.open_with(options).map_err(fail)?;

    let stream_index = {
        let mut stream = output.add_stream(codec).map_err(fail)?;
        stream.set_parameters(&encoder);
        stream.set_time_base(time_base);
        stream.set_avg_frame_rate(rate);
        stream.index()
    };
    output.write_header().map_err(fail)?;
    let stream_time_base = output
        .stream(stream_index)
        .map(|s| s.time_base())
        .ok_or_else(|| MediaError::encode(path, "the muxer lost the video stream"))?;
    let mux = |encoder: &mut encoder::Video, output: &mut format::context::Output| {
        let mut packet = Packet::empty();
        loop {
            match encoder.receive_packet(&mut packet) {
                Ok(()) => {
                    packet.set_stream(stream_index);
                    // libx264 leaves durations at 0, and the MP4 edit list then drops the
                    // last frame; every packet is one frame of `time_base`.
                    packet.set_duration(1);
                    packet.rescale_ts(time_base, stream_time_base);
                    packet.write_interleaved(output).map_err(fail)?;
                }
                Err(ffmpeg::Error::Eof) => return Ok(()),
                Err(ffmpeg::Error::Other { errno }) if errno == ffmpeg::error::EAGAIN => {
                    return Ok(())
                }
                Err(e) => return Err(fail(e)),
            }
        }
    };

    // The ffmpeg command line's conversion (bicubic chroma filter, BT.601 coefficients).
    let flags = scaling::Flags::BICUBIC;
    let mut scaler =
        scaling::Context::get(Pixel::RGB24, w, h, Pixel::YUV420P, w, h, flags).map_err(fail)?;
    let mut rgb = frame::Video::new(Pixel::RGB24, w, h);
    let row = clip.width * 3;
    for (index, pixels) in clip.frames.chunks_exact(clip.frame_len()).enumerate() {
        let stride = rgb.stride(0);
        let data = rgb.data_mut(0);
        for (y, src) in pixels.chunks_exact(row).enumerate() {
            data[y * stride..y * stride + row].copy_from_slice(src);
        }
        let mut yuv = frame::Video::empty();
        scaler.run(&rgb, &mut yuv).map_err(fail)?;
        yuv.set_pts(Some(index as i64));
        encoder.send_frame(&yuv).map_err(fail)?;
        mux(&mut encoder, &mut output)?;
    }
    encoder.send_eof().map_err(fail)?;
    mux(&mut encoder, &mut output)?;
    output.write_trailer().map_err(fail)
}
