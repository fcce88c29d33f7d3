//! End-to-end tests of the VAE commands: `hyv vae reconstruct` and `hyv eval` on real clips
//! made with the ffmpeg CLI (frame counts checked with ffprobe), `hyv vae cache`, `hyv
//! forward --component vae-*` against the diffusers fixture, and the errors users hit.
//!
//! The VAE is the tiny diffusers-config fixture with random weights, so reconstructions
//! are not faithful (PSNR is low); these tests check the plumbing, shapes, frame counts and
//! errors. Numerical parity with diffusers is tests/vae_parity.rs.

#[path = "support/cli.rs"]
mod cli;
#[path = "support/media_tools.rs"]
mod media_tools;
use cli::{hyv, text};
use media_tools::{ffprobe_frames, tool};

mod common;

use common::rel_l2;
use std::path::{Path, PathBuf};
use std::process::Output;

fn fixture(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/vae")
        .join(case)
}

fn vae() -> String {
    fixture("tiny_untiled").display().to_string()
}

/// A testsrc2 clip of `frames` frames, `w`×`h`, at 24 fps.
fn make_clip(path: &Path, frames: usize, w: usize, h: usize) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let src = format!("testsrc2=size={w}x{h}:rate=24");
    let n = frames.to_string();
    tool(
        "ffmpeg",
        &[
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            &src,
            "-frames:v",
            &n,
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            path.to_str().unwrap(),
        ],
    );
}

/// `hyv vae reconstruct` of `input` at `size` (height, width, frames) plus `extra` options.
fn reconstruct(input: &Path, out: &Path, size: [&str; 3], extra: &[&str]) -> Output {
    let vae = vae();
    let mut args = vec![
        "vae",
        "reconstruct",
        "--video-path",
        input.to_str().unwrap(),
        "--rec-path",
        out.to_str().unwrap(),
        "--height",
        size[0],
        "--width",
        size[1],
        "--num-frames",
        size[2],
        "--vae",
        &vae,
    ];
    args.extend_from_slice(extra);
    hyv(&args)
}

