//! Tiling against a stand-in VAE whose tiles are cheap and position-revealing: the windows
//! the runner receives, hand-computed blends, a literal (non-streamed) port of diffusers'
//! loops as the oracle, slicing, counts and errors.

use super::plan::{AxisPlan, Direction, Plan};
use super::volume::{narrow_host, Volume};
use super::*;
use hyv_frontend::DType;

const SR: usize = 8;
const TR: usize = 4;
const ALL: usize = usize::MAX;

/// A tile call as the stand-in saw it: direction, tile dims and the tile's origin
/// `(t, h, w)` in the whole input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Call {
    decode: bool,
    dims: [usize; 5],
    origin: [usize; 3],
}

/// What the stand-in adds to its resampled input.
#[derive(Default, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A term depending on the position inside the tile, so overlapping tiles disagree
    /// and blending shows.
    #[default]
    Local,
    /// Nothing: overlapping tiles agree, as for a translation-equivariant model.
    Plain,
    /// Every output element is the call's number (1, 2, ...), ignoring the input.
    Constant,
}

/// A stand-in VAE with ratios 8 (space) and 4 (time). Encode: causal strided subsampling
/// (latent frame k ← frame 4k, latent pixel i ← pixel 8i), channels doubled; decode: causal
/// nearest upsampling (frame f ← latent frame ⌈f/4⌉, pixel i ← latent pixel ⌊i/8⌋); plus
/// what its [`Kind`] says.
#[derive(Default)]
struct FakeVae {
    calls: Vec<Call>,
    kind: Kind,
}

/// Input whose element `(b, c, t, h, w)` encodes its position: `t·10⁴ + h·10² + w` plus
/// `c/4 + b/8` (exact in f32 for the sizes used here).
fn positional(dims: [usize; 5]) -> HostTensor {
    build(dims, |[b, c, t, h, w]| {
        (t * 10_000 + h * 100 + w) as f32 + c as f32 / 4.0 + b as f32 / 8.0
    })
}

/// A tensor of `dims` with element `f(index)`.
fn build(dims: [usize; 5], f: impl Fn([usize; 5]) -> f32) -> HostTensor {
    let mut data = Vec::with_capacity(dims.iter().product());
    for b in 0..dims[0] {
        for c in 0..dims[1] {
            for t in 0..dims[2] {
                for h in 0..dims[3] {
                    for w in 0..dims[4] {
                        data.push(f([b, c, t, h, w]));
                    }
                }
            }
        }
    }
    HostTensor::from_f32(dims, data).unwrap()
}

impl FakeVae {
    fn run(&mut self, x: &HostTensor, decode: bool) -> HostTensor {
        let d: [usize; 5] = x.shape().dims().try_into().unwrap();
        let v = Volume::from_host(x, "tile").unwrap();
        let first = v.data[0] as usize;
        self.calls.push(Call {
            decode,
            dims: d,
            origin: [first / 10_000, first / 100 % 100, first % 100],
        });
        let at = |[b, c, t, h, w]: [usize; 5]| {
            v.data[(((b * d[1] + c) * d[2] + t) * d[3] + h) * d[4] + w]
        };
        let number = self.calls.len() as f32;
        let output = |z: f32, local: usize| match self.kind {
            Kind::Local => z + 0.5 * local as f32,
            Kind::Plain => z,
            Kind::Constant => number,
        };
        let out = if decode {
            let dims = [d[0], d[1], (d[2] - 1) * TR + 1, d[3] * SR, d[4] * SR];
            build(dims, |[b, c, f, y, x]| {
                output(
                    at([b, c, f.div_ceil(TR), y / SR, x / SR]),
                    f + 2 * y + 3 * x,
                )
            })
        } else {
            let dims = [
                d[0],
                2 * d[1],
                (d[2] - 1) / TR + 1,
                d[3].div_ceil(SR),
                d[4].div_ceil(SR),
            ];
            build(dims, |[b, c, t, h, w]| {
                output(at([b, c % d[1], t * TR, h * SR, w * SR]), t + 2 * h + 3 * w)
            })
        };
        out.cast(x.dtype())
    }
}

impl VaeTileRunner for FakeVae {
    fn encode_tile(&mut self, sample: &HostTensor) -> Result<HostTensor> {
        Ok(self.run(sample, false))
    }

    fn decode_tile(&mut self, latent: &HostTensor) -> Result<HostTensor> {
        Ok(self.run(latent, true))
    }
}

