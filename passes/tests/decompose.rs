//! Structural tests of the decomposition pass (numerical parity with the reference backend
//! is tested in the `hyv` package's `decompose_parity` test).

mod common;

use common::*;
use hyv_ir::{DType, Graph, NodeId, Op, F64};
use hyv_passes::Decompose;

/// A graph applying `composite` to fresh inputs of the given types, at path `blk.mod`.
fn composite_graph(composite: Op, operands: &[(DType, &[usize])]) -> Graph {
    let mut g = Graph::new("g");
    let ids: Vec<NodeId> = operands
        .iter()
        .enumerate()
        .map(|(i, (d, dims))| input(&mut g, &format!("in{i}"), *d, dims))
        .collect();
    let y = g.add(composite, &ids, "blk.mod").unwrap();
    g.set_outputs(vec![y]);
    g
}

/// One graph per composite op and variant, in the float dtype `d`.
fn all_composites(d: DType) -> Vec<Graph> {
    let b = DType::Bool;
    vec![
        composite_graph(
            Op::Linear { has_bias: true },
            &[(d, &[2, 3, 5]), (d, &[4, 5]), (d, &[4])],
        ),
        composite_graph(Op::Linear { has_bias: false }, &[(d, &[5]), (d, &[4, 5])]),
        composite_graph(Op::Softmax { axis: 1 }, &[(d, &[2, 3, 4])]),
        composite_graph(
            Op::LayerNorm {
                eps: F64(1e-5),
                affine: true,
            },
            &[(d, &[2, 3, 4]), (d, &[4]), (d, &[4])],
        ),
        composite_graph(
            Op::LayerNorm {
                eps: F64(1e-5),
                affine: false,
            },
            &[(d, &[7])],
        ),
        composite_graph(
            Op::RmsNorm {
                eps: F64(1e-6),
                affine: true,
            },
            &[(d, &[3, 4]), (d, &[4])],
        ),
        composite_graph(
            Op::RmsNorm {
                eps: F64(1e-6),
                affine: false,
            },
            &[(d, &[1, 4])],
        ),
        composite_graph(
            Op::GroupNorm {
                groups: 2,
                eps: F64(1e-5),
                affine: true,
            },
            &[(d, &[2, 4, 3, 5]), (d, &[4]), (d, &[4])],
        ),
        composite_graph(
            Op::GroupNorm {
                groups: 3,
                eps: F64(1e-5),
                affine: false,
            },
            &[(d, &[1, 3])],
        ),
        composite_graph(Op::Gelu { tanh: true }, &[(d, &[3, 2])]),
        composite_graph(Op::Gelu { tanh: false }, &[(d, &[3, 2])]),
        composite_graph(Op::Silu, &[(d, &[5])]),
        composite_graph(
            Op::Attention {
                scale: F64(0.5),
                causal: true,
                has_mask: true,
            },
            &[
                (d, &[2, 3, 4, 8]),
                (d, &[2, 3, 5, 8]),
                (d, &[2, 3, 5, 6]),
                (b, &[2, 5]),
            ],
        ),
        composite_graph(
            Op::Attention {
                scale: F64(0.5),
                causal: false,
                has_mask: false,
            },
            &[(d, &[1, 1, 1, 2]), (d, &[1, 1, 3, 2]), (d, &[1, 1, 3, 1])],
        ),
        composite_graph(
            Op::Rope { interleaved: true },
            &[(d, &[2, 3, 5, 4]), (d, &[5, 4]), (d, &[5, 4])],
        ),
        composite_graph(
            Op::Rope { interleaved: false },
            &[(d, &[5, 6]), (d, &[5, 6]), (d, &[5, 6])],
        ),
        composite_graph(
            Op::UpsampleNearest {
                scale: vec![2, 1, 3],
            },
            &[(d, &[1, 2, 3, 1, 2])],
        ),
    ]
}

#[test]
fn every_composite_decomposes_into_verified_primitives() {
    for d in [DType::F32, DType::BF16, DType::F16] {
        for g in all_composites(d) {
            let name = g.node(g.outputs()[0]).op.name();
            let (out, report) = run(&Decompose::new(|_: &Op| false), g);
            assert!(report.changed, "{name}");
            assert_eq!(report.summary, "decompose: decomposed 1 composite nodes");
            for n in out.nodes() {
                assert!(!n.op.is_composite(), "{name} left {}", n.op.name());
                if !matches!(n.op, Op::Input { .. }) {
                    assert_eq!(
                        n.path,
                        "blk.mod",
                        "{name}: {} has path {}",
                        n.op.name(),
                        n.path
                    );
                }
            }
            // Math in f32 for low-precision inputs: cast up, compute, cast down once.
            if d != DType::F32 && !matches!(name, "linear" | "upsample_nearest") {
                let out_node = out.node(out.outputs()[0]);
                assert_eq!(out_node.op, Op::Cast { to: d }, "{name}");
            }
        }
    }
}

#[test]
fn claimed_composites_are_kept() {
    for g in all_composites(DType::F32) {
        let (out, report) = run(&Decompose::new(|_: &Op| true), g.clone());
        assert_eq!(out, g);
        assert!(!report.changed);
        assert_eq!(report.summary, "decompose: decomposed 0 composite nodes");
    }
    let g = composite_graph(Op::Silu, &[(DType::F32, &[3])]);
    let claims_softmax = |op: &Op| matches!(op, Op::Softmax { .. });
    let (out, _) = run(&Decompose::new(claims_softmax), g);
    assert!(out.nodes().iter().all(|n| !n.op.is_composite()));
}

#[test]
fn silu_decomposes_to_the_documented_formula() {
    let g = composite_graph(Op::Silu, &[(DType::F32, &[4])]);
    let (out, _) = run(&Decompose::new(|_: &Op| false), g);
    assert_eq!(
        names(&out),
        [
            "input",
            "neg",
            "exp",
            "constant",
            "reshape",
            "broadcast",
            "add",
            "div"
        ]
    );
    let div = out.node(out.outputs()[0]);
    assert_eq!(div.inputs, [NodeId(0), NodeId(6)]);
}

#[test]
fn linear_uses_a_rank_two_matmul() {
    let g = composite_graph(
        Op::Linear { has_bias: false },
        &[(DType::F32, &[2, 3, 5]), (DType::F32, &[4, 5])],
    );
    let (out, _) = run(&Decompose::new(|_: &Op| false), g);
    assert_eq!(
        names(&out),
        ["input", "input", "permute", "reshape", "matmul", "reshape"]
    );
    let mm = out.node(NodeId(4));
    assert_eq!(out.ty(mm.inputs[0]).shape.dims(), [6, 5]);
    assert_eq!(out.ty(mm.inputs[1]).shape.dims(), [5, 4]);
}

#[test]
fn unmasked_attention_has_no_masking_nodes() {
    let d = DType::F32;
    let g = composite_graph(
        Op::Attention {
            scale: F64(0.25),
            causal: false,
            has_mask: false,
        },
        &[(d, &[1, 2, 3, 4]), (d, &[1, 2, 5, 4]), (d, &[1, 2, 5, 4])],
    );
    let (out, _) = run(&Decompose::new(|_: &Op| false), g);
    let ops = names(&out);
    assert!(
        !ops.contains(&"select") && !ops.contains(&"iota"),
        "{ops:?}"
    );
    assert_eq!(ops.iter().filter(|&&n| n == "matmul").count(), 2);
}
