//! The fusion pass: which nodes group, where groups are cut and why, the reordering that
//! makes groups contiguous, and the text/RON round trip of a fused graph.

mod common;

use common::{bin, input, names, op, param, run};
use hyv_ir::{BinaryOp, DType, Graph, NodeId, Op, ReduceOp, Shape, UnaryOp};
use hyv_passes::Fuse;

fn un(g: &mut Graph, u: UnaryOp, x: NodeId) -> NodeId {
    op(g, Op::Unary(u), &[x])
}

fn row_sum(g: &mut Graph, x: NodeId, axis: usize) -> NodeId {
    let reduce = Op::Reduce {
        op: ReduceOp::Sum,
        axes: vec![axis],
        keep_dims: false,
    };
    op(g, reduce, &[x])
}

/// The group of every node, in node order.
fn groups(g: &Graph) -> Vec<Option<u32>> {
    g.ids().map(|id| g.group(id)).collect()
}

#[test]
fn a_chain_with_a_broadcast_bias_is_one_group() {
    let mut g = Graph::new("bias");
    let x = input(&mut g, "x", DType::F32, &[4, 8]);
    let b = param(&mut g, "b", DType::F32, &[8]);
    let r = op(
        &mut g,
        Op::Reshape {
            shape: Shape::new([1, 8]),
        },
        &[b],
    );
    let bb = op(
        &mut g,
        Op::Broadcast {
            shape: Shape::new([4, 8]),
        },
        &[r],
    );
    let a = bin(&mut g, BinaryOp::Add, x, bb);
    let e = un(&mut g, UnaryOp::Exp, a);
    let y = bin(&mut g, BinaryOp::Mul, e, x);
    g.set_outputs(vec![y]);
    let (out, report) = run(&Fuse, g);
    assert_eq!(report.summary, "fuse: formed 1 groups fusing 5 ops");
    assert!(report.changed);
    let g0 = Some(0);
    assert_eq!(groups(&out), [None, None, g0, g0, g0, g0, g0]);
}

#[test]
fn values_used_outside_a_group_and_graph_outputs_cut_it() {
    let mut g = Graph::new("fanout");
    let x = input(&mut g, "x", DType::F32, &[16]);
    let e = un(&mut g, UnaryOp::Exp, x);
    let s = un(&mut g, UnaryOp::Sin, e);
    let a = un(&mut g, UnaryOp::Neg, s);
    let b = un(&mut g, UnaryOp::Cos, s);
    let c = un(&mut g, UnaryOp::Tanh, b);
    g.set_outputs(vec![a, c, e]);
    let (out, report) = run(&Fuse, g);
    // `s` feeds two consumers in different kernels and `e` is an output: both are
    // materialised; `a` alone is no group; `b → c` is one.
    assert_eq!(report.summary, "fuse: formed 1 groups fusing 2 ops");
    assert_eq!(names(&out), ["input", "exp", "sin", "neg", "cos", "tanh"]);
    assert_eq!(groups(&out), [None, None, None, None, Some(0), Some(0)]);
}

#[test]
fn a_last_axis_reduction_ends_a_group_and_other_reductions_do_not_join() {
    let mut g = Graph::new("reduce");
    let x = input(&mut g, "x", DType::F32, &[3, 5]);
    let e = un(&mut g, UnaryOp::Exp, x);
    let rows = row_sum(&mut g, e, 1);
    let n = un(&mut g, UnaryOp::Neg, x);
    let cols = row_sum(&mut g, n, 0);
    let m = un(&mut g, UnaryOp::Sqrt, cols);
    g.set_outputs(vec![rows, m]);
    let (out, _) = run(&Fuse, g);
    // {exp, reduce_sum over the last axis}; the column sum cuts `neg` and `sqrt` apart.
    assert_eq!(
        names(&out),
        ["input", "exp", "reduce_sum", "neg", "reduce_sum", "sqrt"]
    );
    assert_eq!(groups(&out), [None, Some(0), Some(0), None, None, None]);
}

#[test]
fn contractions_integers_and_elementwise_ops_feeding_views_cut_groups() {
    let mut g = Graph::new("cuts");
    let x = input(&mut g, "x", DType::F32, &[2, 4]);
    let w = param(&mut g, "w", DType::F32, &[4, 4]);
    let i = input(&mut g, "i", DType::I32, &[2, 4]);
    let t = un(&mut g, UnaryOp::Tanh, x);
    let m = op(&mut g, Op::MatMul, &[t, w]);
    let e = un(&mut g, UnaryOp::Exp, m);
    let ii = bin(&mut g, BinaryOp::Add, i, i);
    let f = op(&mut g, Op::Cast { to: DType::F32 }, &[ii]);
    let y = bin(&mut g, BinaryOp::Mul, e, f);
    let s = un(&mut g, UnaryOp::Sin, y);
    let r = op(
        &mut g,
        Op::Reshape {
            shape: Shape::new([8]),
        },
        &[s],
    );
    let z = un(&mut g, UnaryOp::Neg, r);
    g.set_outputs(vec![z]);
    let (out, report) = run(&Fuse, g);
    // `tanh` and the int ops stay alone; `exp·cast → sin` is a group; the reshape of `sin`
    // is a view of an elementwise value (another iteration shape): `reshape → neg` only.
    assert_eq!(report.summary, "fuse: formed 2 groups fusing 5 ops");
    let grouped: Vec<(&str, Option<u32>)> = out
        .ids()
        .map(|id| (out.node(id).op.name(), out.group(id)))
        .filter(|(_, g)| g.is_some())
        .collect();
    assert_eq!(
        grouped,
        [
            ("exp", Some(0)),
            ("mul", Some(0)),
            ("sin", Some(0)),
            ("reshape", Some(1)),
            ("neg", Some(1))
        ]
    );
}

