//! When and how the VAE tiles: diffusers' `AutoencoderKLHunyuanVideo` tiling attributes.

use hyv_frontend::{Error, Result};

/// Tile sizes in pixels / frames, as the arguments of diffusers' `enable_tiling` (and the
/// `use_*` switches of `AutoencoderKLHunyuanVideo`), with the same meaning:
///
/// * temporal (framewise) tiling runs when the input has more frames than
///   `tile_sample_min_num_frames` (latent frames: that over the temporal ratio); tiles hold
///   one frame more than that, start every `tile_sample_stride_num_frames` and are blended
///   over the difference of the two;
/// * spatial tiling runs when the input is higher or wider than `tile_sample_min_height` /
///   `tile_sample_min_width` (latents: over the spatial ratio); tiles start every stride
///   and are blended over the difference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TilingOptions {
    /// Spatial tiling (diffusers `use_tiling`, switched on by `enable_tiling()`).
    pub spatial: bool,
    /// Temporal tiling of encodes (diffusers `use_framewise_encoding`).
    pub framewise_encoding: bool,
    /// Temporal tiling of decodes (diffusers `use_framewise_decoding`).
    pub framewise_decoding: bool,
    /// One batch sample at a time (diffusers `use_slicing`).
    pub slicing: bool,
    /// Tile height in pixels.
    pub tile_sample_min_height: usize,
    /// Tile width in pixels.
    pub tile_sample_min_width: usize,
    /// Tile length in frames (tiles take one frame more).
    pub tile_sample_min_num_frames: usize,
    /// Distance between tile rows in pixels.
    pub tile_sample_stride_height: usize,
    /// Distance between tile columns in pixels.
    pub tile_sample_stride_width: usize,
    /// Distance between temporal tiles in frames.
    pub tile_sample_stride_num_frames: usize,
}

impl TilingOptions {
    /// What a fresh diffusers `AutoencoderKLHunyuanVideo` does: no spatial tiling, but
    /// framewise encoding and decoding on, with 256-px tiles at stride 192 and 16-frame
    /// tiles at stride 12 (so decodes of more than 4 latent frames are tiled in time).
    pub fn diffusers_default() -> Self {
        TilingOptions {
            spatial: false,
            framewise_encoding: true,
            framewise_decoding: true,
            slicing: false,
            tile_sample_min_height: 256,
            tile_sample_min_width: 256,
            tile_sample_min_num_frames: 16,
            tile_sample_stride_height: 192,
            tile_sample_stride_width: 192,
            tile_sample_stride_num_frames: 12,
        }
    }

    /// The official HunyuanVideo sampler's tiling (`--vae-tiling`, on by default): spatial
    /// and temporal, 256-px tiles at stride 192 and 64-frame tiles at stride 48. The
    /// official `AutoencoderKLCausal3D` tiling (overlap factor 0.25) is diffusers' algorithm
    /// with these numbers: the same windows, blend extents (64 px / 8 latent px, 16 frames /
    /// 4 latent frames) and kept extents (reference/hunyuanvideo_spec.md §2.9). It only
    /// omits diffusers' final crop, which cuts nothing when the frame count is 4k+1 and the
    /// size a multiple of 8, as HunyuanVideo requires.
    pub fn official() -> Self {
        TilingOptions {
            spatial: true,
            tile_sample_min_num_frames: 64,
            tile_sample_stride_num_frames: 48,
            ..Self::diffusers_default()
        }
    }

    /// No tiling and no slicing: every encode and decode is one call of the model.
    pub fn disabled() -> Self {
        TilingOptions {
            spatial: false,
            framewise_encoding: false,
            framewise_decoding: false,
            ..Self::diffusers_default()
        }
    }

    /// Checks the sizes the enabled kinds of tiling use: positive, strides no longer than
    /// tiles (else tiles leave gaps), and multiples of the compression ratios (so tiles
    /// map to whole latents). The error names the diffusers attribute.
    pub fn validate(&self, spatial_ratio: usize, temporal_ratio: usize) -> Result<()> {
        self.check(spatial_ratio, temporal_ratio)
            .map_err(|e| Error::Usage(format!("VAE tiling: {e}")))
    }

