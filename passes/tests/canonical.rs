//! Unit tests of the canonicalising passes: DCE, CSE, constant folding, simplification and
//! the fixed-point pipeline.

mod common;

use common::*;
use hyv_ir::{BinaryOp, DType, Graph, HostTensor, Op, Shape, UnaryOp};
use hyv_passes::{canonicalize, Canonicalize, Cse, Dce, Fold, PassReport, Simplify};
use std::sync::Arc;

fn fold() -> Fold {
    Fold::new(Arc::new(TestEvaluator))
}

#[test]
fn dce_drops_unused_nodes_but_keeps_inputs() {
    let mut g = Graph::new("g");
    let a = input(&mut g, "a", DType::F32, &[3]);
    input(&mut g, "unused", DType::F32, &[2]);
    param(&mut g, "w", DType::F32, &[3]);
    let n = op(&mut g, Op::Unary(UnaryOp::Neg), &[a]);
    op(&mut g, Op::Unary(UnaryOp::Exp), &[n]);
    g.set_outputs(vec![n]);
    let (out, report) = run(&Dce, g);
    assert_eq!(names(&out), ["input", "input", "neg"]);
    assert_eq!(out.outputs(), [hyv_ir::NodeId(2)]);
    assert_eq!(out.node(hyv_ir::NodeId(2)).inputs, [hyv_ir::NodeId(0)]);
    assert_eq!(
        report,
        PassReport {
            pass: "dce",
            changed: true,
            nodes_before: 5,
            nodes_after: 3,
            summary: "dce: removed 2 dead nodes".into(),
        }
    );
    let (again, report) = run(&Dce, out.clone());
    assert_eq!(again, out);
    assert!(!report.changed);
}

#[test]
fn cse_merges_identical_nodes() {
    let mut g = Graph::new("g");
    let a = input(&mut g, "a", DType::F32, &[2, 3]);
    let e1 = op(&mut g, Op::Unary(UnaryOp::Exp), &[a]);
    let e2 = op(&mut g, Op::Unary(UnaryOp::Exp), &[a]);
    let c1 = full(&mut g, 2.0, DType::F32, &[2, 3]);
    let c2 = full(&mut g, 2.0, DType::F32, &[2, 3]);
    let m1 = bin(&mut g, BinaryOp::Mul, e1, c1);
    let m2 = bin(&mut g, BinaryOp::Mul, e2, c2);
    let s = bin(&mut g, BinaryOp::Add, m1, m2);
    g.set_outputs(vec![s, m2]);
    let (out, report) = run(&Cse, g);
    assert_eq!(names(&out), ["input", "exp", "constant", "mul", "add"]);
    let add = out.node(hyv_ir::NodeId(4));
    assert_eq!(add.inputs, [hyv_ir::NodeId(3), hyv_ir::NodeId(3)]);
    assert_eq!(out.outputs(), [hyv_ir::NodeId(4), hyv_ir::NodeId(3)]);
    assert_eq!(report.summary, "cse: merged 3 nodes");
    assert!(report.changed);
    assert_eq!((report.nodes_before, report.nodes_after), (8, 5));
}

#[test]
fn cse_keeps_random_normals_with_different_seeds_or_offsets() {
    let mut g = Graph::new("g");
    let rn = |seed, offset| Op::RandomNormal {
        shape: Shape::new([4]),
        dtype: DType::F32,
        seed,
        offset,
    };
    let r1 = op(&mut g, rn(1, 0), &[]);
    let r2 = op(&mut g, rn(2, 0), &[]);
    let r3 = op(&mut g, rn(1, 4), &[]);
    let r4 = op(&mut g, rn(1, 0), &[]);
    let s1 = bin(&mut g, BinaryOp::Add, r1, r2);
    let s2 = bin(&mut g, BinaryOp::Add, r3, r4);
    let s = bin(&mut g, BinaryOp::Add, s1, s2);
    g.set_outputs(vec![s]);
    let (out, report) = run(&Cse, g);
    let randoms: Vec<(u64, u64)> = out
        .nodes()
        .iter()
        .filter_map(|n| match n.op {
            Op::RandomNormal { seed, offset, .. } => Some((seed, offset)),
            _ => None,
        })
        .collect();
    assert_eq!(randoms, [(1, 0), (2, 0), (1, 4)]);
    assert_eq!(report.summary, "cse: merged 1 nodes");
}