#[test]
fn members_move_next_to_their_root_and_inputs_keep_their_order() {
    let mut g = Graph::new("order");
    let x = input(&mut g, "x", DType::F32, &[6]);
    let a = un(&mut g, UnaryOp::Exp, x);
    let y = input(&mut g, "y", DType::F32, &[6]);
    let other = un(&mut g, UnaryOp::Cos, y);
    let b = bin(&mut g, BinaryOp::Mul, a, other);
    g.set_outputs(vec![b, other]);
    let (out, _) = run(&Fuse, g);
    assert_eq!(names(&out), ["input", "input", "cos", "exp", "mul"]);
    assert_eq!(groups(&out), [None, None, None, Some(0), Some(0)]);
    assert!(matches!(&out.node(NodeId(0)).op, Op::Input { name } if name == "x"));
}

#[test]
fn a_fused_graph_round_trips_through_text_and_ron() {
    let mut g = Graph::new("softmax_tail");
    let x = input(&mut g, "x", DType::F32, &[2, 7]);
    let e = un(&mut g, UnaryOp::Exp, x);
    let s = row_sum(&mut g, e, 1);
    let r = op(
        &mut g,
        Op::Reshape {
            shape: Shape::new([2, 1]),
        },
        &[s],
    );
    let bs = op(
        &mut g,
        Op::Broadcast {
            shape: Shape::new([2, 7]),
        },
        &[r],
    );
    let y = bin(&mut g, BinaryOp::Div, x, bs);
    g.set_outputs(vec![y]);
    let (out, _) = run(&Fuse, g);
    let text = hyv_ir::text::print(&out);
    assert!(
        text.contains("reduce_sum(%1) {axes=[1], keep_dims=false, group=0}"),
        "{text}"
    );
    assert!(text.contains("div(%0, %4) {group=1}"), "{text}");
    assert_eq!(hyv_ir::text::parse(&text).unwrap(), out);
    let ron = hyv_ir::ron_format::to_ron(&out).unwrap();
    assert_eq!(hyv_ir::ron_format::from_ron(&ron).unwrap(), out);
    // Sources never belong to a group.
    let mut bad = out.clone();
    bad.set_group(NodeId(0), Some(3));
    let err = hyv_ir::verify(&bad).unwrap_err().to_string();
    assert!(err.contains("input cannot be in fusion group 3"), "{err}");
}

#[test]
fn a_view_shared_by_kernels_is_copied_into_each_and_shared_by_the_rest() {
    // One broadcast of a scalar constant feeding two elementwise chains cut apart by a
    // matmul, the matmul itself, and the graph's outputs (as CSE leaves GELU's constants).
    let mut g = Graph::new("shared_view");
    let x = input(&mut g, "x", DType::F32, &[4, 4]);
    let c = common::full(&mut g, 0.5, DType::F32, &[1, 1]);
    let bc = op(
        &mut g,
        Op::Broadcast {
            shape: Shape::new([4, 4]),
        },
        &[c],
    );
    let a = bin(&mut g, BinaryOp::Mul, x, bc);
    let e = un(&mut g, UnaryOp::Exp, a);
    let m = op(&mut g, Op::MatMul, &[e, bc]);
    let b = bin(&mut g, BinaryOp::Add, m, bc);
    let t = un(&mut g, UnaryOp::Tanh, b);
    g.set_outputs(vec![t, bc]);
    let (out, report) = run(&Fuse, g);
    assert_eq!(report.summary, "fuse: formed 2 groups fusing 6 ops");
    let listed: Vec<(&str, Option<u32>)> = out
        .ids()
        .map(|id| (out.node(id).op.name(), out.group(id)))
        .collect();
    assert_eq!(
        listed,
        [
            ("input", None),
            ("constant", None),
            ("broadcast", Some(0)),
            ("mul", Some(0)),
            ("exp", Some(0)),
            // The matmul and the outputs share one materialised copy.
            ("broadcast", None),
            ("matmul", None),
            ("broadcast", Some(1)),
            ("add", Some(1)),
            ("tanh", Some(1)),
        ]
    );
    assert_eq!(out.outputs(), [NodeId(9), NodeId(5)]);
}
