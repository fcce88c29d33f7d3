//! The HunyuanVideo transformer: shape-only tracing of the 13B preset, config parsing and
//! validation, presets, strict weight loading, input checks, and eager vs graph agreement
//! on random weights.

use hyv_backend_reference::ReferenceBackend;
use hyv_frontend::{
    randn_host, trace, DType, HostTensor, Mode, Runner, TensorData, TensorType, Weights,
};
use hyv_ir::GraphStats;
use hyv_models::hunyuan_video::{
    input_names, input_types, output_names, HunyuanVideoTransformer3DModel, TransformerConfig,
    TransformerOptions, INTERMEDIATE_NAMES, PRESETS,
};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

fn model(cfg: TransformerConfig, intermediates: bool) -> HunyuanVideoTransformer3DModel {
    let options = TransformerOptions {
        dtype: DType::F32,
        intermediates,
    };
    HunyuanVideoTransformer3DModel::new(cfg, options).unwrap()
}

#[test]
fn hunyuan_video_13b_traces_with_shapes_only_and_has_12_8b_parameters() {
    let start = Instant::now();
    let cfg = TransformerConfig::preset("hunyuan-video-13b").unwrap();
    let ((f, h, w), l) = TransformerConfig::preset_input("hunyuan-video-13b").unwrap();
    assert_eq!(((f, h, w), l), ((33, 68, 120), 256));
    let model = HunyuanVideoTransformer3DModel::new(
        cfg.clone(),
        TransformerOptions {
            dtype: DType::BF16,
            intermediates: false,
        },
    )
    .unwrap();
    let inputs = input_types(&cfg, DType::BF16, 1, f, h, w, l);
    let traced = trace(&model, &Weights::ShapesOnly, &inputs).unwrap();
    let stats = GraphStats::of(&traced.graph);
    assert_eq!(stats.parameters, 12_821_012_544);
    assert_eq!(stats.parameter_tensors, 1_264);
    assert_eq!(stats.parameter_bytes, 2 * 12_821_012_544);
    let out = &traced.graph.node(traced.graph.outputs()[0]).ty;
    assert_eq!(out.dtype, DType::BF16);
    assert_eq!(out.shape.dims(), &[1, 16, 33, 68, 120]);
    assert!(
        start.elapsed().as_secs() < 60,
        "trace took {:?}",
        start.elapsed()
    );
}

#[test]
fn presets_have_the_documented_sizes() {
    assert_eq!(PRESETS, &["hunyuan-video-13b", "tiny", "small"]);
    let big = TransformerConfig::preset("hunyuan-video-13b").unwrap();
    assert_eq!(big, TransformerConfig::default());
    assert_eq!((big.inner_dim(), big.mlp_dim()), (3072, 12288));
    let tiny = TransformerConfig::preset("tiny").unwrap();
    assert_eq!((tiny.inner_dim(), tiny.mlp_dim()), (20, 80));
    assert_eq!(tiny.rope_axes_dim, vec![2, 4, 4]);
    let small = TransformerConfig::preset("small").unwrap();
    assert_eq!(
        (small.inner_dim(), small.num_layers, small.num_single_layers),
        (512, 2, 4)
    );
    assert_eq!(
        TransformerConfig::preset_input("small").unwrap(),
        ((5, 32, 32), 64)
    );
    for name in PRESETS {
        let cfg = TransformerConfig::preset(name).unwrap();
        cfg.validate().unwrap();
        let ((f, h, w), l) = TransformerConfig::preset_input(name).unwrap();
        let m = model(cfg.clone(), true);
        let traced = trace(
            &m,
            &Weights::ShapesOnly,
            &input_types(&cfg, DType::F32, 1, f, h, w, l),
        );
        let out = &traced.unwrap().graph;
        let sample = &out.node(out.outputs()[0]).ty;
        assert_eq!(
            sample.shape.dims(),
            &[1, cfg.out_channels, f, h, w],
            "{name}"
        );
        if *name == "small" {
            assert_eq!(GraphStats::of(out).parameters, 44_969_024); // the "~45M" of DESIGN.md
        }
    }
    let err = TransformerConfig::preset("huge").unwrap_err().to_string();
    assert!(err.contains("unknown transformer preset `huge`"), "{err}");
    assert!(err.contains("tiny"), "{err}");
}

