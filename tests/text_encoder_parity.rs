//! Parity of the text encoders with transformers: `tests/fixtures/text_encoders/tiny/` holds
//! a tiny Llama (GQA) and CLIP with their tokenizers (tools/golden/tiny_text_models.py) and
//! `cases.safetensors`, the token ids/masks and f32 outputs transformers computed for the
//! prompts of `cases.json` (tools/golden/make_text_encoder_fixtures.py).
//!
//! Token ids and masks must be equal. Model outputs are compared over all positions,
//! padded ones included: with right padding transformers' padded queries still see every
//! valid key (causal + key-padding mask), so they are computed the same way here (see
//! `LlamaTextEncoder`); the models run on the reference backend in eager and graph mode and
//! on the CPU backend in graph mode. `PromptEncoder` must reproduce the cropped, templated
//! Llama state and the pooled CLIP output; bf16 must stay close to f32.

mod common;

use common::rel_l2;
use hyv_backend_cpu::CpuBackend;
use hyv_backend_reference::ReferenceBackend;
use hyv_frontend::{Backend, DType, HostTensor, Mode, Runner, TensorData};
use hyv_models::text_encoders::{
    inv_freq, open_weights, ClipTextConfig, ClipTextEncoder, LlamaConfig, LlamaOptions,
    LlamaTextEncoder, PromptEncoder, PromptEncoderOptions, PromptTemplate, TextTokenizer,
    HUNYUAN_VIDEO_TEMPLATE,
};
use hyv_runtime::read_safetensors;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// Tolerance of the f32 runs.
const F32_TOL: f64 = 1e-4;
/// Tolerance of bf16 and f16 runs against the f32 transformers outputs.
const BF16_TOL: f64 = 2e-2;
/// Tolerance of the bf16/f16 Llama state after one layer: the fixture's weights (std 0.5, far
/// larger than a trained model's) make attention sharp, and transformers' own bf16 run is
/// already 1.95e-2 from its f32 run on this output (f16: 1.4e-2).
const LLAMA_BF16_TOL: f64 = 3e-2;

struct Fixture {
    dir: PathBuf,
    meta: serde_json::Value,
    cases: BTreeMap<String, HostTensor>,
}

impl Fixture {
    fn load() -> Fixture {
        let dir =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/text_encoders/tiny");
        let meta = serde_json::from_str(&std::fs::read_to_string(dir.join("cases.json")).unwrap())
            .unwrap();
        let cases = read_safetensors(dir.join("cases.safetensors")).unwrap();
        Fixture { dir, meta, cases }
    }

