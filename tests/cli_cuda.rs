//! `--backend cuda` without a CUDA driver: every command that runs a model fails with the
//! backend's clear error (never cudarc's panic) and a non-zero exit status. On a machine
//! with a driver the test says so and checks nothing.
#![cfg(feature = "cuda")]

#[path = "support/cli.rs"]
mod cli;

use cli::{hyv, text};

const DIT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/dit/guided_padded"
);
const PIPELINE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/pipeline/tiny/model"
);

#[test]
fn cuda_backend_without_a_driver_is_a_clear_error() {
    if hyv_backend_cuda::driver_present() {
        println!("a CUDA driver is present: the no-driver error cannot be checked here");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.safetensors");
    let inputs = format!("{DIT}/inputs.safetensors");
    let save = dir.path().join("samples");
    let commands: [&[&str]; 4] = [
        &["run", "--example", "mlp", "--backend", "cuda"],
        &[
            "forward",
            "--component",
            "transformer",
            "--weights",
            DIT,
            "--inputs",
            &inputs,
            "--out",
            out.to_str().unwrap(),
            "--backend",
            "cuda",
        ],
        &[
            "sample",
            "--prompt",
            "a ball",
            "--model-dir",
            PIPELINE,
            "--save-path",
            save.to_str().unwrap(),
            "--backend",
            "cuda",
        ],
        &["bench", "--model", "tiny", "--backend", "cpu,cuda:1"],
    ];
    for args in commands {
        let o = hyv(args);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{args:?} succeeded\n{}", text(&o));
        assert!(
            stderr.contains(
                "cuda backend: no CUDA driver found (libcuda.so / libcuda.so.1 not loadable)"
            ) && stderr.contains("--backend cpu"),
            "{args:?}\n{}",
            text(&o)
        );
        assert!(!stderr.contains("panicked"), "{args:?}\n{}", text(&o));
        assert!(!out.exists() && !save.exists(), "{args:?} wrote output");
    }
}

#[test]
fn a_bad_cuda_device_name_is_an_error() {
    let o = hyv(&["run", "--example", "mlp", "--backend", "cuda:x"]);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("bad CUDA device `x`"),
        "{}",
        text(&o)
    );
}
