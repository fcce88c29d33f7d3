//! End-to-end tests of `hyv sample` and `hyv text-encode` on the tiny model folder of the
//! pipeline fixture (random weights, so the videos are noise-like; numerical parity with
//! diffusers is tests/pipeline_parity.rs): a playable mp4 with the requested frame count
//! (ffprobe), embeddings files, TeaCache's report, and the errors users hit.

#[path = "support/cli.rs"]
mod cli;
#[path = "support/media_tools.rs"]
mod media_tools;
use cli::{hyv, text};
use media_tools::ffprobe_frames;

use std::path::{Path, PathBuf};

fn model_dir() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/pipeline/tiny/model")
        .display()
        .to_string()
}

fn files_with_extension(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    found.sort();
    found
}

const SMALL: [&str; 10] = [
    "--height",
    "32",
    "--width",
    "48",
    "--video-length",
    "9",
    "--infer-steps",
    "3",
    "--prompt-template",
    "none",
];

#[test]
fn sample_writes_a_playable_video_with_the_requested_frames() {
    let dir = tempfile::tempdir().unwrap();
    let save = dir.path().join("out");
    let model = model_dir();
    let mut args = vec![
        "sample",
        "--prompt",
        "a red/blue ball",
        "--model-dir",
        &model,
        "--seed",
        "7",
        "--save-latents",
        "--save-path",
        save.to_str().unwrap(),
        "--text-len",
        "16",
    ];
    args.extend(SMALL);
    let out = hyv(&args);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("time: text encode"), "{}", text(&out));
    let videos = files_with_extension(&save, "mp4");
    assert_eq!(videos.len(), 1, "{}", text(&out));
    let name = videos[0].file_name().unwrap().to_string_lossy().to_string();
    assert!(
        name.ends_with("_seed7_a redblue ball.mp4"),
        "unexpected name {name}"
    );
    assert_eq!(ffprobe_frames(&videos[0]), 9);
    assert_eq!(files_with_extension(&save, "safetensors").len(), 1);
}

#[test]
fn text_encode_then_sample_from_the_cache_with_teacache() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("data.csv");
    std::fs::write(
        &csv,
        "video,caption\nclips/a.b.mp4,a cat on a mat\nclips/c.mp4,\nd.mp4,\"dogs, running\"\n",
    )
    .unwrap();
    let cache = dir.path().join("emb");
    let model = model_dir();
    let encode = |extra: &[&str]| {
        let mut args = vec![
            "text-encode",
            "--data-file-path",
            csv.to_str().unwrap(),
            "--output-path",
            cache.to_str().unwrap(),
            "--model-dir",
            &model,
            "--prompt-template",
            "none",
            "--text-len",
            "16",
        ];
        args.extend_from_slice(extra);
        hyv(&args)
    };
    let out = encode(&["--batch-size", "2"]);
    // The empty caption is reported and makes the run fail, after the other rows are done.
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("empty caption for clips/c.mp4"),
        "{}",
        text(&out)
    );
    for f in [
        "empty_string_text_embeddings.safetensors",
        "clips/a.b.safetensors",
        "d.safetensors",
    ] {
        assert!(cache.join(f).is_file(), "{f} missing: {}", text(&out));
    }
    let again = encode(&[]);
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("3 already done (skipped)"),
        "a re-run skips what is done: {}",
        text(&again)
    );

    let save = dir.path().join("out");
    let embeds = cache.join("d.safetensors");
    let mut args = vec![
        "sample",
        "--text-embed-path",
        embeds.to_str().unwrap(),
        "--model-dir",
        &model,
        "--seed",
        "3",
        "--save-path",
        save.to_str().unwrap(),
        "--enable-teacache",
        "--teacache-thresh",
        "10",
    ];
    args.extend(SMALL);
    let out = hyv(&args);
    assert!(out.status.success(), "{}", text(&out));
    // First and last steps always compute; a huge threshold skips the middle one.
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("teacache: 2 model evaluations computed, 1 skipped"),
        "{}",
        text(&out)
    );
    assert_eq!(ffprobe_frames(&files_with_extension(&save, "mp4")[0]), 9);
}