/// Small tiles: 32 px at stride 24 (latents 4 / 3) and 8 frames at stride 4 (latents 2 / 1),
/// the sizes of the diffusers parity fixture.
fn small(spatial: bool, framewise: bool) -> TilingOptions {
    TilingOptions {
        spatial,
        framewise_encoding: framewise,
        framewise_decoding: framewise,
        slicing: false,
        tile_sample_min_height: 32,
        tile_sample_min_width: 32,
        tile_sample_min_num_frames: 8,
        tile_sample_stride_height: 24,
        tile_sample_stride_width: 24,
        tile_sample_stride_num_frames: 4,
    }
}

fn run(decode: bool, vae: &mut FakeVae, x: &HostTensor, opts: &TilingOptions) -> HostTensor {
    if decode {
        tiled_decode(vae, x, opts, SR, TR).unwrap()
    } else {
        tiled_encode(vae, x, opts, SR, TR).unwrap()
    }
}

/// Joins volumes along `axis` (`torch.cat`).
fn cat(parts: &[Volume], axis: usize) -> Volume {
    let mut dims = parts[0].dims;
    dims[axis] = parts.iter().map(|p| p.dims[axis]).sum();
    let outer: usize = dims[..axis].iter().product();
    let mut data = Vec::new();
    for o in 0..outer {
        for p in parts {
            let n = p.data.len() / outer;
            data.extend_from_slice(&p.data[o * n..(o + 1) * n]);
        }
    }
    Volume { dims, data }
}

/// diffusers `_encode` / `_decode` as the Python reads: every tile run first, then blended
/// in place over the full tile lists, joined with `torch.cat` and cropped.
fn oracle(vae: &mut FakeVae, plan: &Plan, x: &HostTensor) -> Volume {
    let [_, _, frames, height, width]: [usize; 5] = x.shape().dims().try_into().unwrap();
    let call = |vae: &mut FakeVae, tile: &HostTensor| {
        let out = vae.run(tile, plan.direction == Direction::Decode);
        Volume::from_host(&out, "tile").unwrap()
    };
    let spatial = |vae: &mut FakeVae, x: &HostTensor, [hp, wp]: [AxisPlan; 2]| {
        let mut rows: Vec<Vec<Volume>> = Vec::new();
        for i in (0..height).step_by(hp.stride) {
            let mut row = Vec::new();
            for j in (0..width).step_by(wp.stride) {
                let tile = narrow_host(&narrow_host(x, 3, i, hp.window).unwrap(), 4, j, wp.window);
                row.push(call(vae, &tile.unwrap()));
            }
            rows.push(row);
        }
        let mut result_rows = Vec::new();
        for i in 0..rows.len() {
            let (done, rest) = rows.split_at_mut(i);
            let row = &mut rest[0];
            let mut result_row = Vec::new();
            for j in 0..row.len() {
                if i > 0 {
                    row[j].blend_from(&done[i - 1][j], 3, hp.blend).unwrap();
                }
                if j > 0 {
                    let (left, tile) = row.split_at_mut(j);
                    tile[0].blend_from(&left[j - 1], 4, wp.blend).unwrap();
                }
                result_row.push(row[j].narrow(3, 0, hp.keep).narrow(4, 0, wp.keep));
            }
            result_rows.push(cat(&result_row, 4));
        }
        cat(&result_rows, 3)
            .narrow(3, 0, plan.out_size(height))
            .narrow(4, 0, plan.out_size(width))
    };
    if let Some(tp) = plan.temporal_for(frames) {
        let mut row = Vec::new();
        for i in (0..frames).step_by(tp.stride) {
            let tile = narrow_host(x, 2, i, tp.window).unwrap();
            let mut out = match plan.spatial_for(height, width) {
                Some(hw) => spatial(vae, &tile, hw),
                None => call(vae, &tile),
            };
            if i > 0 {
                out = out.narrow(2, 1, ALL);
            }
            row.push(out);
        }
        let mut result = vec![row[0].narrow(2, 0, tp.keep + 1)];
        for i in 1..row.len() {
            let (done, rest) = row.split_at_mut(i);
            rest[0].blend_from(&done[i - 1], 2, tp.blend).unwrap();
            result.push(rest[0].narrow(2, 0, tp.keep));
        }
        return cat(&result, 2).narrow(2, 0, plan.out_frames(frames));
    }
    match plan.spatial_for(height, width) {
        Some(hw) => spatial(vae, x, hw),
        None => call(vae, x),
    }
}

