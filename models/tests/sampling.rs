//! Sampling: the flow-matching Euler scheduler against diffusers fixtures
//! (tests/fixtures/scheduler, tools/golden/make_scheduler_fixtures.py), the official
//! non-reversed sequence, latent shapes and noise, CFG, the TeaCache rule by hand, and the
//! DiT denoiser end to end on the reference backend (TeaCache threshold 0 bit-identical to
//! the plain path; skipped steps equal head(prelude tokens + residual)).

use hyv_backend_reference::ReferenceBackend;
use hyv_frontend::{
    randn_host, DType, HostTensor, Mode, Model, Runner, TensorType, WeightStore, Weights,
};
use hyv_models::hunyuan_video::{
    prelude_input_names, select_weights, HunyuanVideoTransformer3DModel, TransformerConfig,
    TransformerHead, TransformerOptions, TransformerPrelude, HEAD_INPUT_NAMES, INTERMEDIATE_NAMES,
};
use hyv_models::sampling::{
    cfg_combine, initial_latents, latent_shape, DitDenoiser, FlowMatchEulerScheduler, TeaCache,
};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("an array")
        .iter()
        .map(|x| x.as_f64().expect("a number"))
        .collect()
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-30)
}

fn f32_tensor(shape: &[usize], values: &[f64]) -> HostTensor {
    HostTensor::from_f64(
        &TensorType::new(DType::F32, shape.to_vec()),
        values.to_vec(),
    )
    .unwrap()
}

#[test]
fn scheduler_matches_diffusers_fixtures() {
    for (n, s) in [(50, 7.0), (2, 7.0), (30, 5.0), (10, 1.0)] {
        let path = workspace().join(format!("tests/fixtures/scheduler/n{n}_s{s}.json"));
        let fx: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let sched = FlowMatchEulerScheduler::new(n, s, true).unwrap();
        assert_eq!(sched.num_steps(), n);
        let (want_sigmas, want_t) = (floats(&fx["sigmas"]), floats(&fx["timesteps"]));
        assert_eq!(sched.sigmas().len(), n + 1);
        assert_eq!(*sched.sigmas().last().unwrap(), 0.0);
        let mut worst = 0.0f64;
        for (got, want) in sched.sigmas().iter().zip(&want_sigmas) {
            if *want == 0.0 {
                assert_eq!(*got, 0.0);
            } else {
                worst = worst.max(rel(*got, *want));
            }
        }
        let timesteps = sched.timesteps();
        assert_eq!(timesteps.len(), n);
        for (got, want) in timesteps.iter().zip(&want_t) {
            worst = worst.max(rel(*got as f64, *want));
        }
        assert!(worst <= 1e-6, "n{n} s{s}: sigma/timestep rel {worst:.2e}");

        let step = &fx["step"];
        let i = step["index"].as_u64().unwrap() as usize;
        let shape: Vec<usize> = floats(&step["shape"]).iter().map(|&d| d as usize).collect();
        let x = f32_tensor(&shape, &floats(&step["sample"]));
        let v = f32_tensor(&shape, &floats(&step["model_output"]));
        let got = sched.step(i, &x, &v).unwrap();
        assert_eq!(got.dtype(), DType::F32);
        assert_eq!(got.shape().dims(), shape.as_slice());
        let mut step_err = 0.0f64;
        for (g, w) in got.to_f64_vec().iter().zip(floats(&step["prev_sample"])) {
            step_err = step_err.max((g - w).abs() / w.abs().max(1.0));
        }
        assert!(step_err <= 1e-6, "n{n} s{s}: step error {step_err:.2e}");
        println!("n{n} s{s}: sigma/timestep rel {worst:.2e}, step {step_err:.2e}");
    }
}

#[test]
fn spec_example_timesteps_for_50_steps_shift_7() {
    let t = FlowMatchEulerScheduler::new(50, 7.0, true)
        .unwrap()
        .timesteps();
    let head = [1000.0, 997.093, 994.083, 990.964, 987.730];
    let tail = [437.5, 378.378, 308.824, 225.806, 125.0];
    for (got, want) in t[..5].iter().zip(head).chain(t[45..].iter().zip(tail)) {
        assert!((*got as f64 - want).abs() < 5e-4, "{got} vs {want}");
    }
}

