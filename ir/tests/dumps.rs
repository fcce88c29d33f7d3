//! RON and DOT dumps.

use hyv_ir::dot::to_dot;
use hyv_ir::ron_format::{from_ron, to_ron};
use hyv_ir::testing::{arb_graph, arb_graph_all_ops};
use hyv_ir::{Graph, IrError, Op, TensorData};
use proptest::prelude::*;

/// True when a constant holds a NaN, whose payload RON does not keep.
fn has_nan(g: &Graph) -> bool {
    g.nodes().iter().any(|n| match &n.op {
        Op::Constant { value } => match value.data() {
            TensorData::F32(v) => v.iter().any(|x| x.is_nan()),
            _ => false,
        },
        Op::LayerNorm { eps, .. } | Op::RmsNorm { eps, .. } | Op::GroupNorm { eps, .. } => {
            eps.0.is_nan()
        }
        Op::Attention { scale, .. } => scale.0.is_nan(),
        Op::Pad {
            mode: hyv_ir::PadMode::Constant(c),
            ..
        } => c.0.is_nan(),
        _ => false,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn ron_round_trips(g in arb_graph()) {
        let s = to_ron(&g).unwrap();
        prop_assert_eq!(from_ron(&s).unwrap(), g);
    }

    #[test]
    fn ron_round_trips_every_op(g in arb_graph_all_ops()) {
        let s = to_ron(&g).unwrap();
        let back = from_ron(&s).unwrap();
        if has_nan(&g) {
            // NaN payloads are canonicalised; everything else must survive.
            prop_assert_eq!(back.len(), g.len());
            prop_assert_eq!(back.outputs(), g.outputs());
        } else {
            prop_assert_eq!(back, g);
        }
    }

    #[test]
    fn dot_has_every_node_and_edge(g in arb_graph_all_ops()) {
        let dot = to_dot(&g);
        prop_assert!(dot.starts_with("digraph "));
        prop_assert!(dot.trim_end().ends_with('}'), "no closing brace");
        for (i, n) in g.nodes().iter().enumerate() {
            let needle = format!("%{i} {} : {}", n.op.name(), n.ty);
            prop_assert!(dot.contains(&needle), "missing {}", needle);
        }
        let edges: usize = g.nodes().iter().map(|n| n.inputs.len()).sum();
        prop_assert_eq!(dot.matches(" -> ").count(), edges);
        for k in 0..g.outputs().len() {
            let needle = format!("output {k}");
            prop_assert!(dot.contains(&needle), "missing {}", needle);
        }
    }
}

#[test]
fn from_ron_rejects_garbage_and_invalid_graphs() {
    assert!(matches!(from_ron("not ron"), Err(IrError::Data(_))));
    let empty = to_ron(&Graph::new("empty")).unwrap();
    assert!(matches!(from_ron(&empty), Err(IrError::Verify { .. })));
}

#[test]
fn dot_marks_outputs_and_paths() {
    let g = hyv_ir::testing::random_graph(5, 10);
    let dot = to_dot(&g);
    assert!(dot.contains("peripheries = 2"));
    for n in g.nodes().iter().filter(|n| !n.path.is_empty()) {
        assert!(dot.contains(&n.path), "missing path {}", n.path);
    }
}
