//! The tile loops of diffusers' `AutoencoderKLHunyuanVideo`, streamed: each tile is run,
//! blended with the (already blended) tiles above, to the left or before it, and its kept
//! corner written straight into the output. Diffusers runs every tile first and blends the
//! list in place afterwards; since a tile's blend only reads finished neighbours, blending
//! in tile order gives the same numbers while holding only the blend margins of the
//! previous row (or temporal tile) instead of every tile.

use super::plan::{AxisPlan, Direction, Plan};
use super::volume::{concat_batch, dims5, narrow_host, Canvas, Volume};
use super::VaeTileRunner;
use hyv_frontend::{DType, Error, HostTensor, Result};

/// Axes of `[B, C, T, H, W]`.
const T: usize = 2;
const H: usize = 3;
const W: usize = 4;

/// Keep everything along an axis.
const ALL: usize = usize::MAX;

/// Runs a pass over a whole batch: per sample when slicing (diffusers `use_slicing` with
/// more than one sample), else at once.
pub(crate) fn run(
    runner: &mut dyn VaeTileRunner,
    plan: Plan,
    slicing: bool,
    input: &HostTensor,
) -> Result<HostTensor> {
    let batch = dims5(input, plan.direction.input_name())?[0];
    let mut engine = Engine {
        runner,
        plan,
        dtype: None,
    };
    if slicing && batch > 1 {
        let parts = (0..batch)
            .map(|b| engine.pass(&narrow_host(input, 0, b, 1)?))
            .collect::<Result<Vec<_>>>()?;
        concat_batch(parts)
    } else {
        engine.pass(input)
    }
}

/// A runner and the plan it is driven by.
struct Engine<'r> {
    runner: &'r mut dyn VaeTileRunner,
    plan: Plan,
    /// The dtype of the runner's outputs (from its first call), which tiled results take.
    dtype: Option<DType>,
}

impl Engine<'_> {
    /// diffusers `_encode` / `_decode`: temporal tiling first, else spatial tiling, else
    /// one call whose output is returned as is.
    fn pass(&mut self, x: &HostTensor) -> Result<HostTensor> {
        let [_, _, frames, height, width] = dims5(x, self.plan.direction.input_name())?;
        let tiled = if let Some(t) = self.plan.temporal_for(frames) {
            self.temporal(x, t)?
        } else if let Some(hw) = self.plan.spatial_for(height, width) {
            self.spatial(x, hw)?
        } else {
            return self.call(x);
        };
        tiled.into_host(self.dtype.unwrap_or(DType::F32))
    }

    /// One model call on one tile.
    fn call(&mut self, tile: &HostTensor) -> Result<HostTensor> {
        let out = match self.plan.direction {
            Direction::Encode => self.runner.encode_tile(tile)?,
            Direction::Decode => self.runner.decode_tile(tile)?,
        };
        self.dtype.get_or_insert(out.dtype());
        Ok(out)
    }

    /// One model call on one tile, its output in f32 for blending.
    fn call_volume(&mut self, tile: &HostTensor) -> Result<Volume> {
        let out = self.call(tile)?;
        let what = match self.plan.direction {
            Direction::Encode => "the VAE encoder's output `moments`",
            Direction::Decode => "the VAE decoder's output `sample`",
        };
        Volume::from_host(&out, what)
    }

    /// diffusers `_temporal_tiled_encode` / `_temporal_tiled_decode`: windows of
    /// `t.window` frames every `t.stride`, each spatially tiled when large enough; every
    /// window but the first drops its first output frame, is blended with the previous
    /// one over `t.blend` frames and keeps `t.keep` frames (the first `t.keep + 1`).
    fn temporal(&mut self, x: &HostTensor, t: AxisPlan) -> Result<Volume> {
        let [_, _, frames, height, width] = dims5(x, "a temporal tile")?;
        let spatial = self.plan.spatial_for(height, width);
        let mut canvas: Option<Canvas> = None;
        let mut prev: Option<Volume> = None;
        let mut offset = 0;
        for (k, start) in t.starts(frames).enumerate() {
            let window = narrow_host(x, T, start, t.window)?;
            let mut out = match spatial {
                Some(hw) => self.spatial(&window, hw)?,
                None => self.call_volume(&window)?,
            };
            if k > 0 {
                out = out.narrow(T, 1, ALL);
            }
            if let Some(prev) = &prev {
                out.blend_from(prev, T, t.blend)?;
            }
            let canvas = canvas.get_or_insert_with(|| {
                let mut dims = out.dims;
                dims[T] = self.plan.out_frames(frames);
                Canvas::new(dims, &[T])
            });
            let keep = t.keep + usize::from(k == 0);
            let corner = canvas.paste(&out, [0, 0, offset, 0, 0], [ALL, ALL, keep, ALL, ALL])?;
            offset += corner[T];
            prev = Some(out.tail(T, t.blend));
        }
        Ok(canvas.expect("at least one window").finish())
    }

    /// diffusers `tiled_encode` / `tiled_decode`: tiles of `h.window` × `w.window` every
    /// `h.stride` / `w.stride`, each blended with the tile above (over `h.blend`) and then
    /// the tile to the left (over `w.blend`), keeping its top-left `h.keep` × `w.keep`.
    fn spatial(&mut self, x: &HostTensor, [h, w]: [AxisPlan; 2]) -> Result<Volume> {
        let [_, _, _, height, width] = dims5(x, "a spatial tile")?;
        let mut canvas: Option<Canvas> = None;
        // The bottom margins of the previous row's tiles, and the row width they made.
        let mut above: Vec<Volume> = Vec::new();
        let mut row_width: Option<usize> = None;
        let mut top = 0;
        for (i, row_start) in h.starts(height).enumerate() {
            let strip = narrow_host(x, H, row_start, h.window)?;
            let mut margins = Vec::with_capacity(above.len());
            let mut left: Option<Volume> = None;
            let (mut x_offset, mut row_height) = (0, None);
            for (j, col_start) in w.starts(width).enumerate() {
                let mut out = self.call_volume(&narrow_host(&strip, W, col_start, w.window)?)?;
                if i > 0 {
                    out.blend_from(&above[j], H, h.blend)?;
                }
                if let Some(left) = &left {
                    out.blend_from(left, W, w.blend)?;
                }
                let canvas = canvas.get_or_insert_with(|| {
                    let mut dims = out.dims;
                    dims[H] = self.plan.out_size(height);
                    dims[W] = self.plan.out_size(width);
                    Canvas::new(dims, &[H, W])
                });
                let corner = canvas.paste(
                    &out,
                    [0, 0, 0, top, x_offset],
                    [ALL, ALL, ALL, h.keep, w.keep],
                )?;
                agree(&mut row_height, corner[H], "heights of tiles in a row")?;
                x_offset += corner[W];
                margins.push(out.tail(H, h.blend));
                left = Some(out.tail(W, w.blend));
            }
            agree(&mut row_width, x_offset, "widths of tile rows")?;
            top += row_height.expect("at least one tile per row");
            above = margins;
        }
        Ok(canvas.expect("at least one tile").finish())
    }
}

/// Records `value` in `slot` or checks it equals the value recorded there: the extents
/// `torch.cat` requires equal (`what` names them in the error).
fn agree(slot: &mut Option<usize>, value: usize, what: &str) -> Result<()> {
    match *slot.get_or_insert(value) {
        v if v == value => Ok(()),
        v => Err(Error::Usage(format!(
            "VAE tiling: the kept {what} differ ({v} vs {value}); the model's tile outputs \
             do not line up"
        ))),
    }
}