#[test]
fn reconstruct_writes_exactly_the_requested_frames_and_eval_scores_it() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real");
    make_clip(&real.join("clip.mp4"), 12, 48, 32);
    let generated = dir.path().join("gen");
    let o = reconstruct(
        &real.join("clip.mp4"),
        &generated.join("clip.mp4"),
        ["32", "32", "9"],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("PSNR"), "{}", text(&o));
    assert_eq!(ffprobe_frames(&generated.join("clip.mp4")), 9);

    let json = dir.path().join("scores.json");
    let o = hyv(&[
        "eval",
        "--real-dir",
        real.to_str().unwrap(),
        "--gen-dir",
        generated.to_str().unwrap(),
        "--metric",
        "psnr,ssim",
        "--height",
        "32",
        "--width",
        "32",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("mean over 1 videos"), "{}", text(&o));
    let scores: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let psnr = scores["mean"]["psnr"].as_f64().unwrap();
    let ssim = scores["mean"]["ssim"].as_f64().unwrap();
    assert!(psnr > 0.0 && psnr < 100.0, "{scores}");
    assert!(ssim > -1.0 && ssim < 1.0, "{scores}");

    // A video against itself: PSNR 100 by the reference's convention, SSIM 1.
    let o = hyv(&[
        "eval",
        "--real-dir",
        real.to_str().unwrap(),
        "--gen-dir",
        real.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let scores: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(scores["mean"]["psnr"].as_f64(), Some(100.0), "{scores}");
    assert!(
        (scores["mean"]["ssim"].as_f64().unwrap() - 1.0).abs() < 1e-9,
        "{scores}"
    );
}

#[test]
fn tiled_reconstruction_runs_in_eager_and_graph_mode_with_the_same_frames() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("clip.mp4");
    make_clip(&input, 9, 48, 48);
    let mut outputs = Vec::new();
    for mode in ["eager", "graph"] {
        let out = dir.path().join(format!("{mode}.mp4"));
        let o = reconstruct(
            &input,
            &out,
            ["48", "48", "9"],
            &[
                "--mode",
                mode,
                "--tiling",
                "--tile-size",
                "32",
                "--tile-stride",
                "24",
                "--tile-frames",
                "8",
                "--tile-frame-stride",
                "4",
                "--posterior",
                "mode",
            ],
        );
        assert!(o.status.success(), "{mode}: {}", text(&o));
        assert_eq!(ffprobe_frames(&out), 9);
        outputs.push(std::fs::read(&out).unwrap());
    }
    assert_eq!(
        outputs[0], outputs[1],
        "eager and graph reconstructions differ"
    );
}

#[test]
fn reconstruct_reports_bad_inputs_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.mp4");
    make_clip(&good, 9, 32, 32);
    let garbage = dir.path().join("garbage.mp4");
    std::fs::write(&garbage, b"this is not a video").unwrap();
    let out = dir.path().join("out.mp4");
    let missing = dir.path().join("missing.mp4");
    let cases: Vec<(&Path, [&str; 3], Vec<&str>)> = vec![
        (&missing, ["32", "32", "9"], vec!["missing.mp4"]),
        (&garbage, ["32", "32", "9"], vec!["garbage.mp4"]),
        (&good, ["32", "32", "17"], vec!["good.mp4", "17"]),
        (&good, ["32", "32", "8"], vec!["4k+1"]),
        (&good, ["36", "32", "9"], vec!["36", "8"]),
    ];
    for (input, size, wanted) in cases {
        let o = reconstruct(input, &out, size, &[]);
        let all = text(&o);
        assert!(!o.status.success(), "{input:?} {size:?} succeeded: {all}");
        assert!(!all.contains("internal error"), "panic: {all}");
        for w in wanted {
            assert!(
                all.contains(w),
                "`{w}` missing for {input:?} {size:?}: {all}"
            );
        }
        assert!(!out.exists(), "an output was written for a failed run");
    }
    let o = hyv(&[
        "vae",
        "reconstruct",
        "--video-path",
        good.to_str().unwrap(),
        "--rec-path",
        out.to_str().unwrap(),
        "--vae",
        "/nonexistent/vae",
    ]);
    assert!(
        !o.status.success() && text(&o).contains("/nonexistent/vae"),
        "{}",
        text(&o)
    );
}

#[test]
fn reconstruct_folder_mirrors_the_tree_and_skips_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    make_clip(&input.join("a/one.mp4"), 9, 32, 32);
    make_clip(&input.join("b/two.v2.mp4"), 9, 32, 32);
    std::fs::write(input.join("b/broken.mp4"), b"nope").unwrap();
    let out = dir.path().join("out");
    let vae = vae();
    let o = hyv(&[
        "vae",
        "reconstruct",
        "--input-dir",
        input.to_str().unwrap(),
        "--rec-path",
        out.to_str().unwrap(),
        "--height",
        "32",
        "--width",
        "32",
        "--num-frames",
        "9",
        "--vae",
        &vae,
    ]);
    let all = text(&o);
    assert!(!o.status.success(), "a bad file must fail the batch: {all}");
    assert!(
        all.contains("broken.mp4") && all.contains("2 done"),
        "{all}"
    );
    assert_eq!(ffprobe_frames(&out.join("a/one.mp4")), 9);
    assert_eq!(ffprobe_frames(&out.join("b/two.v2.mp4")), 9);
    assert!(!out.join("b/broken.mp4").exists());
}