#[test]
fn without_flow_reverse_the_official_sequence_is_reversed() {
    let rev = FlowMatchEulerScheduler::new(10, 7.0, true).unwrap();
    let fwd = FlowMatchEulerScheduler::new(10, 7.0, false).unwrap();
    assert!(rev.flow_reverse() && !fwd.flow_reverse());
    assert_eq!((fwd.shift(), fwd.num_steps()), (7.0, 10));
    // The official scheduler without --flow-reverse: sigmas = 1 - shift(linspace(1, 0)),
    // rising from 0 to 1; timesteps 1000 * (1 - σ'_i).
    assert_eq!(fwd.sigmas()[0], 0.0);
    assert_eq!(fwd.sigmas()[10], 1.0);
    for (a, b) in fwd.sigmas().iter().zip(rev.sigmas()) {
        assert!((a - (1.0 - b)).abs() < 1e-15);
    }
    let (tf, tr) = (fwd.timesteps(), rev.timesteps());
    assert_eq!(tf[0], 0.0);
    for (a, b) in tf.iter().zip(&tr) {
        assert!((a + b - 1000.0).abs() < 1e-3, "{a} + {b}");
    }
    // Steps move the sample the other way (dt > 0).
    let x = f32_tensor(&[2], &[1.0, -1.0]);
    let v = f32_tensor(&[2], &[1.0, 1.0]);
    let dt = (fwd.sigmas()[4] as f32 - fwd.sigmas()[3] as f32) as f64;
    assert!(dt > 0.0);
    let y = fwd.step(3, &x, &v).unwrap().to_f64_vec();
    assert!((y[0] - (1.0 + dt)).abs() < 1e-7 && (y[1] - (-1.0 + dt)).abs() < 1e-7);
}

#[test]
fn scheduler_errors() {
    let e = FlowMatchEulerScheduler::new(0, 7.0, true).unwrap_err();
    assert!(e.contains("at least 1 step"), "{e}");
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let e = FlowMatchEulerScheduler::new(5, bad, true).unwrap_err();
        assert!(e.contains("shift must be a positive"), "{e}");
    }
    let s = FlowMatchEulerScheduler::new(2, 7.0, true).unwrap();
    let x = f32_tensor(&[2], &[0.0, 0.0]);
    let e = s.step(2, &x, &x).unwrap_err();
    assert!(e.contains("out of range for a 2-step"), "{e}");
    let e = s.step(0, &x, &f32_tensor(&[1], &[0.0])).unwrap_err();
    assert!(e.contains("velocity is f32[1]"), "{e}");
}

#[test]
fn latent_shapes_and_their_errors() {
    assert_eq!(
        latent_shape(1, 16, 129, 720, 1280).unwrap(),
        [1, 16, 33, 90, 160]
    );
    assert_eq!(latent_shape(2, 16, 1, 16, 32).unwrap(), [2, 16, 1, 2, 4]);
    let e = latent_shape(1, 16, 130, 720, 1280).unwrap_err();
    assert!(e.contains("got 130; nearest valid: 129 or 133"), "{e}");
    let e = latent_shape(1, 16, 0, 720, 1280).unwrap_err();
    assert!(e.contains("got 0; nearest valid: 1"), "{e}");
    let e = latent_shape(1, 16, 129, 721, 1280).unwrap_err();
    assert!(
        e.contains("height must be a positive multiple of 16, got 721; nearest valid: 720 or 736"),
        "{e}"
    );
    let e = latent_shape(1, 16, 129, 720, 8).unwrap_err();
    assert!(
        e.contains("width must be a positive multiple of 16, got 8; nearest valid: 16"),
        "{e}"
    );
    let e = latent_shape(0, 16, 129, 720, 1280).unwrap_err();
    assert!(e.contains("batch size"), "{e}");
}