/// Every combination of tiling kinds on awkward shapes (clipped edge tiles, a last
/// temporal window of one frame, sizes that are no multiple of the ratio): the streamed
/// result equals the literal port bit for bit and makes the same calls.
#[test]
fn streamed_tiling_equals_a_literal_port_of_diffusers() {
    let decodes: &[[usize; 5]] = &[
        [1, 2, 5, 6, 6],
        [2, 2, 7, 5, 9],
        [1, 2, 3, 4, 10],
        [1, 2, 9, 3, 3],
        [1, 1, 2, 7, 4],
        [1, 1, 1, 1, 1],
    ];
    let encodes: &[[usize; 5]] = &[
        [1, 3, 17, 48, 48],
        [2, 2, 21, 40, 72],
        [1, 1, 9, 17, 50],
        [1, 1, 13, 32, 32],
        [1, 1, 1, 8, 8],
    ];
    let no_blend = TilingOptions {
        tile_sample_stride_height: 32,
        tile_sample_stride_num_frames: 8,
        ..small(true, true)
    };
    let option_sets = [
        small(true, true),
        small(true, false),
        small(false, true),
        no_blend,
    ];
    for opts in &option_sets {
        for (decode, shapes) in [(true, decodes), (false, encodes)] {
            let direction = if decode {
                Direction::Decode
            } else {
                Direction::Encode
            };
            let plan = Plan::new(direction, opts, SR, TR);
            for &dims in shapes {
                let x = positional(dims);
                let (mut a, mut b) = (FakeVae::default(), FakeVae::default());
                let got = run(decode, &mut a, &x, opts);
                let want = oracle(&mut b, &plan, &x);
                let label = format!("decode {decode} {dims:?} {opts:?}");
                assert_eq!(got.shape().dims(), &want.dims, "{label}");
                assert_eq!(got.as_f32().unwrap(), &want.data[..], "{label}");
                assert_eq!(a.calls, b.calls, "{label}");
            }
        }
    }
}

#[test]
fn runner_sees_diffusers_windows() {
    // Decode 3×6×6 latents: temporal windows [0,3) [1,3) [2,3) (2 + 1 frames every 1),
    // each split spatially at latent rows/columns 0 and 3 (4 wide, stride 3).
    let mut vae = FakeVae::default();
    let out = run(
        true,
        &mut vae,
        &positional([1, 2, 3, 6, 6]),
        &small(true, true),
    );
    assert_eq!(out.shape().dims(), &[1, 2, 9, 48, 48]);
    let mut want = Vec::new();
    for (t, len_t) in [(0, 3), (1, 2), (2, 1)] {
        for (h, len_h) in [(0, 4), (3, 3)] {
            for (w, len_w) in [(0, 4), (3, 3)] {
                want.push(Call {
                    decode: true,
                    dims: [1, 2, len_t, len_h, len_w],
                    origin: [t, h, w],
                });
            }
        }
    }
    assert_eq!(vae.calls, want);

    // Encode 13 frames of 40×40: windows of 8 + 1 frames every 4 ([0,9) [4,13) [8,13)
    // [12,13)), each split at pixels 0 and 24 (32 wide, stride 24).
    let mut vae = FakeVae::default();
    let out = run(
        false,
        &mut vae,
        &positional([1, 1, 13, 40, 40]),
        &small(true, true),
    );
    assert_eq!(out.shape().dims(), &[1, 2, 4, 5, 5]);
    let origins: Vec<_> = vae.calls.iter().map(|c| (c.origin, c.dims)).collect();
    let mut want = Vec::new();
    for (t, len_t) in [(0, 9), (4, 9), (8, 5), (12, 1)] {
        for (h, len_h) in [(0, 32), (24, 16)] {
            for (w, len_w) in [(0, 32), (24, 16)] {
                want.push(([t, h, w], [1, 1, len_t, len_h, len_w]));
            }
        }
    }
    assert_eq!(origins, want);
}

#[test]
fn temporal_blend_weights_are_hand_computed() {
    // Latent frames [0,3) decode to 9 frames of 1; [1,3) to 5 frames of 2, of which the
    // last 4 are blended over 4 frames: 1·(1 − k/4) + 2·k/4; [2,3) leaves no frame.
    let mut vae = FakeVae {
        kind: Kind::Constant,
        ..FakeVae::default()
    };
    let out = run(
        true,
        &mut vae,
        &positional([1, 1, 3, 1, 1]),
        &small(false, true),
    );
    let frames: Vec<f32> = out.to_f32_vec().chunks(64).map(|c| c[0]).collect();
    assert_eq!(frames, vec![1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.25, 1.5, 1.75]);
    assert!(out
        .to_f32_vec()
        .chunks(64)
        .all(|c| c.iter().all(|&x| x == c[0])));
    assert_eq!(vae.calls.len(), 3);
}