    fn prompts(&self) -> Vec<String> {
        self.meta["prompts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap().to_string())
            .collect()
    }

    fn usize(&self, key: &str) -> usize {
        self.meta[key].as_u64().unwrap() as usize
    }

    fn case(&self, name: &str) -> &HostTensor {
        self.cases
            .get(name)
            .unwrap_or_else(|| panic!("cases.safetensors lacks `{name}`"))
    }

    fn template(&self) -> PromptTemplate {
        let template = self.meta["template"].as_str().unwrap();
        assert_eq!(template, HUNYUAN_VIDEO_TEMPLATE, "fixture template differs");
        PromptTemplate {
            template: template.to_string(),
            crop_start: self.usize("crop_start"),
        }
    }
}

fn runners() -> Vec<(&'static str, Mode, Arc<dyn Backend>)> {
    vec![
        (
            "reference eager",
            Mode::Eager,
            Arc::new(ReferenceBackend::new()),
        ),
        (
            "reference graph",
            Mode::Graph,
            Arc::new(ReferenceBackend::new()),
        ),
        ("cpu graph", Mode::Graph, Arc::new(CpuBackend::new())),
    ]
}

fn check_close(label: &str, got: &HostTensor, want: &HostTensor, tol: f64) {
    assert_eq!(got.ty(), want.ty(), "{label}: type");
    let err = rel_l2(got, want);
    println!("{label}: rel L2 {err:.3e}");
    assert!(err <= tol, "{label}: rel L2 {err:.3e} > {tol:e}");
}

fn i64s(t: &HostTensor) -> &[i64] {
    match t.data() {
        TensorData::I64(v) => v,
        other => panic!("expected i64, got {}", other.dtype()),
    }
}

/// `x[:, crop:]` of a host tensor `[B, L, ...]`.
fn crop(x: &HostTensor, crop: usize) -> HostTensor {
    let dims = x.shape().dims().to_vec();
    let per = x.shape().numel() / dims[0];
    let row = per / dims[1];
    let mut kept = dims.clone();
    kept[0] = 1;
    kept[1] -= crop;
    let parts: Vec<HostTensor> = (0..dims[0])
        .map(|b| {
            let flat = x.slice_rows(b, b + 1).unwrap().reshape([per]).unwrap();
            let rest = flat.slice_rows(crop * row, per).unwrap();
            rest.reshape(kept.clone()).unwrap()
        })
        .collect();
    HostTensor::concat_rows(&parts).unwrap()
}

#[test]
fn tokenizers_match_transformers() {
    let f = Fixture::load();
    let prompts = f.prompts();
    let llama = TextTokenizer::from_dir(&f.dir.join("tokenizer")).unwrap();
    let clip = TextTokenizer::from_dir(&f.dir.join("tokenizer_2")).unwrap();
    let template = f.template();
    let templated: Vec<String> = prompts.iter().map(|p| template.apply(p).unwrap()).collect();
    let llama_len = f.usize("llama_max_length");
    let cases = [
        ("llama", &llama, &prompts, llama_len),
        (
            "llama_tpl",
            &llama,
            &templated,
            llama_len + template.crop_start,
        ),
        ("clip", &clip, &prompts, f.usize("clip_max_length")),
    ];
    for (key, tokenizer, texts, max_length) in cases {
        let (ids, mask) = tokenizer.encode(texts, max_length).unwrap();
        assert_eq!(
            ids.ty(),
            f.case(&format!("{key}_ids")).ty(),
            "{key}: ids type"
        );
        assert_eq!(
            i64s(&ids),
            i64s(f.case(&format!("{key}_ids"))),
            "{key}: ids"
        );
        assert_eq!(
            i64s(&mask),
            i64s(f.case(&format!("{key}_mask"))),
            "{key}: mask"
        );
    }
}

/// A slow-`CLIPTokenizer` folder (`tokenizer_2_slow/`: vocab.json, merges.txt,
/// special_tokens_map.json, tokenizer_config.json, no tokenizer.json) gives transformers'
/// `CLIPTokenizer.from_pretrained` ids and masks (`clip_vocab_cases.json`, from
/// tools/golden/make_clip_vocab_fixture.py), and the same as `tokenizer_2/tokenizer.json` on
/// the shared prompts.
#[test]
fn clip_vocab_folder_matches_transformers() {
    let f = Fixture::load();
    let slow_dir = f.dir.join("tokenizer_2_slow");
    assert!(!slow_dir.join("tokenizer.json").exists());
    let cases: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(f.dir.join("clip_vocab_cases.json")).unwrap(),
    )
    .unwrap();
    let strings = |key: &str| -> Vec<String> {
        cases[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap().to_string())
            .collect()
    };
    let rows = |key: &str| -> Vec<i64> {
        cases[key]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|row| row.as_array().unwrap().iter().map(|x| x.as_i64().unwrap()))
            .collect()
    };
    let prompts = strings("prompts");
    let max_length = cases["max_length"].as_u64().unwrap() as usize;
    let shared = cases["num_shared_prompts"].as_u64().unwrap() as usize;
    assert_eq!(max_length, f.usize("clip_max_length"));
    assert_eq!(prompts[..shared], f.prompts()[..], "shared prompts");

    let slow = TextTokenizer::from_dir(&slow_dir).unwrap();
    let (ids, mask) = slow.encode(&prompts, max_length).unwrap();
    assert_eq!(i64s(&ids).len(), prompts.len() * max_length);
    let (want_ids, want_mask) = (rows("input_ids"), rows("attention_mask"));
    for (i, prompt) in prompts.iter().enumerate() {
        let row = i * max_length..(i + 1) * max_length;
        assert_eq!(
            i64s(&ids)[row.clone()],
            want_ids[row.clone()],
            "ids of {prompt:?}"
        );
        assert_eq!(
            i64s(&mask)[row.clone()],
            want_mask[row],
            "mask of {prompt:?}"
        );
    }

    let fast = TextTokenizer::from_dir(&f.dir.join("tokenizer_2")).unwrap();
    let (fast_ids, fast_mask) = fast.encode(&prompts[..shared], max_length).unwrap();
    let n = shared * max_length;
    assert_eq!(
        i64s(&fast_ids),
        &i64s(&ids)[..n],
        "tokenizer.json vs vocab ids"
    );
    assert_eq!(
        i64s(&fast_mask),
        &i64s(&mask)[..n],
        "tokenizer.json vs vocab mask"
    );
    assert_eq!(i64s(&fast_ids), i64s(f.case("clip_ids")));
}

#[test]
fn llama_matches_transformers() {
    let f = Fixture::load();
    let dir = f.dir.join("text_encoder");
    let config = LlamaConfig::from_json_file(dir.join("config.json")).unwrap();
    assert!(
        config.num_key_value_heads < config.num_attention_heads,
        "fixture is not GQA"
    );
    let inputs = vec![
        ("input_ids".to_string(), f.case("llama_ids").clone()),
        ("attention_mask".to_string(), f.case("llama_mask").clone()),
    ];
    for skip in 0..3 {
        let options = LlamaOptions {
            hidden_state_skip_layer: skip,
            dtype: DType::F32,
        };
        let model = LlamaTextEncoder::new(config.clone(), options).unwrap();
        let weights = open_weights(
            &dir,
            &model.weight_prefixes(),
            LlamaTextEncoder::WEIGHT_RENAMES,
            DType::F32,
        )
        .unwrap();
        let want = f.case(&format!("llama_hidden_skip{skip}"));
        for (label, mode, backend) in runners() {
            let out = Runner::new(mode, backend)
                .run(&model, &weights, &inputs)
                .unwrap();
            check_close(
                &format!("llama skip {skip} {label}"),
                &out.outputs[0],
                want,
                F32_TOL,
            );
        }
    }
}