#[test]
fn initial_latents_are_the_seeded_counter_based_normal_stream() {
    let shape = [1, 16, 3, 8, 8];
    let a = initial_latents(42, &shape);
    assert_eq!(a.dtype(), DType::F32);
    assert_eq!(a.shape().dims(), &shape);
    assert_eq!(a, initial_latents(42, &shape));
    assert_ne!(a, initial_latents(43, &shape));
    assert_eq!(
        a,
        randn_host(&TensorType::new(DType::F32, shape.to_vec()), 42, 1.0)
    );
    let v = a.to_f64_vec();
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64;
    assert!(mean.abs() < 0.1 && (var - 1.0).abs() < 0.1, "{mean} {var}");
}

#[test]
fn cfg_combine_is_uncond_plus_scale_times_difference() {
    let c = f32_tensor(&[3], &[1.0, 2.0, -1.0]);
    let u = f32_tensor(&[3], &[0.5, 2.0, 1.0]);
    let got = cfg_combine(&c, &u, 6.0).unwrap().to_f64_vec();
    assert_eq!(got, vec![3.5, 2.0, -11.0]);
    assert_eq!(cfg_combine(&c, &u, 1.0).unwrap(), c);
    let e = cfg_combine(&c, &f32_tensor(&[2], &[0.0, 0.0]), 2.0).unwrap_err();
    assert!(e.contains("one shape"), "{e}");
}

#[test]
fn teacache_rescale_polynomial() {
    assert!((TeaCache::rescale(0.0) - 0.0961237896).abs() < 1e-15);
    let at_one = 733.226126 - 401.131952 + 67.5869174 - 3.149878 + 0.0961237896;
    assert!((TeaCache::rescale(1.0) - at_one).abs() < 1e-9);
    // 733.226126e-4 - 401.131952e-3 + 67.5869174e-2 - 3.149878e-1 + 0.0961237896
    assert!((TeaCache::rescale(0.1) - 0.1291958242).abs() < 1e-12);
    assert!((TeaCache::rescale(0.2) - 0.1337310712).abs() < 1e-12);
}

#[test]
fn teacache_decide_follows_the_official_rule() {
    let m = |v: &[f64]| f32_tensor(&[1, 2, 2], v);
    assert_eq!(
        TeaCache::relative_l1(&m(&[1.0, -2.0, 0.0, 1.0]), &m(&[2.0, -2.0, 1.0, -1.0])),
        Some((1.0 + 0.0 + 1.0 + 2.0) / 6.0)
    );
    let mut tc = TeaCache::new(0.3, 5);
    let m0 = m(&[1.0, 2.0, -4.0, 1.0]);
    let scaled =
        |t: &HostTensor, k: f64| m(&t.to_f64_vec().iter().map(|x| x * k).collect::<Vec<_>>());
    let m1 = scaled(&m0, 1.125); // r = 0.125
    let m2 = scaled(&m1, 1.0625); // r = 0.0625
    let m3 = scaled(&m2, 1.25); // r = 0.25
                                // step 0: first step, computed.
    assert!(tc.decide(&m0));
    assert_eq!((tc.cnt(), tc.accumulated()), (1, 0.0));
    // step 1: acc = P(0.125) ≈ 0.1537 < 0.3, skipped.
    assert!(!tc.decide(&m1));
    let acc1 = TeaCache::rescale(0.125);
    assert!((tc.accumulated() - acc1).abs() < 1e-12);
    // step 2: acc += P(0.0625) ≈ 0.0583 → 0.2120 < 0.3, skipped.
    assert!(!tc.decide(&m2));
    let acc2 = acc1 + TeaCache::rescale(0.0625);
    assert!((tc.accumulated() - acc2).abs() < 1e-12 && acc2 < 0.3);
    // step 3: acc += P(0.25) ≈ 0.1936 → 0.4056 >= 0.3, computed, acc reset.
    assert!(acc2 + TeaCache::rescale(0.25) >= 0.3);
    assert!(tc.decide(&m3));
    assert_eq!(tc.accumulated(), 0.0);
    // step 4: the last step is always computed, even with an identical input.
    assert!(tc.decide(&m3));
    assert_eq!(tc.cnt(), 0, "cnt wraps at num_steps");
    // A new run: step 0 computed again, then an identical input (r = 0, P = 0.096) skips.
    assert!(tc.decide(&m3));
    assert!(!tc.decide(&m3));
    assert!((tc.accumulated() - TeaCache::rescale(0.0)).abs() < 1e-15);
    // A new shape (resolution) is computed.
    assert!(tc.decide(&f32_tensor(&[1, 1, 2], &[1.0, 1.0])));
    assert_eq!((tc.computed(), tc.skipped()), (5, 3));
    // Threshold 0 never skips: the polynomial stays above 0.05.
    let mut zero = TeaCache::new(0.0, 4);
    for x in [&m0, &m0, &m1, &m0] {
        assert!(zero.decide(x));
    }
    assert_eq!((zero.computed(), zero.skipped()), (4, 0));
}

