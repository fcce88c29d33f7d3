//! The sampler on the backends: a 3-step true-CFG sample of the tiny diffusers DiT fixture
//! (`tests/fixtures/dit/guided_padded`) on the CPU backend agrees with the reference backend,
//! and TeaCache with threshold 0 gives the CPU backend's plain samples bit for bit (the
//! prelude, head and residual-output models compile there too).

mod common;

use common::rel_l2;
use hyv_backend_cpu::CpuBackend;
use hyv_backend_reference::ReferenceBackend;
use hyv_frontend::{Backend, DType, HostTensor, Mode, Runner, TensorType, Weights};
use hyv_models::hunyuan_video::{TransformerConfig, TransformerOptions};
use hyv_models::sampling::{cfg_combine, initial_latents, DitDenoiser, FlowMatchEulerScheduler};
use hyv_runtime::{read_safetensors, WeightStore};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;

const STEPS: usize = 3;

fn f32_full(b: usize, v: f64) -> HostTensor {
    HostTensor::full(&TensorType::new(DType::F32, vec![b]), v)
}

/// A 3-step sample with CFG scale 3 (the unconditional branch uses negated text) on
/// `backend` in `mode`; returns the latents and the TeaCache stats.
fn sample(
    backend: fn() -> Arc<dyn Backend>,
    mode: Mode,
    teacache: Option<f64>,
) -> (HostTensor, Option<(usize, usize)>) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dit/guided_padded");
    let config = TransformerConfig::from_json_file(dir.join("config.json")).unwrap();
    let weights = Weights::Loaded(Rc::new(
        WeightStore::open(dir.join("diffusion_pytorch_model.safetensors")).unwrap(),
    ));
    let fx = read_safetensors(dir.join("inputs.safetensors")).unwrap();
    let text = fx["encoder_hidden_states"].clone();
    let negative =
        HostTensor::from_f64(text.ty(), text.to_f64_vec().iter().map(|v| -v).collect()).unwrap();
    let shape = fx["hidden_states"].shape().dims().to_vec();
    let b = shape[0];
    let sched = FlowMatchEulerScheduler::new(STEPS, 7.0, true).unwrap();
    let mut den = DitDenoiser::new(
        config,
        TransformerOptions::default(),
        weights,
        move || Runner::new(mode, backend()),
        teacache,
        STEPS,
    )
    .unwrap();
    let mut x = initial_latents(3, &shape);
    for (i, t) in sched.timesteps().into_iter().enumerate() {
        let mut v = Vec::new();
        for (branch, text) in [&text, &negative].into_iter().enumerate() {
            let inputs = vec![
                ("hidden_states".to_string(), x.clone()),
                ("timestep".into(), f32_full(b, t as f64)),
                ("encoder_hidden_states".into(), text.clone()),
                (
                    "encoder_attention_mask".into(),
                    fx["encoder_attention_mask"].clone(),
                ),
                (
                    "pooled_projections".into(),
                    fx["pooled_projections"].clone(),
                ),
                ("guidance".into(), f32_full(b, 6000.0)),
            ];
            v.push(den.velocity(branch, &inputs).unwrap());
        }
        x = sched
            .step(i, &x, &cfg_combine(&v[0], &v[1], 3.0).unwrap())
            .unwrap();
    }
    (x, den.teacache_stats())
}

fn reference() -> Arc<dyn Backend> {
    Arc::new(ReferenceBackend::new())
}

fn cpu() -> Arc<dyn Backend> {
    Arc::new(CpuBackend::new())
}

#[test]
fn cpu_sampler_matches_reference_and_teacache_0_is_exact() {
    let (want, _) = sample(reference, Mode::Graph, None);
    for mode in [Mode::Graph, Mode::Eager] {
        let (plain, _) = sample(cpu, mode, None);
        let err = rel_l2(&plain, &want);
        println!("cpu {mode:?} vs reference, 3 CFG steps: rel L2 {err:.3e}");
        assert!(err <= 1e-4, "cpu {mode:?}: rel L2 {err:.3e}");
        let (cached, stats) = sample(cpu, mode, Some(0.0));
        assert_eq!(stats, Some((6, 0)));
        assert_eq!(cached, plain, "cpu {mode:?}: TeaCache 0 changed the sample");
    }
    let (skipping, stats) = sample(cpu, Mode::Graph, Some(10.0));
    assert_eq!(
        stats,
        Some((4, 2)),
        "the middle step of each branch is skipped"
    );
    let (ref_skipping, _) = sample(reference, Mode::Graph, Some(10.0));
    let err = rel_l2(&skipping, &ref_skipping);
    println!("cpu vs reference with skipped steps: rel L2 {err:.3e}");
    assert!(err <= 1e-4, "rel L2 {err:.3e}");
}
