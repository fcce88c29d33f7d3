//! The HunyuanVideo VAE: config parsing and validation, the frame/space mapping, preset
//! parameter counts (equal to diffusers'), strict loading of the encoder and the decoder from
//! one full checkpoint, input checks, eager vs graph agreement, and the posterior.

use hyv_backend_reference::ReferenceBackend;
use hyv_frontend::{
    randn_host, trace, DType, HostTensor, Mode, Model, Runner, TensorType, Weights,
};
use hyv_ir::GraphStats;
use hyv_models::hunyuan_vae::{
    DiagonalGaussian, HunyuanVideoVaeDecoder, HunyuanVideoVaeEncoder, VaeConfig, VaeOptions,
    VAE_PRESETS,
};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

/// diffusers' `config.json` of its tiny test VAE (reference/hunyuanvideo_spec.md §7.2).
const TINY_JSON: &str = r#"{
  "_class_name": "AutoencoderKLHunyuanVideo", "_diffusers_version": "0.42.1",
  "act_fn": "silu", "block_out_channels": [8, 8, 8, 8],
  "down_block_types": ["HunyuanVideoDownBlock3D", "HunyuanVideoDownBlock3D",
                       "HunyuanVideoDownBlock3D", "HunyuanVideoDownBlock3D"],
  "in_channels": 3, "latent_channels": 4, "layers_per_block": 1,
  "mid_block_add_attention": true, "norm_num_groups": 4, "out_channels": 3,
  "scaling_factor": 0.476986, "spatial_compression_ratio": 8,
  "temporal_compression_ratio": 4,
  "up_block_types": ["HunyuanVideoUpBlock3D", "HunyuanVideoUpBlock3D",
                     "HunyuanVideoUpBlock3D", "HunyuanVideoUpBlock3D"]
}"#;

fn tiny() -> VaeConfig {
    VaeConfig::preset("tiny").unwrap()
}

fn encoder(cfg: VaeConfig) -> HunyuanVideoVaeEncoder {
    HunyuanVideoVaeEncoder::new(cfg, VaeOptions::default()).unwrap()
}

fn decoder(cfg: VaeConfig) -> HunyuanVideoVaeDecoder {
    HunyuanVideoVaeDecoder::new(cfg, VaeOptions::default()).unwrap()
}

fn runner(mode: Mode) -> Runner {
    Runner::new(mode, Arc::new(ReferenceBackend::new()))
}

fn randn(dims: &[usize], seed: u64) -> HostTensor {
    randn_host(&TensorType::new(DType::F32, dims.to_vec()), seed, 1.0)
}

/// Every parameter value `model` declares for `input` under random weights with `seed`.
fn random_weights(
    model: &dyn Model,
    input: &[(String, TensorType)],
    seed: u64,
) -> BTreeMap<String, HostTensor> {
    trace(model, &Weights::Random { seed }, input)
        .unwrap()
        .params
        .values()
        .unwrap()
}