#[test]
fn cse_never_merges_inputs_or_parameters() {
    let mut g = Graph::new("g");
    let a = input(&mut g, "a", DType::F32, &[2]);
    let b = input(&mut g, "b", DType::F32, &[2]);
    let w = param(&mut g, "w", DType::F32, &[2]);
    let v = param(&mut g, "v", DType::F32, &[2]);
    let s1 = bin(&mut g, BinaryOp::Add, a, b);
    let s2 = bin(&mut g, BinaryOp::Add, w, v);
    let s = bin(&mut g, BinaryOp::Mul, s1, s2);
    g.set_outputs(vec![s]);
    let before = g.clone();
    let (out, report) = run(&Cse, g);
    assert_eq!(out, before);
    assert!(!report.changed);
}

#[test]
fn fold_evaluates_constant_subgraphs_and_iota() {
    let mut g = Graph::new("g");
    let x = input(&mut g, "x", DType::F32, &[3]);
    let c1 = constant(&mut g, &[3], vec![1.0, 2.0, 3.0]);
    let c2 = constant(&mut g, &[3], vec![10.0, 20.0, 30.0]);
    let sum = bin(&mut g, BinaryOp::Add, c1, c2);
    let iota = op(
        &mut g,
        Op::Iota {
            shape: Shape::new([3]),
            axis: 0,
            dtype: DType::F32,
        },
        &[],
    );
    let scaled = bin(&mut g, BinaryOp::Mul, sum, iota);
    let y = bin(&mut g, BinaryOp::Add, x, scaled);
    g.set_outputs(vec![y]);
    let (out, report) = run(&fold(), g);
    assert_eq!(report.summary, "fold: folded 2 nodes");
    let y = out.node(out.outputs()[0]);
    let folded = out.node(y.inputs[1]);
    let expected = HostTensor::from_f32([3], vec![0.0, 22.0, 66.0]).unwrap();
    assert_eq!(folded.op, Op::Constant { value: expected });
    // The folded operands are dead now; DCE removes them.
    let (clean, _) = run(&Dce, out);
    assert_eq!(names(&clean), ["input", "constant", "add"]);
}

#[test]
fn fold_respects_the_size_limit_broadcasts_and_evaluator_errors() {
    let mut g = Graph::new("g");
    let c1 = constant(&mut g, &[4], vec![1.0; 4]);
    let c2 = constant(&mut g, &[4], vec![2.0; 4]);
    let sum = bin(&mut g, BinaryOp::Add, c1, c2);
    let b = op(
        &mut g,
        Op::Broadcast {
            shape: Shape::new([4]),
        },
        &[c1],
    );
    let p = bin(&mut g, BinaryOp::Pow, c1, c2);
    g.set_outputs(vec![sum, b, p]);
    let before = g.clone();
    let (out, report) = run(&fold().with_limit(3), g.clone());
    assert_eq!(out, before);
    assert!(!report.changed);
    assert_eq!(report.summary, "fold: folded 0 nodes");
    let (out, report) = run(&fold(), g);
    assert_eq!(
        report.summary,
        "fold: folded 1 nodes (1 left for run time: evaluation failed)"
    );
    assert_eq!(
        names(&out),
        ["constant", "constant", "constant", "broadcast", "pow"]
    );
}