#[test]
fn clip_matches_transformers() {
    let f = Fixture::load();
    let dir = f.dir.join("text_encoder_2");
    let config = ClipTextConfig::from_json_file(dir.join("config.json")).unwrap();
    assert_ne!(
        config.eos_token_id, 2,
        "fixture should use the first-EOS pooling rule"
    );
    let model = ClipTextEncoder::new(config, DType::F32).unwrap();
    let weights = open_weights(
        &dir,
        &model.weight_prefixes(),
        ClipTextEncoder::WEIGHT_RENAMES,
        DType::F32,
    )
    .unwrap();
    let ids = ("input_ids".to_string(), f.case("clip_ids").clone());
    let mask = ("attention_mask".to_string(), f.case("clip_mask").clone());
    let cases = [
        ("clip", vec![ids.clone()]),
        ("clip_masked", vec![ids, mask]),
    ];
    for (key, inputs) in cases {
        for (label, mode, backend) in runners() {
            let out = Runner::new(mode, backend)
                .run(&model, &weights, &inputs)
                .unwrap();
            for (i, name) in ["last_hidden_state", "pooler_output"]
                .into_iter()
                .enumerate()
            {
                let want = f.case(&format!("{key}_{name}"));
                check_close(
                    &format!("{key} {name} {label}"),
                    &out.outputs[i],
                    want,
                    F32_TOL,
                );
            }
        }
    }
}

fn prompt_options(f: &Fixture, skip: usize, dtype: DType) -> PromptEncoderOptions {
    PromptEncoderOptions {
        template: f.template(),
        max_sequence_length: f.usize("llama_max_length"),
        clip_max_length: f.usize("clip_max_length"),
        hidden_state_skip_layer: skip,
        dtype,
    }
}

#[test]
fn prompt_encoder_matches_transformers() {
    let f = Fixture::load();
    let prompts = f.prompts();
    let (b, len) = (prompts.len(), f.usize("llama_max_length"));
    let crop_start = f.usize("crop_start");
    for (label, mode, backend) in runners() {
        for skip in [1, 2] {
            let options = prompt_options(&f, skip, DType::F32);
            let runner = || Runner::new(mode, backend.clone());
            let encoder = PromptEncoder::load(&f.dir, runner, options).unwrap();
            let out = encoder.encode(&prompts).unwrap();
            assert_eq!(out.prompt_embeds.shape().dims(), &[b, len, 16]);
            assert_eq!(out.prompt_mask.shape().dims(), &[b, len]);
            assert_eq!(out.prompt_embeds_2.shape().dims(), &[b, 8]);
            let want_mask = crop(f.case("llama_tpl_mask"), crop_start);
            assert_eq!(
                i64s(&out.prompt_mask),
                i64s(&want_mask),
                "{label}: prompt_mask"
            );
            let want = crop(f.case(&format!("llama_tpl_hidden_skip{skip}")), crop_start);
            let tag = format!("prompt_embeds skip {skip} {label}");
            check_close(&tag, &out.prompt_embeds, &want, F32_TOL);
            let tag = format!("prompt_embeds_2 {label}");
            check_close(
                &tag,
                &out.prompt_embeds_2,
                f.case("clip_pooler_output"),
                F32_TOL,
            );
        }
    }
}

#[test]
fn prompt_encoder_bf16_and_f16_are_close() {
    let f = Fixture::load();
    let crop_start = f.usize("crop_start");
    for dtype in [DType::BF16, DType::F16] {
        let options = prompt_options(&f, 1, dtype);
        let runner = || Runner::new(Mode::Graph, Arc::new(ReferenceBackend::new()));
        let out = PromptEncoder::load(&f.dir, runner, options)
            .unwrap()
            .encode(&f.prompts())
            .unwrap();
        let want = crop(f.case("llama_tpl_hidden_skip1"), crop_start);
        let tag = format!("{dtype} prompt_embeds");
        check_close(&tag, &out.prompt_embeds, &want, LLAMA_BF16_TOL);
        let want_2 = f.case("clip_pooler_output");
        check_close(
            &format!("{dtype} prompt_embeds_2"),
            &out.prompt_embeds_2,
            want_2,
            BF16_TOL,
        );
    }
}

#[test]
fn llama3_rope_scaling_matches_transformers() {
    let f = Fixture::load();
    let rope = &f.meta["llama3_rope"];
    let config = serde_json::json!({
        "hidden_size": 32,
        "num_attention_heads": 4,
        "rope_parameters": rope["rope_parameters"],
    });
    let config = LlamaConfig::from_json_str(&config.to_string()).unwrap();
    assert_eq!(config.head_dim, rope["head_dim"].as_u64().unwrap() as usize);
    let got = inv_freq(config.head_dim, config.rope_theta, config.rope_scaling);
    let want: Vec<f64> = rope["inv_freq"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert!(
            ((*g as f64) - w).abs() <= 1e-6 * w.abs(),
            "inv_freq {got:?} vs {want:?}"
        );
    }
}
