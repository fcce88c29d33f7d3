//! The geometry of a tiled pass: when each kind of tiling applies, where tiles start, how
//! far they reach, how much of each is blended and kept, and the cropped output size — the
//! numbers diffusers derives in `_encode`, `_decode`, `tiled_encode`, `tiled_decode`,
//! `_temporal_tiled_encode` and `_temporal_tiled_decode`.

use super::TilingOptions;

/// Which half of the VAE a pass runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Pixels `[B, C, T, H, W]` → moments (encoder and `quant_conv`).
    Encode,
    /// Latents → pixels (`post_quant_conv` and decoder).
    Decode,
}

impl Direction {
    /// The input's name in errors.
    pub(crate) fn input_name(self) -> &'static str {
        match self {
            Direction::Encode => "VAE encode input `sample`",
            Direction::Decode => "VAE decode input `latent`",
        }
    }
}

/// Tiling along one axis. Windows and strides are in input units (pixels or frames when
/// encoding, latents when decoding); blend and keep extents in output units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AxisPlan {
    /// The axis is tiled only when the input is longer than this.
    pub(crate) min: usize,
    /// Input extent of a tile (clipped at the end).
    pub(crate) window: usize,
    /// Input distance between tile starts.
    pub(crate) stride: usize,
    /// Output extent blended with the previous tile.
    pub(crate) blend: usize,
    /// Output extent each tile contributes (the first temporal tile one more).
    pub(crate) keep: usize,
}

impl AxisPlan {
    /// Where tiles start along an input axis of `extent` (`range(0, extent, stride)`).
    pub(crate) fn starts(&self, extent: usize) -> impl Iterator<Item = usize> {
        (0..extent).step_by(self.stride)
    }

    /// How many tiles cover an input axis of `extent`.
    fn count(&self, extent: usize) -> usize {
        extent.div_ceil(self.stride)
    }
}

/// The tiling of one pass, built from options validated for the compression ratios.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    /// Encode or decode.
    pub(crate) direction: Direction,
    /// Temporal tiling, when enabled.
    pub(crate) temporal: Option<AxisPlan>,
    /// Spatial tiling (height, width), when enabled.
    pub(crate) spatial: Option<[AxisPlan; 2]>,
    spatial_ratio: usize,
    temporal_ratio: usize,
}

impl Plan {
    /// The plan of `direction` under `opts` (which must have passed
    /// [`TilingOptions::validate`] for these ratios).
    pub(crate) fn new(
        direction: Direction,
        opts: &TilingOptions,
        spatial_ratio: usize,
        temporal_ratio: usize,
    ) -> Plan {
        // (tile, stride) in samples and the ratio to latents → the axis plan. Encodes tile
        // the samples and blend/keep latents; decodes the other way round.
        let axis = |tile: usize, stride: usize, ratio: usize, extra: usize| {
            let (tile_in, stride_in, tile_out, stride_out) = match direction {
                Direction::Encode => (tile, stride, tile / ratio, stride / ratio),
                Direction::Decode => (tile / ratio, stride / ratio, tile, stride),
            };
            AxisPlan {
                min: tile_in,
                window: tile_in + extra,
                stride: stride_in,
                blend: tile_out - stride_out,
                keep: stride_out,
            }
        };
        let framewise = match direction {
            Direction::Encode => opts.framewise_encoding,
            Direction::Decode => opts.framewise_decoding,
        };
        Plan {
            direction,
            temporal: framewise.then(|| {
                axis(
                    opts.tile_sample_min_num_frames,
                    opts.tile_sample_stride_num_frames,
                    temporal_ratio,
                    1,
                )
            }),
            spatial: opts.spatial.then(|| {
                [
                    axis(
                        opts.tile_sample_min_height,
                        opts.tile_sample_stride_height,
                        spatial_ratio,
                        0,
                    ),
                    axis(
                        opts.tile_sample_min_width,
                        opts.tile_sample_stride_width,
                        spatial_ratio,
                        0,
                    ),
                ]
            }),
            spatial_ratio,
            temporal_ratio,
        }
    }

    /// The temporal tiling, when it applies to an input of `frames`.
    pub(crate) fn temporal_for(&self, frames: usize) -> Option<AxisPlan> {
        self.temporal.filter(|p| frames > p.min)
    }

    /// The spatial tiling, when it applies to an input of `height` × `width`.
    pub(crate) fn spatial_for(&self, height: usize, width: usize) -> Option<[AxisPlan; 2]> {
        self.spatial
            .filter(|[h, w]| height > h.min || width > w.min)
    }

    /// How many model calls one sample of input extents `[frames, height, width]` takes.
    pub(crate) fn calls(&self, [frames, height, width]: [usize; 3]) -> usize {
        let per_window = self
            .spatial_for(height, width)
            .map_or(1, |[h, w]| h.count(height) * w.count(width));
        let windows = self.temporal_for(frames).map_or(1, |t| t.count(frames));
        windows * per_window
    }