/// A graph computing `x <op> splat(value)` (or `splat <op> x` when `splat_first`).
fn with_splat(b: BinaryOp, value: f64, dtype: DType, splat_first: bool) -> Graph {
    let mut g = Graph::new("g");
    let x = input(&mut g, "x", dtype, &[2, 3]);
    let c = full(&mut g, value, dtype, &[]);
    let r = op(
        &mut g,
        Op::Reshape {
            shape: Shape::new([1, 1]),
        },
        &[c],
    );
    let s = op(
        &mut g,
        Op::Broadcast {
            shape: Shape::new([2, 3]),
        },
        &[r],
    );
    let y = if splat_first {
        bin(&mut g, b, s, x)
    } else {
        bin(&mut g, b, x, s)
    };
    g.set_outputs(vec![y]);
    g
}

#[test]
fn simplify_removes_neutral_elements() {
    let cases = [
        (BinaryOp::Add, 0.0, false),
        (BinaryOp::Add, 0.0, true),
        (BinaryOp::Sub, 0.0, false),
        (BinaryOp::Mul, 1.0, false),
        (BinaryOp::Mul, 1.0, true),
        (BinaryOp::Div, 1.0, false),
    ];
    for dtype in [DType::F32, DType::BF16, DType::I32] {
        for (b, v, first) in cases {
            let (out, report) = run(&Simplify, with_splat(b, v, dtype, first));
            assert_eq!(out.outputs(), [hyv_ir::NodeId(0)], "{b:?} {v} {dtype}");
            assert_eq!(report.summary, "simplify: applied 1 rewrites");
            let (clean, _) = run(&Dce, out);
            assert_eq!(names(&clean), ["input"]);
        }
    }
}

#[test]
fn simplify_keeps_non_identities() {
    let cases = [
        // x * 0 is NaN for x = NaN or inf: never folded to 0.
        (BinaryOp::Mul, 0.0, false),
        (BinaryOp::Mul, 0.0, true),
        (BinaryOp::Sub, 0.0, true),
        (BinaryOp::Div, 1.0, true),
        (BinaryOp::Add, 1.0, false),
        (BinaryOp::Mul, 2.0, false),
        (BinaryOp::Max, 0.0, false),
    ];
    for (b, v, first) in cases {
        let g = with_splat(b, v, DType::F32, first);
        let (out, report) = run(&Simplify, g.clone());
        assert_eq!(out, g, "{b:?} {v}");
        assert!(!report.changed);
    }
    // A constant that is not a splat is not a neutral element.
    let mut g = Graph::new("g");
    let x = input(&mut g, "x", DType::F32, &[2]);
    let c = constant(&mut g, &[2], vec![0.0, 1.0]);
    let y = bin(&mut g, BinaryOp::Add, x, c);
    g.set_outputs(vec![y]);
    let (out, _) = run(&Simplify, g.clone());
    assert_eq!(out, g);
}

#[test]
fn simplify_x_times_zero_survives_the_whole_pipeline() {
    let g = with_splat(BinaryOp::Mul, 0.0, DType::F32, false);
    let pipeline = Canonicalize::new(Some(Arc::new(TestEvaluator)));
    let (out, _) = run(&pipeline, g);
    assert_eq!(names(&out), ["input", "constant", "broadcast", "mul"]);
}