#[test]
fn bad_model_dirs_sizes_and_tokenizers_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let save = dir.path().join("out");
    let run = |model: &str, sizes: [&str; 4]| {
        let mut args = vec![
            "sample",
            "--prompt",
            "x",
            "--model-dir",
            model,
            "--save-path",
            save.to_str().unwrap(),
            "--video-length",
            "9",
            "--infer-steps",
            "1",
        ];
        args.extend(sizes);
        hyv(&args)
    };
    let ok_sizes = ["--height", "32", "--width", "32"];

    let missing = dir.path().join("nope");
    let out = run(missing.to_str().unwrap(), ok_sizes);
    assert!(!out.status.success());
    assert!(text(&out).contains("no such folder"), "{}", text(&out));

    // A copy of the model without the Llama tokenizer.
    let copy = dir.path().join("model");
    copy_dir(Path::new(&model_dir()), &copy);
    std::fs::remove_file(copy.join("tokenizer/tokenizer.json")).unwrap();
    let out = run(copy.to_str().unwrap(), ok_sizes);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("tokenizer/tokenizer.json"),
        "{}",
        text(&out)
    );

    let out = run(&model_dir(), ["--height", "40", "--width", "32"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("multiple of 16"), "{}", text(&out));
    assert!(!text(&out).contains("panicked"), "{}", text(&out));
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Embeddings written by `text-encode` (with a negative prompt) drive `sample` to exactly the
/// latents that encoding the prompts in `sample` gives, with true CFG.
#[test]
fn cached_embeddings_reproduce_direct_encoding_under_true_cfg() {
    let dir = tempfile::tempdir().unwrap();
    let model = model_dir();
    let emb = dir.path().join("emb");
    let out = hyv(&[
        "text-encode",
        "--model-dir",
        &model,
        "--prompt",
        "a dog runs",
        "--negative-prompt",
        "blurry",
        "--output-path",
        emb.to_str().unwrap(),
        "--prompt-template",
        "none",
        "--text-len",
        "16",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let file = emb.join("a-dog-runs.safetensors");
    assert!(file.is_file(), "{}", text(&out));
    let sample = |save: &Path, source: &[&str]| {
        let mut args = vec![
            "sample",
            "--model-dir",
            &model,
            "--seed",
            "5",
            "--cfg-scale",
            "2.5",
            "--save-latents",
            "--save-path",
            save.to_str().unwrap(),
            "--text-len",
            "16",
        ];
        args.extend_from_slice(source);
        args.extend(SMALL);
        let out = hyv(&args);
        assert!(out.status.success(), "{}", text(&out));
        std::fs::read(&files_with_extension(save, "safetensors")[0]).unwrap()
    };
    let direct = sample(
        &dir.path().join("direct"),
        &["--prompt", "a dog runs", "--negative-prompt", "blurry"],
    );
    let cached = sample(
        &dir.path().join("cached"),
        &["--text-embed-path", file.to_str().unwrap()],
    );
    assert!(
        direct == cached,
        "latents differ between cached and direct embeddings"
    );
}

/// A model folder whose `tokenizer_2/` is a slow CLIP tokenizer save (vocab.json +
/// merges.txt, no tokenizer.json), as diffusers downloads often are, samples as is.
#[test]
fn a_slow_clip_tokenizer_folder_samples_as_is() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("model");
    copy_dir(Path::new(&model_dir()), &copy);
    std::fs::remove_dir_all(copy.join("tokenizer_2")).unwrap();
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/text_encoders/tiny/tokenizer_2_slow"),
        &copy.join("tokenizer_2"),
    );
    assert!(!copy.join("tokenizer_2/tokenizer.json").exists());
    let save = dir.path().join("out");
    let mut args = vec![
        "sample",
        "--prompt",
        "a cat",
        "--model-dir",
        copy.to_str().unwrap(),
        "--seed",
        "1",
        "--save-path",
        save.to_str().unwrap(),
    ];
    args.extend(SMALL);
    let out = hyv(&args);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(ffprobe_frames(&files_with_extension(&save, "mp4")[0]), 9);
}