// ---- the DiT denoiser on the tiny diffusers fixture, reference backend ----

struct Dit {
    config: TransformerConfig,
    weights: Weights,
    inputs: BTreeMap<String, HostTensor>,
}

fn dit() -> Dit {
    let dir = workspace().join("tests/fixtures/dit/guided_padded");
    let config = TransformerConfig::from_json_file(dir.join("config.json")).unwrap();
    let weights = Weights::Loaded(Rc::new(
        WeightStore::open(dir.join("diffusion_pytorch_model.safetensors")).unwrap(),
    ));
    let inputs = WeightStore::open(dir.join("inputs.safetensors"))
        .unwrap()
        .load_all()
        .unwrap();
    Dit {
        config,
        weights,
        inputs,
    }
}

fn runner(mode: Mode) -> impl Fn() -> Runner + 'static {
    move || Runner::new(mode, Arc::new(ReferenceBackend::new()))
}

impl Dit {
    /// The transformer inputs at latents `x` and timestep `t`; `negative` swaps in a
    /// different text embedding (the unconditional branch).
    fn inputs_at(&self, x: &HostTensor, t: f32, negative: bool) -> Vec<(String, HostTensor)> {
        let b = x.shape().dims()[0];
        let mut text = self.inputs["encoder_hidden_states"].clone();
        if negative {
            let v = text.to_f64_vec().iter().map(|v| -0.5 * v).collect();
            text = HostTensor::from_f64(text.ty(), v).unwrap();
        }
        vec![
            ("hidden_states".into(), x.clone()),
            ("timestep".into(), f32_tensor(&[b], &vec![t as f64; b])),
            ("encoder_hidden_states".into(), text),
            (
                "encoder_attention_mask".into(),
                self.inputs["encoder_attention_mask"].clone(),
            ),
            (
                "pooled_projections".into(),
                self.inputs["pooled_projections"].clone(),
            ),
            ("guidance".into(), f32_tensor(&[b], &vec![6000.0; b])),
        ]
    }

    /// A 3-step sample with true CFG (scale 3) and `teacache`; returns the latents and stats.
    fn sample(&self, mode: Mode, teacache: Option<f64>) -> (HostTensor, Option<(usize, usize)>) {
        let steps = 3;
        let sched = FlowMatchEulerScheduler::new(steps, 7.0, true).unwrap();
        let shape = self.inputs["hidden_states"].shape().dims().to_vec();
        let mut x = initial_latents(7, &shape);
        let mut den = DitDenoiser::new(
            self.config.clone(),
            TransformerOptions::default(),
            self.weights.clone(),
            runner(mode),
            teacache,
            steps,
        )
        .unwrap();
        for (i, t) in sched.timesteps().into_iter().enumerate() {
            let cond = den.velocity(0, &self.inputs_at(&x, t, false)).unwrap();
            let uncond = den.velocity(1, &self.inputs_at(&x, t, true)).unwrap();
            let v = cfg_combine(&cond, &uncond, 3.0).unwrap();
            x = sched.step(i, &x, &v).unwrap();
        }
        (x, den.teacache_stats())
    }
}