    /// The largest input window `[frames, height, width]` one model call sees for one
    /// sample of input extents `[frames, height, width]` (the peak-memory tile).
    pub(crate) fn largest_window(&self, [frames, height, width]: [usize; 3]) -> [usize; 3] {
        let frames = self
            .temporal_for(frames)
            .map_or(frames, |t| t.window.min(frames));
        match self.spatial_for(height, width) {
            Some([h, w]) => [frames, h.window.min(height), w.window.min(width)],
            None => [frames, height, width],
        }
    }

    /// Output frames of an input of `frames`: diffusers' final temporal crop.
    pub(crate) fn out_frames(&self, frames: usize) -> usize {
        match self.direction {
            Direction::Encode => (frames - 1) / self.temporal_ratio + 1,
            Direction::Decode => (frames - 1) * self.temporal_ratio + 1,
        }
    }

    /// Output height or width of an input `size`: diffusers' final spatial crop.
    pub(crate) fn out_size(&self, size: usize) -> usize {
        match self.direction {
            Direction::Encode => size / self.spatial_ratio,
            Direction::Decode => size * self.spatial_ratio,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_plans_match_the_spec_numbers() {
        // reference/hunyuanvideo_spec.md §2.9, diffusers defaults with enable_tiling().
        let opts = TilingOptions {
            spatial: true,
            ..TilingOptions::diffusers_default()
        };
        let dec = Plan::new(Direction::Decode, &opts, 8, 4);
        let t = AxisPlan {
            min: 4,
            window: 5,
            stride: 3,
            blend: 4,
            keep: 12,
        };
        let s = AxisPlan {
            min: 32,
            window: 32,
            stride: 24,
            blend: 64,
            keep: 192,
        };
        assert_eq!((dec.temporal, dec.spatial), (Some(t), Some([s, s])));
        let enc = Plan::new(Direction::Encode, &opts, 8, 4);
        let t = AxisPlan {
            min: 16,
            window: 17,
            stride: 12,
            blend: 1,
            keep: 3,
        };
        let s = AxisPlan {
            min: 256,
            window: 256,
            stride: 192,
            blend: 8,
            keep: 24,
        };
        assert_eq!((enc.temporal, enc.spatial), (Some(t), Some([s, s])));
        assert_eq!((enc.out_frames(129), enc.out_size(720)), (33, 90));
        assert_eq!((dec.out_frames(33), dec.out_size(90)), (129, 720));
    }

    #[test]
    fn official_plans_match_the_official_numbers() {
        // Official AutoencoderKLCausal3D, overlap factor 0.25 (spec §2.9): decode latent
        // tiles of 16 + 1 frames at stride 12, blend 16 frames, keep 48; encode tiles of
        // 64 + 1 frames at stride 48, blend 4 latent frames, keep 12; spatial as diffusers.
        let opts = TilingOptions::official();
        let dec = Plan::new(Direction::Decode, &opts, 8, 4);
        let t = dec.temporal.unwrap();
        assert_eq!(
            (t.min, t.window, t.stride, t.blend, t.keep),
            (16, 17, 12, 16, 48)
        );
        let [h, _] = dec.spatial.unwrap();
        assert_eq!((h.window, h.stride, h.blend, h.keep), (32, 24, 64, 192));
        let enc = Plan::new(Direction::Encode, &opts, 8, 4);
        let t = enc.temporal.unwrap();
        assert_eq!(
            (t.min, t.window, t.stride, t.blend, t.keep),
            (64, 65, 48, 4, 12)
        );
        let [_, w] = enc.spatial.unwrap();
        assert_eq!((w.window, w.stride, w.blend, w.keep), (256, 192, 8, 24));
    }

    #[test]
    fn call_counts_follow_the_trigger_conditions() {
        let opts = TilingOptions {
            spatial: true,
            ..TilingOptions::diffusers_default()
        };
        let dec = Plan::new(Direction::Decode, &opts, 8, 4);
        // 33 latent frames at stride 3 → 11 windows; 90×160 latents → 4 × 7 tiles.
        assert_eq!(dec.calls([33, 90, 160]), 11 * 4 * 7);
        // 4 latent frames and 32×32 are at the thresholds: one call.
        assert_eq!(dec.calls([4, 32, 32]), 1);
        // Higher only: tiles in both directions (range over each axis).
        assert_eq!(dec.calls([1, 33, 32]), 2 * 2);
        let enc = Plan::new(Direction::Encode, &TilingOptions::diffusers_default(), 8, 4);
        assert_eq!(enc.calls([129, 720, 1280]), 11);
        assert_eq!(enc.calls([16, 720, 1280]), 1);
        let off = Plan::new(Direction::Encode, &TilingOptions::disabled(), 8, 4);
        assert_eq!(off.calls([129, 720, 1280]), 1);
    }
}
