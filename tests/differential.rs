//! Differential tests: random graphs of at least 20 ops give the same results when run op by
//! op (eager semantics, unoptimised graph) and when compiled in graph mode after every pass.

mod common;

use common::rel_l2;
use hyv_backend_reference::ReferenceBackend;
use hyv_ir::testing::{random_graph, random_inputs, random_params};
use hyv_runtime::{compile, run_op_by_op, Backend, DeviceTensor, ParamMap, PipelineOptions};
use proptest::prelude::*;
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

fn check_seed(seed: u64, backend: ReferenceBackend) {
    let backend: Arc<dyn Backend> = Arc::new(backend);
    let graph = random_graph(seed, 20);
    let (inputs, params) = upload_all(backend.as_ref(), &graph, seed);
    let eager = run_op_by_op(&graph, backend.as_ref(), &inputs, &params).unwrap();
    let compiled = compile(&graph, &backend, &PipelineOptions::default()).unwrap();
    assert!(
        compiled.graph.len() <= graph.len() * 4,
        "passes blew the graph up"
    );
    let lazy = compiled.executable.run(&inputs, &params).unwrap();
    assert_eq!(eager.len(), lazy.len());
    for (i, (e, g)) in eager.iter().zip(&lazy).enumerate() {
        let (e, g) = (backend.download(e).unwrap(), backend.download(g).unwrap());
        let err = rel_l2(&g, &e);
        assert!(
            err <= 1e-6,
            "seed {seed}, output {i} ({}): eager vs graph rel. L2 error {err:e}\n{}",
            e.ty(),
            hyv_ir::text::print(&graph)
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn eager_and_graph_mode_agree_on_random_graphs(seed in any::<u64>()) {
        check_seed(seed, ReferenceBackend::new());
    }

    /// Graph mode with every composite decomposed into primitives.
    #[test]
    fn eager_and_fully_decomposed_graph_mode_agree(seed in any::<u64>()) {
        check_seed(seed, ReferenceBackend::primitives_only());
    }
}

#[test]
fn random_graphs_have_at_least_twenty_ops() {
    for seed in 0..16 {
        let g = random_graph(seed, 20);
        let ops = g.nodes().iter().filter(|n| !n.op.is_source()).count();
        assert!(ops >= 20, "seed {seed}: only {ops} ops");
    }
}