#[test]
fn teacache_threshold_0_equals_the_plain_sampler_bit_for_bit() {
    let d = dit();
    for mode in [Mode::Graph, Mode::Eager] {
        let (plain, none) = d.sample(mode, None);
        assert_eq!(none, None);
        let (cached, stats) = d.sample(mode, Some(0.0));
        assert_eq!(
            stats,
            Some((6, 0)),
            "{mode:?}: 3 steps × 2 branches computed"
        );
        assert_eq!(
            plain, cached,
            "{mode:?}: threshold 0 must not change the sample"
        );
        assert!(plain.to_f64_vec().iter().all(|v| v.is_finite()));
    }
}

#[test]
fn teacache_large_threshold_skips_the_middle_step() {
    let d = dit();
    let (plain, _) = d.sample(Mode::Graph, None);
    let (cached, stats) = d.sample(Mode::Graph, Some(10.0));
    // Per branch: step 0 and the last step computed, step 1 skipped.
    assert_eq!(stats, Some((4, 2)));
    assert_ne!(plain, cached, "a skipped step reuses the residual");
    let err = cached.rel_l2_error(&plain).unwrap();
    println!("threshold 10, 3 steps: rel L2 to the plain sample {err:.3e}");
    assert!(err.is_finite());
    // The same decisions and numbers in eager mode (the head runs op by op there).
    let (eager, stats) = d.sample(Mode::Eager, Some(10.0));
    assert_eq!(stats, Some((4, 2)));
    let err = eager.rel_l2_error(&cached).unwrap();
    println!("threshold 10, eager vs graph: rel L2 {err:.3e}");
    assert!(err <= 1e-6, "eager vs graph: rel L2 {err:.3e}");
}

#[test]
fn bf16_denoiser_with_random_weights_and_teacache() {
    let mut d = dit();
    d.weights = Weights::Random { seed: 5 };
    let opts = TransformerOptions {
        dtype: DType::BF16,
        intermediates: false,
    };
    let run = |teacache: Option<f64>| {
        let mut den = DitDenoiser::new(
            d.config.clone(),
            opts,
            d.weights.clone(),
            runner(Mode::Graph),
            teacache,
            3,
        )
        .unwrap();
        let sched = FlowMatchEulerScheduler::new(3, 7.0, true).unwrap();
        let mut x = initial_latents(9, d.inputs["hidden_states"].shape().dims());
        for (i, t) in sched.timesteps().into_iter().enumerate() {
            let v = den.velocity(0, &d.inputs_at(&x, t, false)).unwrap();
            assert_eq!(v.dtype(), DType::BF16);
            x = sched.step(i, &x, &v).unwrap();
            assert_eq!(x.dtype(), DType::F32);
        }
        (x, den.teacache_stats())
    };
    let (plain, _) = run(None);
    assert_eq!(run(Some(0.0)), (plain.clone(), Some((3, 0))));
    let (skipping, stats) = run(Some(1e3));
    assert_eq!(stats, Some((2, 1)));
    assert!(skipping.to_f64_vec().iter().all(|v| v.is_finite()));
}