#[test]
fn spatial_blend_weights_are_hand_computed() {
    // 6×6 latents → tiles 1..4 at latent (0,0) (0,3) (3,0) (3,3), decoded to 32 / 24 px,
    // blended over 8 px, keeping 24 px each.
    let mut vae = FakeVae {
        kind: Kind::Constant,
        ..FakeVae::default()
    };
    let out = run(
        true,
        &mut vae,
        &positional([1, 1, 1, 6, 6]),
        &small(true, false),
    );
    assert_eq!(out.shape().dims(), &[1, 1, 1, 48, 48]);
    let v = out.to_f32_vec();
    let px = |y: usize, x: usize| v[y * 48 + x] as f64;
    for y in 0..8 {
        for x in 0..8 {
            let (fy, fx) = (y as f64 / 8.0, x as f64 / 8.0);
            // Top-right: tile 2 blended from the left with tile 1.
            assert!((px(x, 24 + y) - (1.0 + fy)).abs() < 1e-6);
            // Bottom-left: tile 3 blended from above with tile 1.
            assert!((px(24 + y, x) - (1.0 + 2.0 * fy)).abs() < 1e-6);
            // Bottom-right: tile 4 from above with (blended) tile 2, then from the left
            // with (blended) tile 3.
            let above = (1.0 + fx) * (1.0 - fy) + 4.0 * fy;
            let want = (1.0 + 2.0 * fy) * (1.0 - fx) + above * fx;
            assert!((px(24 + y, 24 + x) - want).abs() < 1e-6, "({y},{x})");
        }
    }
    assert_eq!((px(0, 0), px(23, 23), px(47, 47)), (1.0, 1.0, 4.0));
}

#[test]
fn tiles_of_a_translation_equivariant_model_blend_back_to_the_untiled_output() {
    // Overlapping tiles agree, so the blend weights (which sum to one) give back the
    // untiled values up to rounding.
    for (decode, dims) in [(true, [1, 2, 9, 13, 7]), (false, [1, 2, 33, 56, 40])] {
        let x = positional(dims);
        let plain = || FakeVae {
            kind: Kind::Plain,
            ..FakeVae::default()
        };
        let mut tiled = plain();
        let got = run(decode, &mut tiled, &x, &small(true, true));
        assert!(tiled.calls.len() > 10);
        let want = run(decode, &mut plain(), &x, &TilingOptions::disabled());
        assert!(got.rel_l2_error(&want).unwrap() < 1e-7, "decode {decode}");
    }
}

#[test]
fn untiled_inputs_make_one_call_returned_unchanged() {
    let x = positional([2, 3, 9, 16, 16]).cast(DType::BF16);
    let covering = TilingOptions {
        spatial: true,
        ..TilingOptions::diffusers_default()
    };
    for opts in [covering, TilingOptions::disabled()] {
        let mut vae = FakeVae::default();
        let out = run(false, &mut vae, &x, &opts);
        assert_eq!(vae.calls.len(), 1);
        assert_eq!(out, FakeVae::default().run(&x, false));
        let z = positional([2, 4, 4, 32, 32]);
        let mut vae = FakeVae::default();
        let out = run(true, &mut vae, &z, &opts);
        assert_eq!(vae.calls.len(), 1);
        assert_eq!(out, FakeVae::default().run(&z, true));
    }
}

#[test]
fn tiled_outputs_take_the_runner_dtype() {
    let opts = small(true, true);
    let z = positional([1, 2, 5, 6, 6]);
    let want = run(true, &mut FakeVae::default(), &z, &opts).cast(DType::BF16);
    let got = run(true, &mut FakeVae::default(), &z.cast(DType::BF16), &opts);
    assert_eq!(got.dtype(), DType::BF16);
    assert!(got.rel_l2_error(&want).unwrap() < 1e-2);
}

#[test]
fn slicing_runs_one_sample_at_a_time_with_equal_results() {
    for decode in [true, false] {
        let x = if decode {
            positional([3, 2, 5, 6, 6])
        } else {
            positional([3, 2, 17, 40, 40])
        };
        let whole_opts = small(true, true);
        let sliced_opts = TilingOptions {
            slicing: true,
            ..whole_opts.clone()
        };
        let (mut whole, mut sliced) = (FakeVae::default(), FakeVae::default());
        let a = run(decode, &mut whole, &x, &whole_opts);
        let b = run(decode, &mut sliced, &x, &sliced_opts);
        assert_eq!(a, b);
        assert_eq!(sliced.calls.len(), 3 * whole.calls.len());
        assert!(sliced.calls.iter().all(|c| c.dims[0] == 1));
        assert!(whole.calls.iter().all(|c| c.dims[0] == 3));
    }
}

