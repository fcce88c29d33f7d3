//! The text encoders' loading errors, checkpoint layouts and pooling rules (parity with
//! transformers is tested in the top-level `tests/text_encoder_parity.rs`).

use hyv_backend_reference::ReferenceBackend;
use hyv_frontend::{
    write_safetensors, DType, HostTensor, Mode, Runner, TensorData, WeightStore, Weights,
};
use hyv_models::text_encoders::{
    open_weights, ClipTextConfig, ClipTextEncoder, LlamaConfig, LlamaOptions, LlamaTextEncoder,
    PromptEncoder, PromptEncoderOptions, PromptTemplate, TextTokenizer,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/text_encoders/tiny")
}

fn runner() -> Runner {
    Runner::new(Mode::Graph, Arc::new(ReferenceBackend::new()))
}

fn options() -> PromptEncoderOptions {
    PromptEncoderOptions {
        template: PromptTemplate::none(),
        max_sequence_length: 8,
        ..PromptEncoderOptions::default()
    }
}

/// A copy of the fixture model folder in a temporary directory.
fn fixture_copy() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for sub in ["text_encoder", "tokenizer", "text_encoder_2", "tokenizer_2"] {
        std::fs::create_dir(tmp.path().join(sub)).unwrap();
        for entry in std::fs::read_dir(fixture_dir().join(sub)).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), tmp.path().join(sub).join(entry.file_name())).unwrap();
        }
    }
    tmp
}

fn llama_tensors() -> BTreeMap<String, HostTensor> {
    WeightStore::open(fixture_dir().join("text_encoder"))
        .unwrap()
        .load_all()
        .unwrap()
}

fn write(path: &Path, tensors: &BTreeMap<String, HostTensor>) {
    write_safetensors(path, tensors.iter().map(|(n, t)| (n.as_str(), t))).unwrap();
}

fn err_text<T>(r: hyv_frontend::Result<T>) -> String {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn missing_folders_and_tokenizer_files_are_named() {
    let tmp = fixture_copy();
    std::fs::remove_file(tmp.path().join("tokenizer/tokenizer.json")).unwrap();
    let err = err_text(PromptEncoder::load(tmp.path(), runner, options()));
    let want = tmp.path().join("tokenizer/tokenizer.json");
    assert!(err.contains(&want.display().to_string()), "{err}");
    assert!(err.contains("tokenizer.json"), "{err}");

    std::fs::remove_dir_all(tmp.path().join("text_encoder_2")).unwrap();
    let err = err_text(PromptEncoder::load(tmp.path(), runner, options()));
    assert!(err.contains("text_encoder_2/"), "{err}");

    let nowhere = tmp.path().join("nowhere");
    let err = err_text(PromptEncoder::load(&nowhere, runner, options()));
    assert!(err.contains(&nowhere.display().to_string()), "{err}");
    let err = err_text(TextTokenizer::from_dir(&nowhere));
    assert!(err.contains(&nowhere.display().to_string()), "{err}");
}

/// A slow-`CLIPTokenizer` `tokenizer_2/` (vocab.json + merges.txt, no tokenizer.json) loads
/// (parity with transformers is in tests/text_encoder_parity.rs); without one of its files, or
/// with another `tokenizer_class`, the error names what is missing.
#[test]
fn clip_vocab_folder_loads_and_missing_files_are_named() {
    let tmp = fixture_copy();
    let tok2 = tmp.path().join("tokenizer_2");
    std::fs::remove_dir_all(&tok2).unwrap();
    std::fs::create_dir(&tok2).unwrap();
    for entry in std::fs::read_dir(fixture_dir().join("tokenizer_2_slow")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), tok2.join(entry.file_name())).unwrap();
    }
    assert!(!tok2.join("tokenizer.json").exists());
    PromptEncoder::load(tmp.path(), runner, options()).unwrap();
    let tok = TextTokenizer::from_dir(&tok2).unwrap();
    let (ids, mask) = tok.encode(&["Dance  MONKEY".to_string()], 6).unwrap();
    let fast = TextTokenizer::from_dir(&fixture_dir().join("tokenizer_2")).unwrap();
    let (want_ids, want_mask) = fast.encode(&["dance monkey".to_string()], 6).unwrap();
    let i64s = |t: &HostTensor| match t.data() {
        TensorData::I64(v) => v.clone(),
        _ => panic!("expected i64"),
    };
    assert_eq!(i64s(&ids), i64s(&want_ids));
    assert_eq!(i64s(&mask), i64s(&want_mask));

    let config = std::fs::read_to_string(tok2.join("tokenizer_config.json")).unwrap();
    std::fs::write(
        tok2.join("tokenizer_config.json"),
        config.replace("\"CLIPTokenizer\"", "\"BertTokenizer\""),
    )
    .unwrap();
    let err = err_text(TextTokenizer::from_dir(&tok2));
    assert!(err.contains("tokenizer.json"), "{err}");
    assert!(err.contains("tokenizer_class"), "{err}");
    assert!(err.contains("BertTokenizer"), "{err}");

    std::fs::write(tok2.join("tokenizer_config.json"), config).unwrap();
    std::fs::remove_file(tok2.join("merges.txt")).unwrap();
    let err = err_text(TextTokenizer::from_dir(&tok2));
    assert!(
        err.contains(&tok2.join("tokenizer.json").display().to_string()),
        "{err}"
    );
    assert!(err.contains("merges.txt"), "{err}");
    assert!(!err.contains("vocab.json,"), "{err}");
}

