//! End-to-end tests of the `hyv` command-line program.

#[path = "support/cli.rs"]
mod cli;
use cli::{hyv, text};

use std::process::{Command, Output};

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn version_prints_the_package_version() {
    let o = hyv(&["--version"]);
    assert!(o.status.success());
    assert_eq!(
        stdout(&o).trim(),
        format!("hyv {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn text_dump_parses_back_to_the_same_graph() {
    for example in ["mlp", "attention"] {
        let o = hyv(&["dump", "--example", example, "--format", "text"]);
        assert!(o.status.success(), "{}", text(&o));
        let text = stdout(&o);
        let graph = hyv_ir::text::parse(&text).expect("dump parses");
        assert_eq!(hyv_ir::text::print(&graph).trim_end(), text.trim_end());
        assert!(text.contains("linear("), "{text}");
    }
}

#[test]
fn dot_and_ron_dumps_describe_the_graph() {
    let dot = hyv(&["dump", "--example", "mlp", "--format", "dot"]);
    assert!(dot.status.success(), "{}", text(&dot));
    let dot = stdout(&dot);
    assert!(dot.starts_with("digraph"), "{dot}");
    assert!(dot.contains("layer_norm") && dot.contains("fc1"), "{dot}");

    let ron = hyv(&["dump", "--example", "mlp", "--format", "ron"]);
    assert!(ron.status.success(), "{}", text(&ron));
    let graph = hyv_ir::ron_format::from_ron(&stdout(&ron)).expect("RON dump loads");
    assert_eq!(graph.name, "mlp");
    assert_eq!(graph.parameters().len(), 6);
}

#[test]
fn stats_print_counts_and_flops() {
    let o = hyv(&["dump", "--example", "mlp", "--stats"]);
    assert!(o.status.success(), "{}", text(&o));
    let s = stdout(&o);
    // mlp: layer norm (16 + 16), fc1 (64·16 + 64), fc2 (16·64 + 16) = 2160 parameters.
    assert!(s.contains("parameter tensors  6"), "{s}");
    assert!(s.contains("parameters         2160"), "{s}");
    // Two linears on 2·8 rows: 2·16·16·64 + 2·16·64·16 = 65536 FLOPs.
    assert!(s.contains("FLOPs contractions 65536"), "{s}");
    assert!(s.contains("nodes              12"), "{s}");
}

#[test]
fn dump_writes_files_atomically_to_out() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested").join("mlp.dot");
    let o = hyv(&[
        "dump",
        "--example",
        "mlp",
        "--format",
        "dot",
        "--out",
        path.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(std::fs::read_to_string(&path)
        .unwrap()
        .starts_with("digraph"));
    assert_eq!(
        std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
        1
    );
}

#[test]
fn run_both_modes_agree_and_dumps_every_stage() {
    let dir = tempfile::tempdir().unwrap();
    let o = hyv(&[
        "run",
        "--example",
        "attention",
        "--mode",
        "both",
        "--dump-graphs",
        dir.path().to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        stdout(&o).contains("eager and graph mode agree"),
        "{}",
        stdout(&o)
    );
    let mut files: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    // The default (reference) backend does not fuse: no `02_fused`.
    assert_eq!(files, ["00_traced.hyv", "01_canonical.hyv"]);
    for f in &files {
        let text = std::fs::read_to_string(dir.path().join(f)).unwrap();
        hyv_ir::text::parse(&text).unwrap_or_else(|e| panic!("{f} does not parse: {e}"));
    }
}

#[test]
fn dump_graphs_can_come_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_hyv"))
        .args(["run", "--example", "mlp"])
        .env("HYV_DUMP_GRAPHS", dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(dir.path().join("00_traced.hyv").exists());
}

#[test]
fn bad_input_gives_one_clear_line_and_a_failure_status() {
    let cases: [(&[&str], &str); 4] = [
        (&["dump", "--example", "nope"], "unknown example `nope`"),
        (
            &["run", "--example", "mlp", "--backend", "tpu"],
            "unknown backend `tpu`",
        ),
        (
            &[
                "run",
                "--example",
                "mlp",
                "--weights",
                "/no/such/file.safetensors",
            ],
            "/no/such/file.safetensors",
        ),
        (
            &["dump", "--example", "mlp", "--format", "svg"],
            "invalid value 'svg'",
        ),
    ];
    for (args, needle) in cases {
        let o = hyv(args);
        assert!(!o.status.success(), "{args:?} succeeded");
        let err = stderr(&o);
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(
            !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
            "{err}"
        );
    }
}

#[test]
fn wrong_weights_are_reported_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.safetensors");
    let w = hyv_ir::HostTensor::from_f32([3], vec![0.0; 3]).unwrap();
    hyv_runtime::write_safetensors(&path, [("fc1.weight", &w)]).unwrap();
    let o = hyv(&[
        "run",
        "--example",
        "mlp",
        "--weights",
        path.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("fc1.weight") && err.contains("[3]") && err.contains("[64,16]"),
        "{err}"
    );
    assert!(
        err.contains("fc2.bias"),
        "missing tensors are listed: {err}"
    );
}

#[test]
fn convert_writes_diffusers_names_and_reports_unknown_tensors() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("official.safetensors");
    let qkv = hyv_ir::HostTensor::from_f32([6, 2], (0..12).map(|i| i as f32).collect()).unwrap();
    let bias = hyv_ir::HostTensor::from_f32([4], vec![1., 2., 3., 4.]).unwrap();
    hyv_runtime::write_safetensors(
        &input,
        [
            ("double_blocks.0.img_attn_qkv.weight", &qkv),
            ("final_layer.adaLN_modulation.1.bias", &bias),
        ],
    )
    .unwrap();
    let out_dir = dir.path().join("diffusers");
    let o = hyv(&[
        "convert",
        "--input",
        input.to_str().unwrap(),
        "--output",
        out_dir.to_str().unwrap(),
        "--dtype",
        "bf16",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let out =
        hyv_runtime::read_safetensors(out_dir.join("diffusion_pytorch_model.safetensors")).unwrap();
    let k = &out["transformer_blocks.0.attn.to_k.weight"];
    assert_eq!(k.dtype(), hyv_ir::DType::BF16);
    assert_eq!(k.to_f32_vec(), vec![4., 5., 6., 7.]);
    assert_eq!(
        out["norm_out.linear.bias"].to_f32_vec(),
        vec![3., 4., 1., 2.]
    );

    hyv_runtime::write_safetensors(&input, [("vae.conv.weight", &bias)]).unwrap();
    let o = hyv(&[
        "convert",
        "--input",
        input.to_str().unwrap(),
        "--output",
        out_dir.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("vae.conv.weight"), "{}", text(&o));
}

#[test]
fn dump_stats_of_the_13b_transformer_match_the_released_model() {
    let o = hyv(&[
        "dump",
        "--model",
        "hunyuan-video-13b",
        "--height",
        "544",
        "--width",
        "960",
        "--frames",
        "129",
        "--stats",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let s = stdout(&o);
    assert!(s.contains("parameter tensors  1264"), "{s}");
    assert!(s.contains("parameters         12821012544 "), "{s}");
    let flops = |label: &str| -> f64 {
        let line = s.lines().find(|l| l.starts_with(label)).unwrap();
        line[label.len()..].trim().parse().unwrap()
    };
    // performance_anchors §6 at 544×960×129 (67,320 video + 256 text tokens):
    // linear 0.918 PF, attention 3.367 PF per forward.
    let (lin, attn) = (flops("FLOPs contractions"), flops("FLOPs attention"));
    assert!((lin / 0.918e15 - 1.0).abs() < 0.005, "{lin:e}");
    assert!((attn / 3.367e15 - 1.0).abs() < 0.005, "{attn:e}");
    assert!(s.contains("peak activations"), "{s}");
}

#[test]
fn dump_rejects_sizes_the_model_cannot_take() {
    let o = hyv(&[
        "dump", "--model", "small", "--height", "100", "--width", "96", "--stats",
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("multiples of 16"), "{}", text(&o));
    let o = hyv(&["dump", "--model", "small", "--frames", "8", "--stats"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("4k+1"), "{}", text(&o));
    let o = hyv(&["dump", "--model", "huge", "--stats"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("unknown transformer preset `huge`"),
        "{}",
        stderr(&o)
    );
}

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/dit");

#[test]
fn forward_reproduces_the_diffusers_fixture() {
    let dir = tempfile::tempdir().unwrap();
    for fixture in ["guided_padded", "unguided_refiner1"] {
        let fx = format!("{FIXTURES}/{fixture}");
        let out = dir.path().join(format!("{fixture}.safetensors"));
        let o = hyv(&[
            "forward",
            "--component",
            "transformer",
            "--weights",
            &fx,
            "--inputs",
            &format!("{fx}/inputs.safetensors"),
            "--out",
            out.to_str().unwrap(),
            "--intermediates",
        ]);
        assert!(o.status.success(), "{}", text(&o));
        let ours = hyv_runtime::read_safetensors(&out).unwrap();
        let reference = hyv_runtime::read_safetensors(format!("{fx}/outputs.safetensors")).unwrap();
        assert_eq!(ours.len(), reference.len());
        for (name, want) in &reference {
            let err = ours[name].rel_l2_error(want).unwrap();
            assert!(err <= 1e-4, "{fixture} {name}: rel. L2 error {err:e}");
        }
    }
}

#[test]
fn forward_names_missing_inputs_and_bad_weights() {
    let dir = tempfile::tempdir().unwrap();
    let fx = format!("{FIXTURES}/guided_padded");
    let mut inputs = hyv_runtime::read_safetensors(format!("{fx}/inputs.safetensors")).unwrap();
    inputs.remove("guidance");
    let partial = dir.path().join("partial.safetensors");
    hyv_runtime::write_safetensors(&partial, inputs.iter().map(|(k, v)| (k.as_str(), v))).unwrap();
    let out = dir.path().join("out.safetensors");
    let o = hyv(&[
        "forward",
        "--weights",
        &fx,
        "--inputs",
        partial.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("missing inputs") && stderr(&o).contains("guidance"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists(), "no output is written on failure");

    // A truncated checkpoint is reported with its file name.
    let bytes = std::fs::read(format!("{fx}/diffusion_pytorch_model.safetensors")).unwrap();
    let cut = dir.path().join("cut.safetensors");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let o = hyv(&[
        "forward",
        "--weights",
        cut.to_str().unwrap(),
        "--config",
        &format!("{fx}/config.json"),
        "--inputs",
        &format!("{fx}/inputs.safetensors"),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("cut.safetensors"), "{}", text(&o));
}

#[test]
fn forward_loads_sharded_checkpoints_and_rejects_wrong_shapes() {
    let dir = tempfile::tempdir().unwrap();
    let fx = format!("{FIXTURES}/unguided_refiner1");
    let weights =
        hyv_runtime::read_safetensors(format!("{fx}/diffusion_pytorch_model.safetensors")).unwrap();
    // Two shards and a diffusers-style index, as a Hugging Face download of the 13B model has.
    let names: Vec<&String> = weights.keys().collect();
    let (a, b) = names.split_at(names.len() / 2);
    let mut weight_map = serde_json::Map::new();
    for (shard, part) in [("shard-1.safetensors", a), ("shard-2.safetensors", b)] {
        hyv_runtime::write_safetensors(
            dir.path().join(shard),
            part.iter().map(|k| (k.as_str(), &weights[*k])),
        )
        .unwrap();
        for k in part {
            weight_map.insert((*k).clone(), shard.into());
        }
    }
    let index = serde_json::json!({ "metadata": {}, "weight_map": weight_map });
    std::fs::write(
        dir.path()
            .join("diffusion_pytorch_model.safetensors.index.json"),
        index.to_string(),
    )
    .unwrap();
    std::fs::copy(format!("{fx}/config.json"), dir.path().join("config.json")).unwrap();
    let out = dir.path().join("out.safetensors");
    let inputs = format!("{fx}/inputs.safetensors");
    let o = hyv(&[
        "forward",
        "--weights",
        dir.path().to_str().unwrap(),
        "--inputs",
        &inputs,
        "--out",
        out.to_str().unwrap(),
        "--mode",
        "eager",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let sample = &hyv_runtime::read_safetensors(&out).unwrap()["sample"];
    let want =
        &hyv_runtime::read_safetensors(format!("{fx}/outputs.safetensors")).unwrap()["sample"];
    assert!(sample.rel_l2_error(want).unwrap() <= 1e-4);

    // One tensor with the wrong shape: the error names it with expected and actual types.
    let mut bad = weights.clone();
    let name = "proj_out.weight";
    let t = bad[name].clone();
    let n = t.shape().numel();
    bad.insert(name.into(), t.reshape([n]).unwrap());
    let bad_file = dir.path().join("bad.safetensors");
    hyv_runtime::write_safetensors(&bad_file, bad.iter().map(|(k, v)| (k.as_str(), v))).unwrap();
    let o = hyv(&[
        "forward",
        "--weights",
        bad_file.to_str().unwrap(),
        "--config",
        &format!("{fx}/config.json"),
        "--inputs",
        &inputs,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains(name) && err.contains(&format!("f32[{n}]")),
        "{err}"
    );
}

#[test]
fn forward_in_half_precision_stays_close_to_the_f32_reference() {
    let dir = tempfile::tempdir().unwrap();
    let fx = format!("{FIXTURES}/guided_padded");
    let want =
        &hyv_runtime::read_safetensors(format!("{fx}/outputs.safetensors")).unwrap()["sample"];
    for mode in ["eager", "graph"] {
        for dtype in ["bf16", "f16"] {
            let out = dir.path().join(format!("{mode}-{dtype}.safetensors"));
            let o = hyv(&[
                "forward",
                "--weights",
                &fx,
                "--inputs",
                &format!("{fx}/inputs.safetensors"),
                "--out",
                out.to_str().unwrap(),
                "--mode",
                mode,
                "--dtype",
                dtype,
            ]);
            assert!(o.status.success(), "{}", text(&o));
            let sample = &hyv_runtime::read_safetensors(&out).unwrap()["sample"];
            assert_eq!(sample.dtype().name(), dtype);
            let err = sample.cast(hyv_ir::DType::F32).rel_l2_error(want).unwrap();
            assert!(err <= 2e-2, "{mode} {dtype}: rel. L2 error {err:e}");
        }
    }
}

/// The optimised stage of a transformer dumped for the CPU shows its fusion groups inside
/// the blocks, and parses back with them.
#[test]
fn dump_of_the_cpu_pipeline_shows_fusion_groups_in_transformer_blocks() {
    let o = hyv(&[
        "dump",
        "--model",
        "tiny",
        "--stage",
        "optimized",
        "--backend",
        "cpu",
        "--format",
        "text",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.lines()
            .any(|l| l.contains("group=") && l.contains("# transformer_blocks.0")),
        "{text}"
    );
    let graph = hyv_ir::text::parse(&text).expect("dump parses");
    assert!(graph.groups().count() > 10);
    // `--dump-graphs` writes the fusion stage after decomposition for the CPU backend.
    let dir = tempfile::tempdir().unwrap();
    let dumps = dir.path().to_str().unwrap();
    let o = hyv(&[
        "run",
        "--example",
        "mlp",
        "--backend",
        "cpu",
        "--dump-graphs",
        dumps,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    for stage in ["00_traced", "01_canonical", "02_fused"] {
        assert!(dir.path().join(format!("{stage}.hyv")).exists(), "{stage}");
    }
    let fused = std::fs::read_to_string(dir.path().join("02_fused.hyv")).unwrap();
    assert!(fused.contains("group="), "{fused}");
    assert!(!dir.path().join("03_fused.hyv").exists());
    assert!(hyv_ir::text::print(&graph).trim_end() == text.trim_end());
}
