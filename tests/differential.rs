//! Differential tests: random graphs of at least 20 ops give the same results when run op by
//! op (eager semantics, unoptimised graph) and when compiled in graph mode after every pass,
//! on the reference backend and on the CPU backend with fusion.

mod common;

use common::rel_l2;
use hyv_backend_cpu::CpuBackend;
use hyv_backend_reference::ReferenceBackend;
use hyv_ir::testing::{random_graph, random_inputs, random_params};
use hyv_runtime::{compile, run_op_by_op, Backend, DeviceTensor, ParamMap, PipelineOptions};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use std::sync::Arc;

fn upload_all(
    backend: &dyn Backend,
    graph: &hyv_ir::Graph,
    seed: u64,
) -> (Vec<DeviceTensor>, ParamMap) {
    let inputs = random_inputs(graph, seed)
        .iter()
        .map(|t| backend.upload(t).unwrap())
        .collect();
    let params = random_params(graph, seed)
        .into_iter()
        .map(|(name, t)| (name, backend.upload(&t).unwrap()))
        .collect();
    (inputs, params)
}

/// The largest eager-vs-graph relative L2 error over the outputs of random graph `seed`.
fn max_error(seed: u64, backend: ReferenceBackend) -> f64 {
    let backend: Arc<dyn Backend> = Arc::new(backend);
    let graph = random_graph(seed, 20);
    let (inputs, params) = upload_all(backend.as_ref(), &graph, seed);
    let eager = run_op_by_op(&graph, backend.as_ref(), &inputs, &params).unwrap();
    let compiled = compile(&graph, &backend, &PipelineOptions::default()).unwrap();
    let lazy = compiled.executable.run(&inputs, &params).unwrap();
    assert_eq!(eager.len(), lazy.len());
    eager
        .iter()
        .zip(&lazy)
        .map(|(e, g)| rel_l2(&backend.download(g).unwrap(), &backend.download(e).unwrap()))
        .fold(0.0, f64::max)
}

fn check_seed(seed: u64, backend: ReferenceBackend, tolerance: f64) {
    let err = max_error(seed, backend);
    assert!(
        err <= tolerance,
        "seed {seed}: eager vs graph rel. L2 error {err:e} > {tolerance:e}\n{}",
        hyv_ir::text::print(&random_graph(seed, 20))
    );
}

/// CPU graph mode (fusion on) against reference eager on random graph `seed`, as traced
/// (the CPU runs composites natively) and with every composite first decomposed into
/// primitives (chains, broadcasts and row reductions for the fusion pass to group). Returns
/// the largest rel. L2 error and the number of fused groups in the decomposed graph.
fn fused_error(seed: u64) -> (f64, usize) {
    let reference: Arc<dyn Backend> = Arc::new(ReferenceBackend::new());
    let prims: Arc<dyn Backend> = Arc::new(ReferenceBackend::primitives_only());
    let cpu: Arc<dyn Backend> = Arc::new(CpuBackend::new());
    let graph = random_graph(seed, 20);
    let (inputs, params) = upload_all(reference.as_ref(), &graph, seed);
    let want = run_op_by_op(&graph, reference.as_ref(), &inputs, &params).unwrap();
    // The same values for both CPU runs (passes may drop or reorder parameters).
    let (inputs, params) = upload_all(cpu.as_ref(), &graph, seed);
    let decomposed = compile(&graph, &prims, &PipelineOptions::default())
        .unwrap()
        .graph;
    let (mut worst, mut groups) = (0.0f64, 0);
    for g in [&graph, &decomposed] {
        let compiled = compile(g, &cpu, &PipelineOptions::default()).unwrap();
        let got = compiled.executable.run(&inputs, &params).unwrap();
        for (g, w) in got.iter().zip(&want) {
            let (g, w) = (cpu.download(g).unwrap(), reference.download(w).unwrap());
            worst = worst.max(rel_l2(&g, &w));
        }
        let ids: std::collections::BTreeSet<u32> =
            compiled.graph.groups().map(|(_, g)| g).collect();
        groups = ids.len();
    }
    (worst, groups)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 48,
        rng_seed: RngSeed::Fixed(0x0066_7573),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// The CPU backend's fused graph mode against the reference; the bound is that of the
    /// decomposed pipeline above (norms and softmax in f32 in the decompositions).
    #[test]
    fn cpu_fused_graph_mode_agrees_with_reference_eager(seed in any::<u64>()) {
        let (err, _) = fused_error(seed);
        prop_assert!(err <= 1e-5, "seed {seed}: rel. L2 error {err:e}\n{}",
            hyv_ir::text::print(&random_graph(seed, 20)));
    }
}

/// Decomposed random graphs give the fusion pass work: most form groups.
#[test]
fn decomposed_random_graphs_form_fused_groups() {
    let fused = (0..16).filter(|&seed| fused_error(seed).1 > 0).count();
    assert!(
        fused >= 8,
        "only {fused} of 16 random graphs formed a group"
    );
}

proptest! {
    // A fixed RNG seed keeps CI deterministic; change it locally to explore other graphs.
    #![proptest_config(ProptestConfig {
        cases: 64,
        rng_seed: RngSeed::Fixed(0x0068_7976),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn eager_and_graph_mode_agree_on_random_graphs(seed in any::<u64>()) {
        check_seed(seed, ReferenceBackend::new(), 1e-6);
    }

    /// Graph mode with every composite decomposed into primitives. The decompositions
    /// compute norms and softmax in f32 where the reference composites accumulate in f64, so
    /// the bound is 1e-5 (over 3000 graphs: p99.9 4.7e-7, worst seen 2.4e-6).
    #[test]
    fn eager_and_fully_decomposed_graph_mode_agree(seed in any::<u64>()) {
        check_seed(seed, ReferenceBackend::primitives_only(), 1e-5);
    }
}

/// The worst graph found so far for the fully decomposed pipeline (a group norm feeding a
/// grouped conv): 2.4e-6.
#[test]
fn fully_decomposed_regression_seed() {
    check_seed(
        3558700103556737124,
        ReferenceBackend::primitives_only(),
        1e-5,
    );
}

#[test]
fn random_graphs_have_at_least_twenty_ops() {
    for seed in 0..16 {
        let g = random_graph(seed, 20);
        let ops = g.nodes().iter().filter(|n| !n.op.is_source()).count();
        assert!(ops >= 20, "seed {seed}: only {ops} ops");
    }
}
