//! Parity of the tiled VAE with diffusers: `tests/fixtures/vae/tiny_tiled/` holds diffusers'
//! tiny-config `AutoencoderKLHunyuanVideo` (random weights) with its encode moments and
//! decode of a 17×48×48 video / 5×6×6 latent, tiled with small tiles (32 px at stride 24,
//! 8 frames at stride 4, so both spatial and temporal tiling run, nested) and untiled. The
//! encoder and the decoder run per tile through `ModelTileRunner` on the reference backend.

mod common;

use common::rel_l2;
use hyv_backend_reference::ReferenceBackend;
use hyv_frontend::{Backend, HostTensor, Mode, Model, Runner, Session, Weights};
use hyv_models::hunyuan_vae::tiling::{
    decode_tile_count, encode_tile_count, tiled_decode, tiled_encode, ModelTileRunner,
    TilingOptions,
};
use hyv_models::hunyuan_vae::{
    HunyuanVideoVaeDecoder, HunyuanVideoVaeEncoder, VaeConfig, VaeOptions,
};
use hyv_runtime::{read_safetensors, WeightStore};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

/// Tolerance of hyv's outputs against diffusers' (f32).
const TOL: f64 = 1e-4;

struct Fixture {
    config: VaeConfig,
    checkpoint: PathBuf,
    /// diffusers' tiling attributes of the tiled outputs (meta.json `tiling`).
    tiling: TilingOptions,
    inputs: BTreeMap<String, HostTensor>,
    outputs: BTreeMap<String, HostTensor>,
}

fn fixture() -> Fixture {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vae/tiny_tiled");
    Fixture {
        config: VaeConfig::from_json_file(dir.join("config.json")).unwrap(),
        checkpoint: dir.join("diffusion_pytorch_model.safetensors"),
        tiling: tiling_from_meta(&dir.join("meta.json")),
        inputs: read_safetensors(dir.join("inputs.safetensors")).unwrap(),
        outputs: read_safetensors(dir.join("outputs.safetensors")).unwrap(),
    }
}

/// The `tiling` entry of a fixture's meta.json (diffusers' attribute names).
fn tiling_from_meta(path: &Path) -> TilingOptions {
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let t = &meta["tiling"];
    let size = |key: &str| t[key].as_u64().unwrap_or_else(|| panic!("tiling.{key}")) as usize;
    let flag = |key: &str| t[key].as_bool().unwrap_or_else(|| panic!("tiling.{key}"));
    TilingOptions {
        spatial: flag("use_tiling"),
        framewise_encoding: flag("use_framewise_encoding"),
        framewise_decoding: flag("use_framewise_decoding"),
        slicing: false,
        tile_sample_min_height: size("tile_sample_min_height"),
        tile_sample_min_width: size("tile_sample_min_width"),
        tile_sample_min_num_frames: size("tile_sample_min_num_frames"),
        tile_sample_stride_height: size("tile_sample_stride_height"),
        tile_sample_stride_width: size("tile_sample_stride_width"),
        tile_sample_stride_num_frames: size("tile_sample_stride_num_frames"),
    }
}

/// hyv's `moments_tiled` and `decoded_tiled` for the fixture's inputs, tiled as diffusers
/// was, in `mode`; checks that the runner was called as often as the counts say.
fn run_tiled(f: &Fixture, mode: Mode) -> BTreeMap<&'static str, HostTensor> {
    let backend: Arc<dyn Backend> = Arc::new(ReferenceBackend::new());
    let session = |model: Rc<dyn Model>, weights: Weights| {
        Session::new(Runner::new(mode, backend.clone()), model, weights)
    };
    let store = || WeightStore::open(&f.checkpoint).unwrap();
    let options = VaeOptions::default();
    let encoder = session(
        Rc::new(HunyuanVideoVaeEncoder::new(f.config.clone(), options).unwrap()),
        HunyuanVideoVaeEncoder::weights(store()),
    );
    let decoder = session(
        Rc::new(HunyuanVideoVaeDecoder::new(f.config.clone(), options).unwrap()),
        HunyuanVideoVaeDecoder::weights(store()),
    );
    let calls = Cell::new(0);
    let count = || calls.set(calls.get() + 1);
    let mut runner = ModelTileRunner::new(Some(&encoder), Some(&decoder)).on_tile(&count);
    let (sr, tr) = (
        f.config.spatial_compression_ratio,
        f.config.temporal_compression_ratio,
    );
    let (sample, latent) = (&f.inputs["sample"], &f.inputs["latent"]);
    let moments = tiled_encode(&mut runner, sample, &f.tiling, sr, tr).unwrap();
    let decoded = tiled_decode(&mut runner, latent, &f.tiling, sr, tr).unwrap();
    // Nested temporal × spatial tiling: 5 windows of 2 × 2 tiles each way.
    let counts = [
        encode_tile_count(sample.shape().dims(), &f.tiling, sr, tr),
        decode_tile_count(latent.shape().dims(), &f.tiling, sr, tr),
    ];
    assert_eq!(counts, [20, 20]);
    assert_eq!(calls.get(), 40);
    // Graph mode compiles once per distinct tile shape: window lengths 9, 5, 1 frames
    // (latents 3, 2, 1) × tile sizes 32 / 24 px (latents 4 / 3) in each direction.
    let compiled = [encoder.compilations(), decoder.compilations()];
    assert_eq!(
        compiled,
        if mode == Mode::Graph {
            [12, 12]
        } else {
            [0, 0]
        }
    );
    BTreeMap::from([("moments_tiled", moments), ("decoded_tiled", decoded)])
}

/// The tiled outputs match diffusers', and differ from diffusers' untiled outputs exactly
/// as much as diffusers' tiled outputs do. That difference is large here (rel. L2 ≈ 1.03
/// for the moments, 1.15 for the decode): the tiles are tiny (4×4 latents, 2 latent
/// frames), the weights random, and each tile has its own GroupNorm statistics and frame
/// attention, so tiles of this VAE see different functions, not just different borders.
fn check(f: &Fixture, mode: Mode) {
    for (name, got) in run_tiled(f, mode) {
        let err = rel_l2(&got, &f.outputs[name]);
        println!("{mode:?} {name}: rel L2 vs diffusers {err:.3e}");
        assert!(err <= TOL, "{mode:?} {name}: rel L2 {err:.3e}");
        let untiled = &f.outputs[&name.replace("tiled", "untiled")];
        let (ours, theirs) = (rel_l2(&got, untiled), rel_l2(&f.outputs[name], untiled));
        println!("{mode:?} {name}: vs untiled rel L2 {ours:.4} (diffusers {theirs:.4})");
        assert!((ours - theirs).abs() <= 1e-3 * theirs, "{mode:?} {name}");
    }
}

#[test]
fn tiled_vae_matches_diffusers_in_graph_mode() {
    check(&fixture(), Mode::Graph);
}

#[test]
fn tiled_vae_matches_diffusers_in_eager_mode() {
    check(&fixture(), Mode::Eager);
}