#[test]
fn simplify_collapses_data_movement_chains() {
    let mut g = Graph::new("g");
    let x = input(&mut g, "x", DType::F32, &[2, 3, 4]);
    let n1 = op(&mut g, Op::Unary(UnaryOp::Neg), &[x]);
    let n2 = op(&mut g, Op::Unary(UnaryOp::Neg), &[n1]);
    let r1 = op(
        &mut g,
        Op::Reshape {
            shape: Shape::new([6, 4]),
        },
        &[n2],
    );
    let r2 = op(
        &mut g,
        Op::Reshape {
            shape: Shape::new([24]),
        },
        &[r1],
    );
    let r3 = op(
        &mut g,
        Op::Reshape {
            shape: Shape::new([4, 6]),
        },
        &[r2],
    );
    let p1 = op(
        &mut g,
        Op::Permute {
            perm: vec![1, 2, 0],
        },
        &[x],
    );
    let p2 = op(
        &mut g,
        Op::Permute {
            perm: vec![2, 0, 1],
        },
        &[p1],
    );
    let p3 = op(
        &mut g,
        Op::Permute {
            perm: vec![1, 0, 2],
        },
        &[x],
    );
    let p4 = op(
        &mut g,
        Op::Permute {
            perm: vec![0, 2, 1],
        },
        &[p3],
    );
    let id_slice = op(
        &mut g,
        Op::Slice {
            start: vec![0, 0, 0],
            end: vec![2, 3, 4],
            step: vec![1, 1, 1],
        },
        &[p2],
    );
    let id_cast = op(&mut g, Op::Cast { to: DType::F32 }, &[id_slice]);
    let id_bcast = op(
        &mut g,
        Op::Broadcast {
            shape: Shape::new([2, 3, 4]),
        },
        &[id_cast],
    );
    let id_reshape = op(
        &mut g,
        Op::Reshape {
            shape: Shape::new([2, 3, 4]),
        },
        &[id_bcast],
    );
    g.set_outputs(vec![r3, p4, id_reshape]);
    let (out, report) = run(&Simplify, g);
    assert_eq!(report.summary, "simplify: applied 9 rewrites");
    let (out, _) = run(&Dce, out);
    assert_eq!(names(&out), ["input", "reshape", "permute"]);
    let r = out.node(out.outputs()[0]);
    assert_eq!(
        r.op,
        Op::Reshape {
            shape: Shape::new([4, 6])
        }
    );
    assert_eq!(r.inputs, [hyv_ir::NodeId(0)]);
    // p4(p3(x)): out[i] = x[p3[p4[i]]] = x[[1, 2, 0]].
    assert_eq!(
        out.node(out.outputs()[1]).op,
        Op::Permute {
            perm: vec![1, 2, 0]
        }
    );
    assert_eq!(out.outputs()[2], hyv_ir::NodeId(0));
}

#[test]
fn canonicalize_reaches_a_fixed_point() {
    // y = (x * (c1 + c2 - 3)) + exp(x) + exp(x) with c1 + c2 - 3 == 1 after folding.
    let mut g = Graph::new("g");
    let x = input(&mut g, "x", DType::F32, &[2]);
    let c1 = full(&mut g, 1.5, DType::F32, &[2]);
    let c2 = full(&mut g, 2.5, DType::F32, &[2]);
    let c3 = full(&mut g, 3.0, DType::F32, &[2]);
    let s = bin(&mut g, BinaryOp::Add, c1, c2);
    let one = bin(&mut g, BinaryOp::Sub, s, c3);
    let m = bin(&mut g, BinaryOp::Mul, x, one);
    let e1 = op(&mut g, Op::Unary(UnaryOp::Exp), &[x]);
    let e2 = op(&mut g, Op::Unary(UnaryOp::Exp), &[x]);
    let a = bin(&mut g, BinaryOp::Add, m, e1);
    let y = bin(&mut g, BinaryOp::Add, a, e2);
    g.set_outputs(vec![y]);
    let passes = canonicalize(Some(Arc::new(TestEvaluator)));
    assert_eq!(passes.len(), 1);
    let (out, report) = run(passes[0].as_ref(), g);
    assert_eq!(names(&out), ["input", "exp", "add", "add"]);
    let a = out.node(hyv_ir::NodeId(2));
    assert_eq!(a.inputs, [hyv_ir::NodeId(0), hyv_ir::NodeId(1)]);
    assert!(report.changed);
    assert!(
        report.summary.starts_with("canonicalize: 3 rounds"),
        "{}",
        report.summary
    );
    // Without an evaluator nothing is folded, but CSE still merges the exps.
    let (out2, _) = run(&Canonicalize::new(None), out.clone());
    assert_eq!(out2, out);
}