#[test]
fn missing_config_and_pad_token_are_named() {
    let tmp = fixture_copy();
    std::fs::remove_file(tmp.path().join("text_encoder/config.json")).unwrap();
    let err = err_text(PromptEncoder::load(tmp.path(), runner, options()));
    assert!(err.contains("config.json"), "{err}");
    assert!(
        err.contains(&tmp.path().join("text_encoder").display().to_string()),
        "{err}"
    );

    let config = tmp.path().join("tokenizer/tokenizer_config.json");
    std::fs::write(&config, "{}").unwrap();
    let err = err_text(TextTokenizer::from_dir(&tmp.path().join("tokenizer")));
    assert!(err.contains("pad_token"), "{err}");
}

#[test]
fn bad_config_fields_are_named() {
    let err = err_text(LlamaConfig::from_json_str(r#"{"hidden_size": "big"}"#));
    assert!(
        err.contains("`hidden_size`") && err.contains("big"),
        "{err}"
    );
    let err = err_text(LlamaConfig::from_json_str(
        r#"{"num_attention_heads": 4, "num_key_value_heads": 3}"#,
    ));
    assert!(err.contains("`num_key_value_heads`"), "{err}");
    let err = err_text(LlamaConfig::from_json_str(
        r#"{"rope_scaling": {"rope_type": "yarn", "factor": 4.0}}"#,
    ));
    assert!(
        err.contains("`rope_scaling`") && err.contains("yarn"),
        "{err}"
    );
    let err = err_text(LlamaConfig::from_json_str(
        r#"{"rope_parameters": {"rope_type": "llama3", "rope_theta": 500000.0}}"#,
    ));
    assert!(err.contains("`factor`"), "{err}");
    let err = err_text(ClipTextConfig::from_json_str(r#"{"hidden_act": "mish"}"#));
    assert!(
        err.contains("`hidden_act`") && err.contains("mish"),
        "{err}"
    );

    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("config.json");
    std::fs::write(&path, r#"{"layer_norm_eps": -1}"#).unwrap();
    let err = err_text(ClipTextConfig::from_json_file(&path));
    assert!(err.contains(&path.display().to_string()), "{err}");
    assert!(err.contains("`layer_norm_eps`"), "{err}");
}

#[test]
fn configs_read_transformers_4_and_5_fields() {
    let v4 = LlamaConfig::from_json_str(
        r#"{"hidden_size": 64, "num_attention_heads": 4, "rope_theta": 1000.0,
            "rope_scaling": {"type": "llama3", "factor": 8, "low_freq_factor": 1,
                             "high_freq_factor": 4, "original_max_position_embeddings": 8192}}"#,
    )
    .unwrap();
    assert_eq!((v4.head_dim, v4.num_key_value_heads), (16, 4));
    assert_eq!(v4.rope_theta, 1000.0);
    assert!(matches!(
        v4.rope_scaling,
        hyv_models::text_encoders::RopeScaling::Llama3 { factor, .. } if factor == 8.0
    ));
    let v5 = LlamaConfig::from_json_file(fixture_dir().join("text_encoder/config.json")).unwrap();
    assert_eq!(v5.rope_theta, 500000.0);
    assert_eq!((v5.num_attention_heads, v5.num_key_value_heads), (4, 2));
    let clip = ClipTextConfig::from_json_str(
        r#"{"text_config": {"hidden_size": 8, "num_attention_heads": 2, "eos_token_id": 7}}"#,
    )
    .unwrap();
    assert_eq!((clip.hidden_size, clip.eos_token_id), (8, 7));
}

#[test]
fn missing_tensor_is_named() {
    let tmp = fixture_copy();
    let mut tensors = llama_tensors();
    tensors.remove("layers.0.mlp.up_proj.weight").unwrap();
    write(&tmp.path().join("text_encoder/model.safetensors"), &tensors);
    let options = PromptEncoderOptions {
        hidden_state_skip_layer: 1,
        ..options()
    };
    let err = err_text(PromptEncoder::load(tmp.path(), runner, options));
    assert!(err.contains("`layers.0.mlp.up_proj.weight`"), "{err}");
    assert!(err.contains("missing"), "{err}");
    let dir = tmp.path().join("text_encoder").display().to_string();
    assert!(err.contains(&dir), "{err}");
}

/// Runs the tiny Llama (skip 0) from the checkpoint folder `dir` on fixed ids.
fn llama_output(dir: &Path) -> Vec<f32> {
    let config =
        LlamaConfig::from_json_file(fixture_dir().join("text_encoder/config.json")).unwrap();
    let model = LlamaTextEncoder::new(
        config,
        LlamaOptions {
            hidden_state_skip_layer: 0,
            dtype: DType::F32,
        },
    )
    .unwrap();
    let weights = open_weights(
        dir,
        &model.weight_prefixes(),
        LlamaTextEncoder::WEIGHT_RENAMES,
        DType::F32,
    )
    .unwrap();
    let ids = HostTensor::new([1, 4], TensorData::I64(vec![5, 6, 7, 8])).unwrap();
    let mask = HostTensor::new([1, 4], TensorData::I64(vec![1, 1, 1, 0])).unwrap();
    let inputs = [
        ("input_ids".to_string(), ids),
        ("attention_mask".to_string(), mask),
    ];
    runner().run(&model, &weights, &inputs).unwrap().outputs[0].to_f32_vec()
}

#[test]
fn causal_lm_prefix_and_sharded_checkpoints_load() {
    let want = llama_output(&fixture_dir().join("text_encoder"));
    let tensors = llama_tensors();

    // `LlamaForCausalLM` layout: `model.` prefix plus `lm_head.weight`.
    let prefixed = tempfile::tempdir().unwrap();
    let mut with_prefix: BTreeMap<String, HostTensor> = tensors
        .iter()
        .map(|(n, t)| (format!("model.{n}"), t.clone()))
        .collect();
    with_prefix.insert(
        "lm_head.weight".into(),
        tensors["embed_tokens.weight"].clone(),
    );
    write(&prefixed.path().join("model.safetensors"), &with_prefix);
    assert_eq!(llama_output(prefixed.path()), want);

    // Two shards and `model.safetensors.index.json`.
    let sharded = tempfile::tempdir().unwrap();
    let (a, b): (BTreeMap<_, _>, BTreeMap<_, _>) = tensors
        .clone()
        .into_iter()
        .partition(|(n, _)| n.starts_with("layers.0."));
    write(&sharded.path().join("model-00001-of-00002.safetensors"), &a);
    write(&sharded.path().join("model-00002-of-00002.safetensors"), &b);
    let map: serde_json::Map<String, serde_json::Value> = tensors
        .keys()
        .map(|n| {
            let shard = if a.contains_key(n) { 1 } else { 2 };
            (
                n.clone(),
                format!("model-0000{shard}-of-00002.safetensors").into(),
            )
        })
        .collect();
    let index = serde_json::json!({ "metadata": {}, "weight_map": map });
    std::fs::write(
        sharded.path().join("model.safetensors.index.json"),
        index.to_string(),
    )
    .unwrap();
    assert_eq!(llama_output(sharded.path()), want);
}

/// The CLIP outputs `(last_hidden_state, pooler_output)` for `ids [2, 5]` under random
/// weights, with `eos_token_id`.
fn clip_pooling(eos_token_id: i64, ids: Vec<i64>) -> (Vec<f32>, Vec<f32>) {
    let config = ClipTextConfig {
        vocab_size: 50,
        hidden_size: 8,
        intermediate_size: 16,
        num_hidden_layers: 1,
        num_attention_heads: 2,
        max_position_embeddings: 5,
        hidden_act: hyv_models::text_encoders::Activation::QuickGelu,
        layer_norm_eps: 1e-5,
        eos_token_id,
    };
    let model = ClipTextEncoder::new(config, DType::F32).unwrap();
    let ids = HostTensor::new([2, 5], TensorData::I64(ids)).unwrap();
    let out = runner()
        .run(
            &model,
            &Weights::Random { seed: 3 },
            &[("input_ids".to_string(), ids)],
        )
        .unwrap();
    (out.outputs[0].to_f32_vec(), out.outputs[1].to_f32_vec())
}

/// Row `pos` of batch `b` of a `[2, 5, 8]` state.
fn row(last: &[f32], b: usize, pos: usize) -> Vec<f32> {
    last[(b * 5 + pos) * 8..(b * 5 + pos + 1) * 8].to_vec()
}

#[test]
fn clip_pools_at_transformers_eos_position() {
    // Legacy `eos_token_id == 2`: the position of the largest id (the first one on ties).
    let (last, pooled) = clip_pooling(2, vec![1, 40, 7, 40, 0, 3, 9, 49, 2, 2]);
    assert_eq!(pooled[..8], row(&last, 0, 1)[..]);
    assert_eq!(pooled[8..], row(&last, 1, 2)[..]);
    // Otherwise the first position holding the EOS id, or position 0 when there is none.
    let (last, pooled) = clip_pooling(9, vec![1, 4, 9, 9, 9, 3, 5, 6, 7, 8]);
    assert_eq!(pooled[..8], row(&last, 0, 2)[..]);
    assert_eq!(pooled[8..], row(&last, 1, 0)[..]);
}
