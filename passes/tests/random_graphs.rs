//! Property tests: the full pipeline (canonicalise, decompose everything, canonicalise
//! again) turns random graphs into verified graphs with the same calling convention.

mod common;

use common::TestEvaluator;
use hyv_ir::testing::{random_graph, random_graph_all_ops};
use hyv_ir::{verify, Graph, Op, TensorType};
use hyv_passes::{canonicalize, Decompose, PassManager};
use proptest::prelude::*;
use std::sync::Arc;

/// Runs the full pipeline and checks the result.
fn check(g: Graph) -> Result<(), TestCaseError> {
    let types = |g: &Graph, ids: &[hyv_ir::NodeId]| -> Vec<TensorType> {
        ids.iter().map(|&i| g.ty(i).clone()).collect()
    };
    let out_tys = types(&g, g.outputs());
    let in_tys = types(&g, &g.inputs());
    let manager = PassManager::new()
        .stage("canonical", canonicalize(Some(Arc::new(TestEvaluator))))
        .stage("decomposed", vec![Box::new(Decompose::new(|_: &Op| false))])
        .stage("cleaned", canonicalize(Some(Arc::new(TestEvaluator))));
    let (out, log) = manager
        .run(g)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    verify(&out).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert!(out.nodes().iter().all(|n| !n.op.is_composite()));
    prop_assert_eq!(types(&out, out.outputs()), out_tys);
    prop_assert_eq!(types(&out, &out.inputs()), in_tys);
    prop_assert_eq!(log.entries.len(), 3);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn tame_graphs_keep_their_signature(seed in any::<u64>(), min_ops in 1usize..40) {
        check(random_graph(seed, min_ops))?;
    }

    #[test]
    fn graphs_with_every_op_keep_their_signature(seed in any::<u64>()) {
        check(random_graph_all_ops(seed))?;
    }
}
