//! Parity of the whole text-to-video pipeline with diffusers' `HunyuanVideoPipeline`: the
//! fixture `tests/fixtures/pipeline/tiny/` (tools/golden/make_pipeline_fixtures.py) holds a
//! tiny model folder saved by `pipe.save_pretrained` (Llama + CLIP text encoders, DiT, VAE,
//! scheduler; random weights) and, per case, the initial latents diffusers started from,
//! the encoded prompt, the denoised latents and the decoded video. hyv loads the same
//! folder, encodes the same prompt, denoises from the same latents and decodes; every
//! result must match within 1e-3 (relative L2), on the reference backend in eager and
//! graph mode and on the CPU backend in graph mode.

mod common;

use common::rel_l2;
use hyv_backend_cpu::CpuBackend;
use hyv_backend_reference::ReferenceBackend;
use hyv_frontend::{Backend, HostTensor, Mode, Runner};
use hyv_models::pipeline::{SampleRequest, TextToVideo, TextToVideoOptions};
use hyv_models::text_encoders::PromptTemplate;
use hyv_runtime::read_safetensors;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// Tolerance of the acceptance criterion (the f32 runs land near 1e-6).
const TOL: f64 = 1e-3;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pipeline/tiny")
}

struct Case {
    name: String,
    spec: serde_json::Value,
    tensors: BTreeMap<String, HostTensor>,
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(root().join("cases.json")).expect("cases.json");
    let all: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&text).expect("cases.json parses");
    all.into_iter()
        .map(|(name, spec)| Case {
            tensors: read_safetensors(root().join(format!("{name}.safetensors"))).unwrap(),
            name,
            spec,
        })
        .collect()
}

fn num(spec: &serde_json::Value, key: &str) -> f64 {
    spec[key]
        .as_f64()
        .unwrap_or_else(|| panic!("cases.json: `{key}` is not a number"))
}

fn options(spec: &serde_json::Value) -> TextToVideoOptions {
    let mut options = TextToVideoOptions::default();
    options.text.template = PromptTemplate {
        template: spec["template"].as_str().unwrap().to_string(),
        crop_start: num(spec, "crop_start") as usize,
    };
    options.text.max_sequence_length = num(spec, "max_sequence_length") as usize;
    options
}

fn request(spec: &serde_json::Value, latents: &HostTensor) -> SampleRequest {
    SampleRequest {
        height: num(spec, "height") as usize,
        width: num(spec, "width") as usize,
        video_length: num(spec, "num_frames") as usize,
        infer_steps: num(spec, "steps") as usize,
        seed: 0,
        flow_shift: num(spec, "flow_shift"),
        flow_reverse: true,
        embedded_guidance_scale: num(spec, "guidance_scale") as f32,
        cfg_scale: num(spec, "true_cfg_scale") as f32,
        initial_latents: Some(latents.clone()),
    }
}

/// diffusers' "pt" video is [B, F, C, H, W]; hyv's is [B, C, F, H, W].
fn to_bcfhw(video: &HostTensor) -> HostTensor {
    let d = video.shape().dims().to_vec();
    let (b, f, c, h, w) = (d[0], d[1], d[2], d[3], d[4]);
    let v = video.to_f32_vec();
    let mut out = vec![0f32; v.len()];
    for bi in 0..b {
        for fi in 0..f {
            for ci in 0..c {
                let src = (((bi * f + fi) * c + ci) * h) * w;
                let dst = (((bi * c + ci) * f + fi) * h) * w;
                out[dst..dst + h * w].copy_from_slice(&v[src..src + h * w]);
            }
        }
    }
    HostTensor::from_f32([b, c, f, h, w], out).unwrap()
}

fn check(backend: Arc<dyn Backend>, mode: Mode, label: &str) {
    for case in cases() {
        let (spec, t) = (&case.spec, &case.tensors);
        let b = backend.clone();
        let t2v = TextToVideo::load(
            &root().join("model"),
            move |_| Runner::new(mode, b.clone()),
            options(spec),
        )
        .unwrap();
        let prompt = spec["prompt"].as_str().unwrap().to_string();
        let cond = t2v.encode_prompts(&[prompt]).unwrap();
        let what = format!("{label} {}", case.name);
        assert_eq!(
            cond.prompt_mask.cast(hyv_ir::DType::I64).to_f64_vec(),
            t["prompt_attention_mask"].to_f64_vec(),
            "{what}: prompt mask"
        );
        let e = rel_l2(&cond.prompt_embeds, &t["prompt_embeds"]);
        let p = rel_l2(&cond.prompt_embeds_2, &t["pooled_prompt_embeds"]);
        let uncond = spec["negative_prompt"]
            .as_str()
            .map(|neg| t2v.encode_prompts(&[neg.to_string()]).unwrap());
        let req = request(spec, &t["latents"]);
        let out = t2v
            .sample(&req, &cond, uncond.as_ref(), &mut |_| {})
            .unwrap();
        let l = rel_l2(&out.latents, &t["final_latents"]);
        let v = rel_l2(&out.video, &to_bcfhw(&t["video"]));
        println!(
            "{what}: rel L2 prompt_embeds {e:.2e}, pooled {p:.2e}, final latents {l:.2e}, video {v:.2e}"
        );
        for (name, err) in [
            ("prompt_embeds", e),
            ("pooled", p),
            ("latents", l),
            ("video", v),
        ] {
            assert!(err <= TOL, "{what}: {name} rel L2 {err:.3e} > {TOL:e}");
        }
    }
}

#[test]
fn reference_graph_matches_diffusers() {
    check(
        Arc::new(ReferenceBackend::new()),
        Mode::Graph,
        "reference graph",
    );
}

#[test]
fn reference_eager_matches_diffusers() {
    check(
        Arc::new(ReferenceBackend::new()),
        Mode::Eager,
        "reference eager",
    );
}

#[test]
fn cpu_graph_matches_diffusers() {
    check(Arc::new(CpuBackend::new()), Mode::Graph, "cpu graph");
}