#[test]
fn cache_mirrors_the_tree_resumes_and_reports_bad_rows() {
    let dir = tempfile::tempdir().unwrap();
    let videos = dir.path().join("videos");
    make_clip(&videos.join("dogs/dog.1.mp4"), 10, 32, 32);
    make_clip(&videos.join("dogs/dog.2.mp4"), 5, 32, 32);
    let csv = dir.path().join("data.csv");
    std::fs::write(
        &csv,
        "video,caption\ndogs/dog.1.mp4,a dog\n,empty path\ndogs/dog.2.mp4,another dog\n",
    )
    .unwrap();
    let cache = dir.path().join("cache");
    let vae = vae();
    let run = || {
        hyv(&[
            "vae",
            "cache",
            "--input-video-dir",
            videos.to_str().unwrap(),
            "--latent-cache-dir",
            cache.to_str().unwrap(),
            "--data-file-path",
            csv.to_str().unwrap(),
            "--height",
            "32",
            "--width",
            "32",
            "--vae",
            &vae,
        ])
    };
    let o = run();
    let all = text(&o);
    assert!(!o.status.success(), "the empty row must be reported: {all}");
    assert!(
        all.contains("data.csv:3") && all.contains("2 done"),
        "{all}"
    );
    // Names with several dots keep everything but the last extension.
    let one = hyv_runtime::read_safetensors(cache.join("dogs/dog.1.safetensors")).unwrap();
    let two = hyv_runtime::read_safetensors(cache.join("dogs/dog.2.safetensors")).unwrap();
    // 10 frames are cut to 9 = 4·2+1 → 3 latent frames; 5 frames → 2; 32 px → 4.
    assert_eq!(one["latent_mean"].shape().dims(), &[4, 3, 4, 4]);
    assert_eq!(one["latent_std"].shape().dims(), &[4, 3, 4, 4]);
    assert_eq!(two["latent_mean"].shape().dims(), &[4, 2, 4, 4]);
    assert!(two["latent_std"].to_f64_vec().iter().all(|s| *s > 0.0));

    let o = run();
    assert!(text(&o).contains("0 done, 2 already done"), "{}", text(&o));
}

#[test]
fn forward_vae_components_reproduce_the_diffusers_fixture() {
    let dir = tempfile::tempdir().unwrap();
    let case = fixture("tiny_untiled");
    let inputs = hyv_runtime::read_safetensors(case.join("inputs.safetensors")).unwrap();
    let expected = hyv_runtime::read_safetensors(case.join("outputs.safetensors")).unwrap();
    for (component, input, output, reference) in [
        ("vae-encode", "sample", "moments", "moments"),
        ("vae-decode", "latent", "sample", "decoded"),
    ] {
        let feed = dir.path().join(format!("{component}-in.safetensors"));
        hyv_runtime::write_safetensors(&feed, [(input, &inputs[input])]).unwrap();
        let out = dir.path().join(format!("{component}-out.safetensors"));
        let o = hyv(&[
            "forward",
            "--component",
            component,
            "--weights",
            case.to_str().unwrap(),
            "--inputs",
            feed.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{component}: {}", text(&o));
        let got = hyv_runtime::read_safetensors(&out).unwrap();
        let err = rel_l2(&got[output], &expected[reference]);
        assert!(err <= 1e-4, "{component}: rel. L2 {err:.2e}");
    }
}

/// `peak activations N bytes` from `hyv dump --stats` output.
fn planned_peak(stats: &str) -> u64 {
    let line = stats
        .lines()
        .find(|l| l.starts_with("peak activations"))
        .unwrap_or_else(|| panic!("no peak line in {stats}"));
    line.split_whitespace().nth(2).unwrap().parse().unwrap()
}

#[test]
fn tiling_bounds_the_planned_peak_of_the_released_vae() {
    for (component, params) in [("vae-encode", "100342464"), ("vae-decode", "146136339")] {
        let mut peaks = Vec::new();
        for tiling in [false, true] {
            let mut args = vec![
                "dump",
                "--component",
                component,
                "--model",
                "hunyuan-video",
                "--height",
                "720",
                "--width",
                "1280",
                "--frames",
                "129",
                "--stats",
            ];
            if tiling {
                args.push("--tiling");
            }
            let o = hyv(&args);
            assert!(o.status.success(), "{}", text(&o));
            let stats = String::from_utf8_lossy(&o.stdout).into_owned();
            assert!(
                stats.contains(&format!("parameters         {params}")),
                "{stats}"
            );
            peaks.push(planned_peak(&stats));
        }
        // One 256-px, 64(+1)-frame tile instead of the whole 720×1280×129 video.
        assert!(peaks[1] * 10 < peaks[0], "{component}: peaks {peaks:?}");
    }
}