#[test]
fn diffusers_config_json_parses_and_ignores_unknown_keys() {
    let cfg = VaeConfig::from_json_str(TINY_JSON).unwrap();
    assert_eq!(cfg, tiny());
    // Missing keys take diffusers' defaults: the released VAE.
    let released = VaeConfig::from_json_str(r#"{"_name_or_path": "x", "future_key": 1}"#).unwrap();
    assert_eq!(released, VaeConfig::preset("hunyuan-video").unwrap());
    assert_eq!(released.block_out_channels, vec![128, 256, 512, 512]);
    assert_eq!(released.scaling_factor, 0.476986);
}

#[test]
fn config_errors_name_the_file_and_field() {
    let dir = std::env::temp_dir().join(format!("hyv-vae-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases = [
        (r#"{"norm_num_groups": 3}"#, "norm_num_groups"),
        (r#"{"act_fn": "gelu"}"#, "act_fn"),
        (
            r#"{"temporal_compression_ratio": 8}"#,
            "temporal_compression_ratio",
        ),
        (
            r#"{"spatial_compression_ratio": 6}"#,
            "spatial_compression_ratio",
        ),
        (
            r#"{"spatial_compression_ratio": 32}"#,
            "spatial_compression_ratio",
        ),
        (
            r#"{"down_block_types": ["DownEncoderBlock2D"]}"#,
            "down_block_types",
        ),
        (
            r#"{"block_out_channels": [128, 256, 512]}"#,
            "down_block_types",
        ),
        (r#"{"block_out_channels": []}"#, "block_out_channels"),
        (r#"{"latent_channels": 0}"#, "latent_channels"),
        (r#"{"scaling_factor": -1.0}"#, "scaling_factor"),
        (r#"{"layers_per_block": "two"}"#, "invalid VAE config"),
    ];
    for (i, (text, field)) in cases.iter().enumerate() {
        let path = dir.join(format!("config{i}.json"));
        std::fs::write(&path, text).unwrap();
        let err = VaeConfig::from_json_file(&path).unwrap_err().to_string();
        assert!(err.contains(&path.display().to_string()), "{err}");
        assert!(err.contains(field), "{text}: {err}");
    }
    let missing = dir.join("absent.json");
    let err = VaeConfig::from_json_file(&missing).unwrap_err().to_string();
    assert!(
        err.contains("absent.json") && err.contains("cannot read"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
    let err = VaeConfig::preset("huge").unwrap_err().to_string();
    assert!(
        err.contains("unknown VAE preset `huge`") && err.contains("tiny"),
        "{err}"
    );
}

#[test]
fn latent_dims_map_4k_plus_1_frames_and_say_what_is_expected() {
    let cfg = VaeConfig::default();
    assert_eq!(cfg.latent_dims(129, 720, 1280).unwrap(), [33, 90, 160]);
    assert_eq!(cfg.latent_dims(1, 8, 16).unwrap(), [1, 1, 2]);
    assert_eq!(cfg.sample_dims(33, 90, 160), [129, 720, 1280]);
    assert_eq!(cfg.sample_dims(1, 2, 2), [1, 16, 16]);
    let cases = [
        ((10, 64, 64), "frame count 10 is not 4k+1 (try 9 or 13)"),
        ((0, 64, 64), "frame count 0 is not 4k+1 (try 1)"),
        (
            (9, 30, 64),
            "height 30 is not a positive multiple of 8 (try 24 or 32)",
        ),
        (
            (9, 64, 4),
            "width 4 is not a positive multiple of 8 (try 8)",
        ),
    ];
    for ((t, h, w), want) in cases {
        let err = cfg.latent_dims(t, h, w).unwrap_err().to_string();
        assert!(err.contains(want), "{err}");
    }
}

/// The encoder's and decoder's parameter counts and tensor counts of a preset, from a
/// shapes-only trace at the smallest input; checks the output shapes on the way.
fn preset_parameters(name: &str) -> [(u64, usize); 2] {
    let cfg = VaeConfig::preset(name).unwrap();
    let sr = cfg.spatial_compression_ratio;
    let enc = encoder(cfg.clone());
    let dec = decoder(cfg.clone());
    let enc_in = enc.input_types(1, [5, sr, 2 * sr]).unwrap();
    let dec_in = dec.input_types(1, [2, 1, 2]);
    let mut counts = [(0, 0); 2];
    for (i, (model, input, out_dims)) in [
        (
            &enc as &dyn Model,
            enc_in,
            [1, 2 * cfg.latent_channels, 2, 1, 2],
        ),
        (
            &dec as &dyn Model,
            dec_in,
            [1, cfg.out_channels, 5, sr, 2 * sr],
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let graph = trace(model, &Weights::ShapesOnly, &input).unwrap().graph;
        let out = &graph.node(graph.outputs()[0]).ty;
        assert_eq!(out.shape.dims(), &out_dims, "{name} {}", model.name());
        let stats = GraphStats::of(&graph);
        counts[i] = (stats.parameters, stats.parameter_tensors);
    }
    counts
}

#[test]
fn preset_parameter_counts_equal_diffusers() {
    assert_eq!(VAE_PRESETS, &["hunyuan-video", "tiny", "small"]);
    // (encoder + quant_conv, decoder + post_quant_conv) as counted by diffusers 0.42.1 on
    // `AutoencoderKLHunyuanVideo(**config)`; 248 / 176 / 180 tensors in all.
    let want = [
        ("hunyuan-video", 100_342_464, 146_136_339, 248),
        ("tiny", 29_016, 42_111, 176),
        ("small", 1_185_920, 1_877_555, 180),
    ];
    for (name, enc, dec, tensors) in want {
        let [(e, et), (d, dt)] = preset_parameters(name);
        println!("VAE preset {name}: encoder {e} parameters ({et} tensors), decoder {d} ({dt})");
        assert_eq!((e, d, et + dt), (enc, dec, tensors), "{name}");
    }
}

#[test]
fn encoder_and_decoder_load_from_one_full_checkpoint() {
    let (enc, dec) = (encoder(tiny()), decoder(tiny()));
    let sample = ("sample".to_string(), randn(&[1, 3, 5, 16, 8], 1));
    let latent = ("latent".to_string(), randn(&[1, 4, 2, 2, 1], 2));
    let mut full = random_weights(&enc, &enc.input_types(1, [5, 16, 8]).unwrap(), 7);
    let dec_weights = random_weights(&dec, &dec.input_types(1, [2, 2, 1]), 8);
    full.extend(dec_weights.clone());
    assert!(full.contains_key("quant_conv.weight") && full.contains_key("post_quant_conv.bias"));
    assert!(full.contains_key("encoder.down_blocks.0.resnets.0.conv1.conv.weight"));
    assert!(full.contains_key("decoder.up_blocks.0.upsamplers.0.conv.conv.weight"));
    assert!(full.contains_key("decoder.mid_block.attentions.0.to_out.0.bias"));

    // The whole checkpoint as it is: the decoder's tensors are unexpected for the encoder.
    let err = runner(Mode::Graph)
        .run(
            &enc,
            &Weights::Loaded(Rc::new(full.clone())),
            std::slice::from_ref(&sample),
        )
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("unexpected") && err.contains("post_quant_conv.weight"),
        "{err}"
    );

    // Selected by prefix: each half loads strictly, eager and graph agree.
    for (model, weights, input) in [
        (
            &enc as &dyn Model,
            HunyuanVideoVaeEncoder::weights(full.clone()),
            &sample,
        ),
        (
            &dec as &dyn Model,
            HunyuanVideoVaeDecoder::weights(full.clone()),
            &latent,
        ),
    ] {
        let run = |mode| {
            runner(mode)
                .run(model, &weights, std::slice::from_ref(input))
                .unwrap()
                .outputs
                .remove(0)
        };
        let (eager, graph) = (run(Mode::Eager), run(Mode::Graph));
        let err = graph.rel_l2_error(&eager).unwrap();
        assert!(err < 1e-5, "{} eager vs graph: {err:.3e}", model.name());
    }
    // The decoder's output is the decoder of those exact weights (not random init).
    let alone = runner(Mode::Eager)
        .run(
            &dec,
            &Weights::Loaded(Rc::new(dec_weights)),
            std::slice::from_ref(&latent),
        )
        .unwrap();
    let selected = runner(Mode::Eager)
        .run(&dec, &HunyuanVideoVaeDecoder::weights(full), &[latent])
        .unwrap();
    assert_eq!(alone.outputs[0], selected.outputs[0]);
    assert_eq!(selected.outputs[0].shape().dims(), &[1, 3, 5, 16, 8]);
}

#[test]
fn missing_and_misshaped_tensors_are_named() {
    let dec = decoder(tiny());
    let input = dec.input_types(1, [1, 1, 1]);
    let latent = [("latent".to_string(), randn(&[1, 4, 1, 1, 1], 3))];
    let mut weights = random_weights(&dec, &input, 9);
    let gone = "decoder.mid_block.attentions.0.to_q.weight";
    weights.remove(gone).unwrap();
    for mode in [Mode::Eager, Mode::Graph] {
        let w = HunyuanVideoVaeDecoder::weights(weights.clone());
        let err = runner(mode)
            .run(&dec, &w, &latent)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("missing") && err.contains(gone), "{err}");
    }
    let bad = "decoder.up_blocks.1.resnets.0.norm1.weight";
    weights.insert(gone.into(), randn(&[8, 8], 4));
    weights.insert(bad.into(), randn(&[9], 5));
    let err = runner(Mode::Graph)
        .run(&dec, &HunyuanVideoVaeDecoder::weights(weights), &latent)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains(bad) && err.contains("f32[8]") && err.contains("f32[9]"),
        "{err}"
    );
}

#[test]
fn inputs_are_checked() {
    let enc = encoder(tiny());
    let dec = decoder(tiny());
    type Case<'a> = (&'a dyn Model, Vec<(String, HostTensor)>, &'a str);
    let cases: [Case; 5] = [
        (
            &enc,
            vec![("sample".into(), randn(&[1, 3, 10, 16, 16], 0))],
            "frame count 10 is not 4k+1 (try 9 or 13)",
        ),
        (
            &enc,
            vec![("sample".into(), randn(&[1, 3, 9, 12, 16], 0))],
            "height 12",
        ),
        (
            &enc,
            vec![("sample".into(), randn(&[1, 4, 9, 16, 16], 0))],
            "expected a float [B, 3, T, H, W] tensor, got f32[1,4,9,16,16]",
        ),
        (
            &dec,
            vec![("latent".into(), randn(&[1, 4, 2, 2], 0))],
            "VAE decoder input `latent`",
        ),
        (&dec, vec![], "takes 1 input (`latent`), got 0"),
    ];
    for (model, inputs, want) in cases {
        let err = runner(Mode::Eager)
            .run(model, &Weights::Random { seed: 0 }, &inputs)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains(want), "{err}");
    }
    let err = enc.input_types(1, [4, 16, 16]).unwrap_err().to_string();
    assert!(err.contains("frame count 4"), "{err}");
    let err = HunyuanVideoVaeDecoder::new(tiny(), VaeOptions { dtype: DType::I32 })
        .unwrap_err()
        .to_string();
    assert!(err.contains("f32, bf16 or f16"), "{err}");
}

#[test]
fn posterior_splits_clamps_and_samples_deterministically() {
    // [B=2, 2·L=4, 3]: mean channels 0..2, log-variance channels 2..4 per batch row.
    let values: Vec<f32> = vec![
        1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 0.0, -2.0, 25.0, -40.0, 20.0, -30.0, //
        -1.0, -2.0, -3.0, -4.0, -5.0, -6.0, 2.0, 4.0, 6.0, -1.0, 0.5, 1.0,
    ];
    let moments = HostTensor::from_f32([2, 4, 3], values).unwrap();
    let post = DiagonalGaussian::from_moments(&moments).unwrap();
    assert_eq!(post.mean.shape().dims(), &[2, 2, 3]);
    assert_eq!(
        post.mean.to_f32_vec(),
        vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, -1.0, -2.0, -3.0, -4.0, -5.0, -6.0]
    );
    assert_eq!(
        post.logvar.to_f32_vec(),
        vec![0.0, -2.0, 20.0, -30.0, 20.0, -30.0, 2.0, 4.0, 6.0, -1.0, 0.5, 1.0]
    );
    let std = post.std.to_f32_vec();
    for (s, l) in std.iter().zip(post.logvar.to_f32_vec()) {
        assert_eq!(*s, (0.5 * l).exp());
    }
    assert_eq!(std[2], 10f32.exp());
    assert_eq!(post.mode(), post.mean);

    let a = post.sample(11);
    assert_eq!(a, post.sample(11));
    assert_ne!(a, post.sample(12));
    let eps = randn(&[2, 2, 3], 11).to_f32_vec();
    let want: Vec<f32> = (0..12)
        .map(|i| post.mean.to_f32_vec()[i] + std[i] * eps[i])
        .collect();
    assert_eq!(a.to_f32_vec(), want);

    // bf16 moments are read as f32; odd channel counts and integer tensors are errors.
    let bf16 = DiagonalGaussian::from_moments(&moments.cast(DType::BF16)).unwrap();
    assert_eq!(bf16.mean, post.mean);
    for bad in [
        HostTensor::from_f32([2, 3], vec![0.0; 6]).unwrap(),
        HostTensor::from_f32([6], vec![0.0; 6]).unwrap(),
        moments.cast(DType::I32),
    ] {
        let err = DiagonalGaussian::from_moments(&bad)
            .unwrap_err()
            .to_string();
        assert!(err.contains("[B, 2·L, ...]"), "{err}");
    }
}
