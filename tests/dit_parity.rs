//! Parity of the HunyuanVideo transformer with diffusers: fixtures under
//! `tests/fixtures/dit/<case>/` hold a diffusers `config.json`, its weights, the inputs and
//! the f32 outputs of `HunyuanVideoTransformer3DModel` (sample and intermediates). The model
//! runs in eager and graph mode on the reference backend, and in graph mode with every
//! composite decomposed into primitives, and on the CPU backend in eager and graph mode; a
//! bf16 run must stay close to the f32 sample.

mod common;

use common::rel_l2;
use hyv_backend_cpu::CpuBackend;
use hyv_backend_reference::ReferenceBackend;
use hyv_frontend::{Backend, DType, HostTensor, Mode, Runner, Weights};
use hyv_models::hunyuan_video::{
    input_names, output_names, HunyuanVideoTransformer3DModel, TransformerConfig,
    TransformerOptions,
};
use hyv_runtime::{read_safetensors, WeightStore};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;

/// Tolerance of the f32 runs (sample and every intermediate).
const F32_TOL: f64 = 1e-4;
/// Tolerance of the bf16 sample against the f32 diffusers sample.
const BF16_TOL: f64 = 2e-2;

struct Fixture {
    name: &'static str,
    config: TransformerConfig,
    weights: PathBuf,
    inputs: Vec<(String, HostTensor)>,
    outputs: BTreeMap<String, HostTensor>,
}

fn fixture(name: &'static str) -> Fixture {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/dit")
        .join(name);
    let config = TransformerConfig::from_json_file(dir.join("config.json")).unwrap();
    let mut all_inputs = read_safetensors(dir.join("inputs.safetensors")).unwrap();
    let inputs = input_names(&config)
        .into_iter()
        .map(|n| {
            let v = all_inputs
                .remove(n)
                .unwrap_or_else(|| panic!("{name}: inputs.safetensors lacks `{n}`"));
            (n.to_string(), v)
        })
        .collect();
    Fixture {
        name,
        config,
        weights: dir.join("diffusion_pytorch_model.safetensors"),
        inputs,
        outputs: read_safetensors(dir.join("outputs.safetensors")).unwrap(),
    }
}

fn loaded(path: &PathBuf) -> Weights {
    Weights::Loaded(Rc::new(WeightStore::open(path).unwrap()))
}

/// Runs the f32 model with intermediates and checks every output against diffusers.
fn check_f32(f: &Fixture, mode: Mode, backend: Arc<dyn Backend>, label: &str) {
    let options = TransformerOptions {
        dtype: DType::F32,
        intermediates: true,
    };
    let model = HunyuanVideoTransformer3DModel::new(f.config.clone(), options).unwrap();
    let out = Runner::new(mode, backend)
        .run(&model, &loaded(&f.weights), &f.inputs)
        .unwrap();
    for (name, got) in output_names(true).into_iter().zip(&out.outputs) {
        let want = &f.outputs[name];
        let err = rel_l2(got, want);
        println!("{} {label} {name}: rel L2 {err:.3e}", f.name);
        assert!(
            err <= F32_TOL,
            "{} {label} `{name}`: rel L2 {err:.3e}",
            f.name
        );
    }
}

/// Runs the model in bf16 (weights and float inputs cast) and compares the sample with the
/// f32 diffusers sample.
fn check_bf16(f: &Fixture) {
    let weights: BTreeMap<String, HostTensor> = read_safetensors(&f.weights)
        .unwrap()
        .into_iter()
        .map(|(n, t)| (n, t.cast(DType::BF16)))
        .collect();
    let inputs: Vec<(String, HostTensor)> = f
        .inputs
        .iter()
        .map(|(n, t)| {
            let bf16 = matches!(
                n.as_str(),
                "hidden_states" | "encoder_hidden_states" | "pooled_projections"
            );
            (
                n.clone(),
                if bf16 { t.cast(DType::BF16) } else { t.clone() },
            )
        })
        .collect();
    let options = TransformerOptions {
        dtype: DType::BF16,
        intermediates: false,
    };
    let model = HunyuanVideoTransformer3DModel::new(f.config.clone(), options).unwrap();
    let out = Runner::new(Mode::Graph, Arc::new(ReferenceBackend::new()))
        .run(&model, &Weights::Loaded(Rc::new(weights)), &inputs)
        .unwrap();
    assert_eq!(out.outputs[0].ty().dtype, DType::BF16);
    let err = rel_l2(&out.outputs[0].cast(DType::F32), &f.outputs["sample"]);
    println!("{} bf16 sample: rel L2 {err:.3e}", f.name);
    assert!(err <= BF16_TOL, "{} bf16 sample: rel L2 {err:.3e}", f.name);
}

fn check_fixture(name: &'static str) {
    let f = fixture(name);
    check_f32(&f, Mode::Eager, Arc::new(ReferenceBackend::new()), "eager");
    check_f32(&f, Mode::Graph, Arc::new(ReferenceBackend::new()), "graph");
    check_f32(
        &f,
        Mode::Graph,
        Arc::new(ReferenceBackend::primitives_only()),
        "graph/primitives",
    );
    check_f32(&f, Mode::Eager, Arc::new(CpuBackend::new()), "cpu eager");
    check_f32(&f, Mode::Graph, Arc::new(CpuBackend::new()), "cpu graph");
    check_bf16(&f);
}

#[test]
fn guided_padded_matches_diffusers() {
    check_fixture("guided_padded");
}

#[test]
fn unguided_refiner1_matches_diffusers() {
    check_fixture("unguided_refiner1");
}