#[test]
fn skipped_step_is_head_of_prelude_tokens_plus_residual() {
    let d = dit();
    let opts = TransformerOptions::default();
    let shape = d.inputs["hidden_states"].shape().dims().to_vec();
    let x0 = initial_latents(1, &shape);
    let noise = initial_latents(2, &shape).to_f64_vec();
    let x1 = HostTensor::from_f64(
        x0.ty(),
        x0.to_f64_vec()
            .iter()
            .zip(noise)
            .map(|(x, n)| 0.9 * x + 0.1 * n)
            .collect(),
    )
    .unwrap();
    let (a, b) = (
        d.inputs_at(&x0, 1000.0, false),
        d.inputs_at(&x1, 875.0, false),
    );
    let mut den = DitDenoiser::new(
        d.config.clone(),
        opts,
        d.weights.clone(),
        runner(Mode::Graph),
        // High enough that step 1 (not the last of 3) is skipped.
        Some(1e3),
        3,
    )
    .unwrap();
    let computed = den.velocity(0, &a).unwrap();
    let skipped = den.velocity(0, &b).unwrap();
    assert_eq!(den.teacache_stats(), Some((1, 1)));

    let run = |model: &dyn Model, prefixes: &[&str], inputs: &[(String, HostTensor)]| {
        let weights = if prefixes.is_empty() {
            d.weights.clone()
        } else {
            select_weights(&d.weights, prefixes)
        };
        Runner::new(Mode::Graph, Arc::new(ReferenceBackend::new()))
            .run(model, &weights, inputs)
            .unwrap()
            .outputs
    };
    // The full model with intermediates and the residual: its sample is the computed step.
    let full = HunyuanVideoTransformer3DModel::new(
        d.config.clone(),
        TransformerOptions {
            intermediates: true,
            ..opts
        },
    )
    .unwrap()
    .with_residual();
    assert_eq!(full.outputs().last(), Some(&"residual"));
    let out_a = run(&full, &[], &a);
    assert_eq!(out_a[0], computed);
    let residual = out_a.last().unwrap().clone();
    let temb_a = &out_a[1 + INTERMEDIATE_NAMES
        .iter()
        .position(|n| *n == "temb")
        .unwrap()];

    let prelude = TransformerPrelude::new(d.config.clone(), opts).unwrap();
    let head =
        TransformerHead::new(d.config.clone(), opts, [shape[2], shape[3], shape[4]]).unwrap();
    let pick = |inputs: &[(String, HostTensor)]| -> Vec<(String, HostTensor)> {
        prelude_input_names(&d.config)
            .into_iter()
            .map(|n| inputs.iter().find(|(m, _)| m == n).unwrap().clone())
            .collect()
    };
    let head_of = |tokens: &HostTensor, temb: &HostTensor| {
        let inputs: Vec<(String, HostTensor)> = HEAD_INPUT_NAMES
            .iter()
            .map(|n| n.to_string())
            .zip([tokens.clone(), residual.clone(), temb.clone()])
            .collect();
        run(&head, TransformerHead::WEIGHT_PREFIXES, &inputs).remove(0)
    };
    // Skip path = head(prelude(b) tokens + residual(a), temb(b)), bit for bit.
    let pre_b = run(&prelude, TransformerPrelude::WEIGHT_PREFIXES, &pick(&b));
    assert_eq!(head_of(&pre_b[1], &pre_b[2]), skipped);
    // Semantics: prelude(a) shares the full model's temb, and head(tokens(a) + residual(a))
    // reproduces the full sample of a up to the rounding of (out − in) + in.
    let pre_a = run(&prelude, TransformerPrelude::WEIGHT_PREFIXES, &pick(&a));
    assert_eq!(&pre_a[2], temb_a);
    let err = head_of(&pre_a[1], &pre_a[2])
        .rel_l2_error(&computed)
        .unwrap();
    println!("head(tokens + residual) vs full sample: rel L2 {err:.3e}");
    assert!(err < 1e-5, "rel L2 {err:.3e}");
    // The modulated input is what block 0 sees: a different input changes it.
    assert_ne!(pre_a[0], pre_b[0]);
}

#[test]
fn denoiser_input_errors() {
    let d = dit();
    let mut den = DitDenoiser::new(
        d.config.clone(),
        TransformerOptions::default(),
        d.weights.clone(),
        runner(Mode::Graph),
        Some(0.1),
        3,
    )
    .unwrap();
    let x = d.inputs["hidden_states"].clone();
    let mut inputs = d.inputs_at(&x, 1000.0, false);
    inputs.pop();
    let e = den.velocity(0, &inputs).unwrap_err().to_string();
    assert!(e.contains("needs the input `guidance`"), "{e}");
    inputs.push(("bogus".into(), x.clone()));
    let e = den.velocity(0, &inputs).unwrap_err().to_string();
    assert!(e.contains("`bogus` is not a transformer input"), "{e}");
    let e = DitDenoiser::new(
        d.config.clone(),
        TransformerOptions::default(),
        d.weights.clone(),
        runner(Mode::Graph),
        Some(-1.0),
        3,
    )
    .err()
    .unwrap()
    .to_string();
    assert!(e.contains("threshold must be a number >= 0"), "{e}");
}