#[test]
fn config_json_parses_with_diffusers_defaults_and_ignores_unknown_keys() {
    let cfg = TransformerConfig::from_json_str(
        r#"{"_class_name": "HunyuanVideoTransformer3DModel", "_diffusers_version": "0.33.0",
            "in_channels": 4, "out_channels": 4, "num_attention_heads": 2,
            "attention_head_dim": 10, "num_layers": 1, "num_single_layers": 1,
            "num_refiner_layers": 1, "patch_size": 1, "patch_size_t": 1,
            "text_embed_dim": 16, "pooled_projection_dim": 8, "rope_axes_dim": [2, 4, 4],
            "image_condition_type": null, "some_future_key": 3}"#,
    )
    .unwrap();
    assert_eq!(cfg, TransformerConfig::preset("tiny").unwrap());
}

#[test]
fn config_errors_name_the_file_and_field() {
    let dir = std::env::temp_dir().join(format!("hyv-hv-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases = [
        (r#"{"qk_norm": "layer_norm"}"#, "qk_norm"),
        (r#"{"rope_axes_dim": [16, 56, 48]}"#, "rope_axes_dim"),
        (
            r#"{"image_condition_type": "latent_concat"}"#,
            "image_condition_type",
        ),
        (r#"{"num_attention_heads": 0}"#, "num_attention_heads"),
        (r#"{"patch_size": "two"}"#, "invalid transformer config"),
    ];
    for (i, (text, field)) in cases.iter().enumerate() {
        let path = dir.join(format!("config{i}.json"));
        std::fs::write(&path, text).unwrap();
        let err = TransformerConfig::from_json_file(&path)
            .unwrap_err()
            .to_string();
        assert!(err.contains(&path.display().to_string()), "{err}");
        assert!(err.contains(field), "{err}");
    }
    let missing = dir.join("absent.json");
    let err = TransformerConfig::from_json_file(&missing)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("absent.json") && err.contains("cannot read"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn input_and_output_names_follow_the_config() {
    let mut cfg = TransformerConfig::preset("tiny").unwrap();
    assert_eq!(input_names(&cfg).len(), 6);
    cfg.guidance_embeds = false;
    assert_eq!(
        input_names(&cfg),
        vec![
            "hidden_states",
            "timestep",
            "encoder_hidden_states",
            "encoder_attention_mask",
            "pooled_projections"
        ]
    );
    assert_eq!(output_names(false), vec!["sample"]);
    assert_eq!(output_names(true).len(), 1 + INTERMEDIATE_NAMES.len());
    let tys = input_types(&cfg, DType::BF16, 2, 1, 16, 16, 12);
    assert_eq!(tys[0].1.shape.dims(), &[2, 4, 1, 16, 16]);
    assert_eq!(tys[0].1.dtype, DType::BF16);
    assert_eq!(tys[3].1.dtype, DType::F32);
}

/// The error of a shape-only trace that must fail.
fn trace_err(m: &HunyuanVideoTransformer3DModel, inputs: &[(String, TensorType)]) -> String {
    match trace(m, &Weights::ShapesOnly, inputs) {
        Ok(_) => panic!("the trace should fail"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn wrong_input_shapes_are_named() {
    let cfg = TransformerConfig::preset("small").unwrap();
    let m = model(cfg.clone(), false);
    let mut inputs = input_types(&cfg, DType::F32, 1, 5, 31, 32, 8);
    let err = trace_err(&m, &inputs);
    assert!(
        err.contains("`hidden_states`") && err.contains("patch_size 2"),
        "{err}"
    );
    inputs = input_types(&cfg, DType::F32, 1, 5, 32, 32, 8);
    inputs[4].1 = TensorType::new(DType::F32, [1, 7]);
    let err = trace_err(&m, &inputs);
    assert!(
        err.contains("`pooled_projections`") && err.contains("[1, 256]"),
        "{err}"
    );
    let err = trace_err(&m, &inputs[..3]);
    assert!(err.contains("takes 6 inputs"), "{err}");
}

/// Random inputs of the tiny config: batch 2, 12 text tokens, the second item padded after 5.
fn tiny_inputs(cfg: &TransformerConfig) -> Vec<(String, HostTensor)> {
    input_types(cfg, DType::F32, 2, 2, 4, 6, 12)
        .into_iter()
        .enumerate()
        .map(|(i, (name, ty))| {
            let value = match name.as_str() {
                "encoder_attention_mask" => HostTensor::new(
                    ty.shape.clone(),
                    TensorData::F32((0..24).map(|k| f32::from(k < 12 || k % 12 < 5)).collect()),
                )
                .unwrap(),
                "timestep" | "guidance" => {
                    HostTensor::new(ty.shape.clone(), TensorData::F32(vec![500.0, 31.0])).unwrap()
                }
                _ => randn_host(&ty, i as u64, 1.0),
            };
            (name, value)
        })
        .collect()
}

#[test]
fn eager_and_graph_agree_on_random_weights() {
    let cfg = TransformerConfig::preset("tiny").unwrap();
    let m = model(cfg.clone(), true);
    let inputs = tiny_inputs(&cfg);
    let weights = Weights::Random { seed: 7 };
    let backend = Arc::new(ReferenceBackend::new());
    let eager = Runner::new(Mode::Eager, backend.clone())
        .run(&m, &weights, &inputs)
        .unwrap();
    let graph = Runner::new(Mode::Graph, backend)
        .run(&m, &weights, &inputs)
        .unwrap();
    assert_eq!(eager.outputs.len(), 7);
    assert_eq!(eager.outputs[0].ty().shape.dims(), &[2, 4, 2, 4, 6]);
    assert_eq!(eager.outputs[1].ty().shape.dims(), &[2, 20]);
    assert_eq!(eager.outputs[2].ty().shape.dims(), &[48, 10]);
    for (e, g) in eager.outputs.iter().zip(&graph.outputs) {
        assert!(g.rel_l2_error(e).unwrap() < 1e-5);
    }
}

#[test]
fn padded_text_values_do_not_change_the_sample() {
    let cfg = TransformerConfig::preset("tiny").unwrap();
    let m = model(cfg.clone(), false);
    let mut inputs = tiny_inputs(&cfg);
    let weights = Weights::Random { seed: 3 };
    let runner = Runner::new(Mode::Eager, Arc::new(ReferenceBackend::new()));
    let before = runner.run(&m, &weights, &inputs).unwrap().outputs;
    // Change the padded text tokens of the second item (positions 5.. of row 1).
    let e = &mut inputs[2].1;
    let mut values = e.to_f32_vec();
    let (l, dim) = (12, cfg.text_embed_dim);
    for k in 5..l {
        for c in 0..dim {
            values[(l + k) * dim + c] += 3.0;
        }
    }
    *e = HostTensor::new(e.ty().shape.clone(), TensorData::F32(values)).unwrap();
    let after = runner.run(&m, &weights, &inputs).unwrap().outputs;
    assert!(after[0].rel_l2_error(&before[0]).unwrap() < 1e-6);
}

#[test]
fn strict_loading_reports_a_missing_tensor() {
    let cfg = TransformerConfig::preset("tiny").unwrap();
    let m = model(cfg.clone(), false);
    let inputs = input_types(&cfg, DType::F32, 1, 1, 16, 16, 12);
    let traced = trace(&m, &Weights::Random { seed: 0 }, &inputs).unwrap();
    let mut values: BTreeMap<String, HostTensor> = traced.params.values().unwrap();
    assert!(values.contains_key("transformer_blocks.0.attn.norm_added_k.weight"));
    assert!(
        values.contains_key("context_embedder.token_refiner.refiner_blocks.0.norm_out.linear.bias")
    );
    values.remove("single_transformer_blocks.0.proj_mlp.bias");
    let err = trace(&m, &Weights::Loaded(Rc::new(values)), &inputs)
        .err()
        .expect("a missing tensor is an error")
        .to_string();
    assert!(err.contains("missing (1)"), "{err}");
    assert!(
        err.contains("`single_transformer_blocks.0.proj_mlp.bias` (expected f32[80])"),
        "{err}"
    );
}
