//! Decoding a video file to RGB24 frames: demux → decode → swscale, keeping only the frames
//! the [`LoadOptions`] ask for and resizing/cropping each as it arrives.

use super::setup::{frame_rate, open_input};
use crate::{transform, Clip, LoadOptions, MediaError, Result};
use ffmpeg::format::Pixel;
use ffmpeg::software::scaling;
use ffmpeg::{codec, decoder, frame, media, threading, Packet};
use ffmpeg_next as ffmpeg;
use std::path::Path;

/// Consecutive unreadable packets after which a file is treated as broken.
const MAX_BAD_PACKETS: usize = 1000;

/// Reads the frames of the best video stream of `path` selected by `opts` (already
/// validated). The clip's fps is the stream's rate divided by the sample rate.
pub(crate) fn read_video(path: &Path, opts: &LoadOptions) -> Result<Clip> {
    let mut input = open_input(path)?;
    let stream = input
        .streams()
        .best(media::Type::Video)
        .ok_or_else(|| MediaError::decode(path, "the file has no video stream"))?;
    let index = stream.index();
    let fps = frame_rate(&stream);
    let mut context = codec::context::Context::from_parameters(stream.parameters())
        .map_err(|e| MediaError::decode(path, e))?;
    // Frame threads with an automatic count, as the ffmpeg command line uses.
    context.set_threading(threading::Config {
        kind: threading::Type::Frame,
        count: 0,
        ..Default::default()
    });
    let mut decoder = context
        .decoder()
        .video()
        .map_err(|e| MediaError::decode(path, e))?;

    let mut sink = Sink::new(path, opts);
    let mut packet = Packet::empty();
    let mut bad_packets = 0;
    while !sink.is_done() {
        match packet.read(&mut input) {
            Ok(()) => bad_packets = 0,
            Err(ffmpeg::Error::Eof) => break,
            // A demuxer can resync past a corrupt packet.
            Err(ffmpeg::Error::InvalidData) if bad_packets < MAX_BAD_PACKETS => {
                bad_packets += 1;
                continue;
            }
            Err(e) => return Err(MediaError::decode(path, e)),
        }
        if packet.stream() != index {
            continue;
        }
        match decoder.send_packet(&packet) {
            // A damaged packet loses its frames, as with the ffmpeg command line.
            Ok(()) | Err(ffmpeg::Error::InvalidData) => {}
            Err(e) => return Err(MediaError::decode(path, e)),
        }
        sink.drain(&mut decoder)?;
    }
    if !sink.is_done() {
        decoder
            .send_eof()
            .map_err(|e| MediaError::decode(path, e))?;
        sink.drain(&mut decoder)?;
    }
    sink.finish(fps / opts.sample_rate as f64)
}

/// Collects the selected frames of one decode.
struct Sink<'a> {
    path: &'a Path,
    opts: &'a LoadOptions,
    scaler: Option<scaling::Context>,
    /// Frames decoded so far.
    decoded: usize,
    /// Frames kept so far.
    kept: usize,
    /// Output frame size: the crop, else the first kept frame's size.
    size: Option<(usize, usize)>,
    frames: Vec<u8>,
}

impl<'a> Sink<'a> {
    fn new(path: &'a Path, opts: &'a LoadOptions) -> Self {
        Sink {
            path,
            opts,
            scaler: None,
            decoded: 0,
            kept: 0,
            size: opts.crop(),
            frames: Vec::new(),
        }
    }

    fn is_done(&self) -> bool {
        self.opts.is_done(self.kept)
    }

    /// Takes every frame the decoder has ready.
    fn drain(&mut self, decoder: &mut decoder::Video) -> Result<()> {
        let mut decoded = frame::Video::empty();
        loop {
            match decoder.receive_frame(&mut decoded) {
                Ok(()) => self.push(&decoded)?,
                Err(ffmpeg::Error::Eof) => return Ok(()),
                Err(ffmpeg::Error::Other { errno }) if errno == ffmpeg::error::EAGAIN => {
                    return Ok(())
                }
                Err(e) => return Err(MediaError::decode(self.path, e)),
            }
        }
    }

    fn push(&mut self, decoded: &frame::Video) -> Result<()> {
        let index = self.decoded;
        self.decoded += 1;
        if !self.opts.keeps(index, self.kept) {
            return Ok(());
        }
        let (h, w) = (decoded.height() as usize, decoded.width() as usize);
        let rgb = self.convert(decoded)?;
        let (out_h, out_w) = *self.size.get_or_insert((h, w));
        if (h, w) == (out_h, out_w) {
            self.frames.extend_from_slice(&rgb);
        } else {
            // A crop was asked for, or the stream changed size midway.
            self.frames
                .extend(transform::resize_center_crop(&rgb, h, w, out_h, out_w));
        }
        self.kept += 1;
        Ok(())
    }

    /// The frame as packed RGB24 (`H×W×3`), converted by swscale with the settings of the
    /// ffmpeg command line (bicubic chroma upsampling, BT.601 coefficients for YUV): the bytes
    /// equal `ffmpeg -i FILE -pix_fmt rgb24`'s.
    fn convert(&mut self, decoded: &frame::Video) -> Result<Vec<u8>> {
        let (format, w, h) = (decoded.format(), decoded.width(), decoded.height());
        let stale = self.scaler.as_ref().is_none_or(|s| {
            let i = s.input();
            (i.format, i.width, i.height) != (format, w, h)
        });
        if stale {
            let flags = scaling::Flags::BICUBIC;
            let scaler =
                scaling::Context::get(format, w, h, Pixel::RGB24, w, h, flags).map_err(|e| {
                    MediaError::decode(
                        self.path,
                        format!("cannot convert {format:?} {w}x{h} frames to RGB: {e}"),
                    )
                })?;
            self.scaler = Some(scaler);
        }
        let mut rgb = frame::Video::empty();
        if let Some(scaler) = self.scaler.as_mut() {
            scaler
                .run(decoded, &mut rgb)
                .map_err(|e| MediaError::decode(self.path, e))?;
        }
        let row = w as usize * 3;
        let stride = rgb.stride(0);
        let data = rgb.data(0);
        let mut out = Vec::with_capacity(row * h as usize);
        for y in 0..h as usize {
            out.extend_from_slice(&data[y * stride..y * stride + row]);
        }
        Ok(out)
    }

    /// The clip, or the error for a clip that is too short.
    fn finish(mut self, fps: f64) -> Result<Clip> {
        let (h, w) = match self.size {
            Some(size) if self.kept > 0 => size,
            _ => {
                return Err(MediaError::decode(
                    self.path,
                    "no video frames could be decoded",
                ))
            }
        };
        let count = self.opts.final_count(self.path, self.decoded, self.kept)?;
        self.frames.truncate(count * h * w * 3);
        Clip::new(self.frames, count, h, w, fps)
    }
}
