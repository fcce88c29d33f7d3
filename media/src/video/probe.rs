//! Reading a video's frame count, rate and size without decoding it.

use super::setup::{frame_rate, open_input};
use crate::{MediaError, ProbeInfo, Result};
use ffmpeg::{codec, media, Packet};
use ffmpeg_next as ffmpeg;
use std::path::Path;

/// The best video stream's size, rate and frame count. The count is the container's
/// (`nb_frames`) or, when it has none (e.g. WebM, MKV), the number of the stream's packets,
/// both read without decoding.
pub(crate) fn probe_video(path: &Path) -> Result<ProbeInfo> {
    let mut input = open_input(path)?;
    let stream = input
        .streams()
        .best(media::Type::Video)
        .ok_or_else(|| MediaError::decode(path, "the file has no video stream"))?;
    let index = stream.index();
    let fps = frame_rate(&stream);
    let listed = usize::try_from(stream.frames()).unwrap_or(0);
    let decoder = codec::context::Context::from_parameters(stream.parameters())
        .and_then(|c| c.decoder().video())
        .map_err(|e| MediaError::decode(path, e))?;
    let (width, height) = (decoder.width() as usize, decoder.height() as usize);
    let num_frames = if listed > 0 {
        listed
    } else {
        count_packets(&mut input, index)
    };
    Ok(ProbeInfo {
        num_frames,
        fps,
        width,
        height,
    })
}

/// Packets of stream `index` up to the end of the file (or the first read error).
fn count_packets(input: &mut ffmpeg::format::context::Input, index: usize) -> usize {
    let mut packet = Packet::empty();
    let mut count = 0;
    while packet.read(input).is_ok() {
        count += usize::from(packet.stream() == index);
    }
    count
}