    /// [`TilingOptions::validate`]'s checks, the error as a message.
    fn check(
        &self,
        spatial_ratio: usize,
        temporal_ratio: usize,
    ) -> std::result::Result<(), String> {
        if spatial_ratio == 0 || temporal_ratio == 0 {
            return Err(format!(
                "VAE compression ratios must be positive, got spatial {spatial_ratio} and \
                 temporal {temporal_ratio}"
            ));
        }
        if self.spatial {
            check_axis(
                "height",
                self.tile_sample_min_height,
                self.tile_sample_stride_height,
                ("spatial", spatial_ratio),
            )?;
            check_axis(
                "width",
                self.tile_sample_min_width,
                self.tile_sample_stride_width,
                ("spatial", spatial_ratio),
            )?;
        }
        if self.framewise_encoding || self.framewise_decoding {
            check_axis(
                "num_frames",
                self.tile_sample_min_num_frames,
                self.tile_sample_stride_num_frames,
                ("temporal", temporal_ratio),
            )?;
        }
        Ok(())
    }
}

/// Checks one axis' `tile_sample_min_<axis>` (`size`) and `tile_sample_stride_<axis>`
/// (`stride`) against the named compression `ratio`.
fn check_axis(
    axis: &str,
    size: usize,
    stride: usize,
    (kind, ratio): (&str, usize),
) -> std::result::Result<(), String> {
    let (size_name, stride_name) = (
        format!("tile_sample_min_{axis}"),
        format!("tile_sample_stride_{axis}"),
    );
    for (name, value) in [(&size_name, size), (&stride_name, stride)] {
        if value == 0 || value % ratio != 0 {
            return Err(format!(
                "`{name}` must be a positive multiple of the {kind} compression ratio \
                 {ratio}, got {value}"
            ));
        }
    }
    if stride > size {
        return Err(format!(
            "`{stride_name}` ({stride}) must not exceed `{size_name}` ({size}): tiles would \
             leave gaps"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_valid_and_differ_only_where_documented() {
        for opts in [
            TilingOptions::diffusers_default(),
            TilingOptions::official(),
            TilingOptions::disabled(),
        ] {
            opts.validate(8, 4).unwrap();
        }
        let official = TilingOptions::official();
        assert!(official.spatial && official.framewise_encoding && official.framewise_decoding);
        assert_eq!(
            (
                official.tile_sample_min_height,
                official.tile_sample_stride_height,
                official.tile_sample_min_num_frames,
                official.tile_sample_stride_num_frames
            ),
            (256, 192, 64, 48)
        );
        let off = TilingOptions::disabled();
        assert!(!(off.spatial || off.framewise_encoding || off.framewise_decoding || off.slicing));
    }

    #[test]
    fn validation_names_the_attribute() {
        let base = TilingOptions {
            spatial: true,
            ..TilingOptions::diffusers_default()
        };
        let err = |opts: TilingOptions| opts.validate(8, 4).unwrap_err().to_string();
        let e = err(TilingOptions {
            tile_sample_stride_width: 264,
            ..base.clone()
        });
        assert!(
            e.contains("`tile_sample_stride_width` (264)") && e.contains("(256)"),
            "{e}"
        );
        let e = err(TilingOptions {
            tile_sample_min_height: 100,
            ..base.clone()
        });
        assert!(
            e.contains("`tile_sample_min_height`") && e.contains("ratio 8, got 100"),
            "{e}"
        );
        let e = err(TilingOptions {
            tile_sample_stride_num_frames: 0,
            ..base.clone()
        });
        assert!(
            e.contains("`tile_sample_stride_num_frames`") && e.contains("got 0"),
            "{e}"
        );
        let e = err(TilingOptions {
            tile_sample_min_num_frames: 18,
            ..base.clone()
        });
        assert!(e.contains("temporal compression ratio 4"), "{e}");
        assert!(e.starts_with("VAE tiling: "), "{e}");
        let e = base.validate(0, 4).unwrap_err().to_string();
        assert!(e.contains("spatial 0"), "{e}");

        // Sizes of a disabled kind of tiling are not used, so not checked.
        let odd = TilingOptions {
            tile_sample_min_height: 7,
            tile_sample_min_num_frames: 3,
            ..TilingOptions::disabled()
        };
        odd.validate(8, 4).unwrap();
    }
}
