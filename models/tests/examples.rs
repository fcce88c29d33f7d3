//! The example models: eager and graph mode agree on the reference backend (graph mode
//! through the compile pipeline), the registry lists them, and loading their weights from a
//! safetensors file reproduces the random-init numbers.

use hyv_backend_reference::ReferenceBackend;
use hyv_frontend::{trace, HostTensor, Mode, Runner, WeightStore, Weights};
use hyv_models::{example, EXAMPLE_NAMES};
use std::rc::Rc;
use std::sync::Arc;

fn run(name: &str, mode: Mode, weights: &Weights) -> Vec<HostTensor> {
    let ex = example(name).unwrap();
    Runner::new(mode, Arc::new(ReferenceBackend::new()))
        .run(ex.model.as_ref(), weights, &ex.sample_inputs(11))
        .unwrap()
        .outputs
}

/// max |a - b| / max |b| over all elements.
fn rel_error(a: &HostTensor, b: &HostTensor) -> f64 {
    assert_eq!(a.ty(), b.ty());
    let (a, b) = (a.to_f64_vec(), b.to_f64_vec());
    let scale = b
        .iter()
        .fold(0.0f64, |m, x| m.max(x.abs()))
        .max(f64::MIN_POSITIVE);
    a.iter()
        .zip(&b)
        .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()))
        / scale
}

fn eager_matches_graph(name: &str) {
    let weights = Weights::Random { seed: 5 };
    let eager = run(name, Mode::Eager, &weights);
    let graph = run(name, Mode::Graph, &weights);
    assert_eq!(eager.len(), graph.len());
    for (e, g) in eager.iter().zip(&graph) {
        let err = rel_error(g, e);
        assert!(err <= 1e-6, "{name}: eager vs graph relative error {err}");
        assert!(e.to_f64_vec().iter().all(|x| x.is_finite()));
        // The output is not trivially zero.
        assert!(e.to_f64_vec().iter().any(|x| x.abs() > 1e-3));
    }
    // Control: the comparison does see a change of weights.
    let other = run(name, Mode::Graph, &Weights::Random { seed: 6 });
    assert!(rel_error(&other[0], &eager[0]) > 1e-3);
}

#[test]
fn mlp_eager_matches_graph() {
    eager_matches_graph("mlp");
}

#[test]
fn attention_eager_matches_graph() {
    eager_matches_graph("attention");
}

#[test]
fn registry_lists_examples_and_rejects_unknown_names() {
    for name in EXAMPLE_NAMES {
        let ex = example(name).unwrap();
        assert_eq!(ex.name, name);
        assert_eq!(ex.model.name(), name);
        let sample = ex.sample_inputs(0);
        let types: Vec<_> = sample
            .iter()
            .map(|(n, v)| (n.clone(), v.ty().clone()))
            .collect();
        assert_eq!(types, ex.inputs);
    }
    let err = example("nope").err().unwrap().to_string();
    assert!(err.contains("mlp") && err.contains("attention"), "{err}");
}

#[test]
fn attention_trace_records_module_paths_and_parameters() {
    let ex = example("attention").unwrap();
    let traced = trace(ex.model.as_ref(), &Weights::ShapesOnly, &ex.inputs).unwrap();
    let g = &traced.graph;
    assert_eq!(g.outputs().len(), 2);
    let paths: std::collections::BTreeSet<&str> =
        g.nodes().iter().map(|n| n.path.as_str()).collect();
    for p in [
        "attn",
        "attn.to_q",
        "attn.norm_q",
        "attn.to_out.0",
        "ff",
        "ff.net.0.proj",
        "norm1",
    ] {
        assert!(paths.contains(p), "no node at `{p}`: {paths:?}");
    }
    let attention = g
        .nodes()
        .iter()
        .find(|n| n.op.name() == "attention")
        .unwrap();
    assert_eq!(attention.path, "attn");
    let names: Vec<String> = traced
        .params
        .declared()
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert!(names.contains(&"attn.to_out.0.weight".to_string()));
    assert!(names.contains(&"ff.net.2.bias".to_string()));
    assert_eq!(g.parameters().len(), names.len());
}

#[test]
fn weights_saved_to_safetensors_reload_to_the_same_outputs() {
    let ex = example("attention").unwrap();
    let random = Weights::Random { seed: 9 };
    let values = trace(ex.model.as_ref(), &random, &ex.inputs)
        .unwrap()
        .params
        .values()
        .unwrap();
    let dir = std::env::temp_dir().join(format!("hyv-models-st-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("attention.safetensors");
    hyv_frontend::write_safetensors(&path, values.iter().map(|(k, v)| (k.as_str(), v))).unwrap();
    let loaded = Weights::Loaded(Rc::new(WeightStore::open(&path).unwrap()));
    for mode in [Mode::Eager, Mode::Graph] {
        assert_eq!(
            run("attention", mode, &loaded),
            run("attention", mode, &random)
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