/// The element-wise largest input shape among `calls` (the largest tile, as the windows
/// clip only at the ends).
fn largest_call(calls: &[Call]) -> [usize; 5] {
    let mut largest = [0; 5];
    for call in calls {
        for (l, d) in largest.iter_mut().zip(call.dims) {
            *l = (*l).max(d);
        }
    }
    largest
}

#[test]
fn tile_counts_and_largest_tiles_equal_the_runner_calls() {
    let option_sets = [
        small(true, true),
        small(false, true),
        small(true, false),
        TilingOptions {
            slicing: true,
            ..small(true, true)
        },
        TilingOptions::disabled(),
    ];
    for opts in &option_sets {
        for dims in [[2, 1, 7, 5, 9], [1, 1, 2, 4, 4], [1, 1, 3, 1, 13]] {
            let mut vae = FakeVae::default();
            run(true, &mut vae, &positional(dims), opts);
            assert_eq!(decode_tile_count(&dims, opts, SR, TR), vae.calls.len());
            assert_eq!(
                largest_decode_tile(&dims, opts, SR, TR).unwrap(),
                largest_call(&vae.calls),
                "{dims:?}"
            );
        }
        for dims in [[2, 1, 21, 40, 72], [1, 1, 8, 32, 32], [1, 1, 9, 8, 33]] {
            let mut vae = FakeVae::default();
            run(false, &mut vae, &positional(dims), opts);
            assert_eq!(encode_tile_count(&dims, opts, SR, TR), vae.calls.len());
            assert_eq!(
                largest_encode_tile(&dims, opts, SR, TR).unwrap(),
                largest_call(&vae.calls),
                "{dims:?}"
            );
        }
    }
    let full = TilingOptions::official();
    assert_eq!(
        decode_tile_count(&[1, 16, 33, 90, 160], &full, 8, 4),
        3 * 4 * 7
    );
    assert_eq!(
        encode_tile_count(&[1, 3, 129, 720, 1280], &full, 8, 4),
        3 * 4 * 7
    );
}

/// A runner whose outputs are wrong: too few dims, or shapes that vary from tile to tile.
struct Broken {
    calls: usize,
}

impl VaeTileRunner for Broken {
    fn encode_tile(&mut self, _: &HostTensor) -> Result<HostTensor> {
        Ok(HostTensor::from_f32([2, 2], vec![0.0; 4])?)
    }

    fn decode_tile(&mut self, _: &HostTensor) -> Result<HostTensor> {
        self.calls += 1;
        Ok(HostTensor::from_f32(
            [1, 1, 1, 8, self.calls],
            vec![0.0; 8 * self.calls],
        )?)
    }
}

#[test]
fn bad_inputs_options_and_outputs_are_clear_errors() {
    let opts = small(true, true);
    let mut vae = FakeVae::default();
    let err = |r: Result<HostTensor>| r.unwrap_err().to_string();

    let e = err(tiled_decode(
        &mut vae,
        &HostTensor::from_f32([2, 3], vec![0.; 6]).unwrap(),
        &opts,
        SR,
        TR,
    ));
    assert!(
        e.contains("`latent`") && e.contains("5-D") && e.contains("f32[2,3]"),
        "{e}"
    );
    let e = err(tiled_encode(
        &mut vae,
        &positional([1, 3, 0, 8, 8]),
        &opts,
        SR,
        TR,
    ));
    assert!(e.contains("`sample`") && e.contains("non-empty"), "{e}");
    let bad = TilingOptions {
        tile_sample_stride_height: 40,
        ..opts.clone()
    };
    let e = err(tiled_decode(
        &mut vae,
        &positional([1, 1, 1, 6, 6]),
        &bad,
        SR,
        TR,
    ));
    assert!(
        e.starts_with("VAE tiling:") && e.contains("tile_sample_stride_height"),
        "{e}"
    );
    assert_eq!(decode_tile_count(&[1, 1, 1, 6, 6], &bad, SR, TR), 0);
    assert_eq!(encode_tile_count(&[1, 3, 8], &opts, SR, TR), 0);
    assert!(vae.calls.is_empty());

    let mut broken = Broken { calls: 0 };
    let e = err(tiled_encode(
        &mut broken,
        &positional([1, 1, 1, 40, 40]),
        &opts,
        SR,
        TR,
    ));
    assert!(
        e.contains("encoder's output") && e.contains("f32[2,2]"),
        "{e}"
    );
    let e = err(tiled_decode(
        &mut broken,
        &positional([1, 1, 1, 6, 6]),
        &opts,
        SR,
        TR,
    ));
    assert!(e.contains("differ"), "{e}");
}
