//! The verifier: every invariant violation is reported with the offending node.

use hyv_ir::{verify, DType, Graph, IrError, Node, NodeId, Op, TensorType, UnaryOp};

fn input(g: &mut Graph, name: &str, dims: &[usize]) -> NodeId {
    g.push(Node {
        op: Op::Input { name: name.into() },
        inputs: vec![],
        ty: TensorType::new(DType::F32, dims.to_vec()),
        path: String::new(),
    })
}

fn verify_err(g: &Graph) -> (usize, String) {
    match verify(g) {
        Err(IrError::Verify { node, message, .. }) => (node, message),
        other => panic!("expected a verify error, got {other:?}"),
    }
}

#[test]
fn valid_graph_passes() {
    let mut g = Graph::new("ok");
    let x = input(&mut g, "x", &[2, 3]);
    let y = g.add(Op::Unary(UnaryOp::Tanh), &[x], "act").unwrap();
    g.set_outputs(vec![y]);
    verify(&g).unwrap();
}

#[test]
fn stored_type_must_match_inferred() {
    let mut g = Graph::new("g");
    let x = input(&mut g, "x", &[2, 3]);
    let y = g.push(Node {
        op: Op::Unary(UnaryOp::Tanh),
        inputs: vec![x],
        ty: TensorType::new(DType::F32, [3, 2]),
        path: "blocks.1".into(),
    });
    g.set_outputs(vec![y]);
    let (node, m) = verify_err(&g);
    assert_eq!(node, 1);
    assert!(
        m.contains("f32[3,2]") && m.contains("f32[2,3]") && m.contains("blocks.1"),
        "{m}"
    );
}

#[test]
fn invalid_op_is_reported() {
    let mut g = Graph::new("g");
    let x = input(&mut g, "x", &[2, 3]);
    let y = g.push(Node {
        op: Op::MatMul,
        inputs: vec![x, x],
        ty: TensorType::new(DType::F32, [2, 3]),
        path: "attn".into(),
    });
    g.set_outputs(vec![y]);
    let (node, m) = verify_err(&g);
    assert_eq!(node, 1);
    assert!(m.contains("matmul at `attn`"), "{m}");
}

#[test]
fn operands_must_precede_users() {
    let mut g = Graph::new("g");
    let x = input(&mut g, "x", &[2]);
    let y = g.push(Node {
        op: Op::Unary(UnaryOp::Neg),
        inputs: vec![NodeId(2)],
        ty: TensorType::new(DType::F32, [2]),
        path: String::new(),
    });
    g.push(Node {
        op: Op::Unary(UnaryOp::Neg),
        inputs: vec![x],
        ty: TensorType::new(DType::F32, [2]),
        path: String::new(),
    });
    g.set_outputs(vec![y]);
    let (node, m) = verify_err(&g);
    assert_eq!(node, 1);
    assert!(m.contains("%2") && m.contains("precede"), "{m}");
    // A node using itself is a forward reference too.
    let mut g = Graph::new("g");
    let z = g.push(Node {
        op: Op::Unary(UnaryOp::Neg),
        inputs: vec![NodeId(0)],
        ty: TensorType::new(DType::F32, [2]),
        path: String::new(),
    });
    g.set_outputs(vec![z]);
    assert_eq!(verify_err(&g).0, 0);
}

#[test]
fn input_and_parameter_names_are_unique() {
    let mut g = Graph::new("g");
    input(&mut g, "x", &[2]);
    let y = input(&mut g, "x", &[3]);
    g.set_outputs(vec![y]);
    let (node, m) = verify_err(&g);
    assert_eq!(node, 1);
    assert!(m.contains("input `x`") && m.contains("%0"), "{m}");

    let mut g = Graph::new("g");
    let param = |name: &str| Node {
        op: Op::Parameter { name: name.into() },
        inputs: vec![],
        ty: TensorType::new(DType::F32, [2]),
        path: String::new(),
    };
    g.push(param("w"));
    input(&mut g, "w", &[2]);
    let p = g.push(param("w"));
    g.set_outputs(vec![p]);
    let (node, m) = verify_err(&g);
    assert_eq!(node, 2, "an input and a parameter may share a name");
    assert!(m.contains("parameter `w`"), "{m}");
}

#[test]
fn outputs_must_exist() {
    let mut g = Graph::new("g");
    input(&mut g, "x", &[2]);
    let (_, m) = verify_err(&g);
    assert!(m.contains("no outputs"), "{m}");
    g.set_outputs(vec![NodeId(5)]);
    let (node, m) = verify_err(&g);
    assert_eq!(node, 5);
    assert!(m.contains("does not exist"), "{m}");
    let e = verify(&g).unwrap_err().to_string();
    assert!(e.contains("invalid graph `g`"), "{e}");
}
