//! Compiled graphs: binding of inputs and parameters, values, and binding errors.

mod common;
use common::*;
use hyv_backend_reference::ReferenceBackend;
use hyv_ir::{BinaryOp, DType, Graph, HostTensor, Node, NodeId, Op, TensorType, UnaryOp};
use hyv_runtime::{Backend, CompileOptions, DeviceTensor, Error, ParamMap};

fn leaf(g: &mut Graph, op: Op, ty: TensorType) -> NodeId {
    g.push(Node {
        op,
        inputs: vec![],
        ty,
        path: "block".into(),
    })
}

/// `z = x @ w + x`, `y = neg(x @ w)`; outputs `(z, y, x)`, plus a dead node.
fn graph() -> Graph {
    let ty = TensorType::new(DType::F32, [2, 2]);
    let mut g = Graph::new("small");
    let x = leaf(&mut g, Op::Input { name: "x".into() }, ty.clone());
    let w = leaf(
        &mut g,
        Op::Parameter {
            name: "block.w".into(),
        },
        ty,
    );
    let xw = g.add(Op::MatMul, &[x, w], "block").unwrap();
    let z = g.add(Op::Binary(BinaryOp::Add), &[xw, x], "block").unwrap();
    let y = g.add(Op::Unary(UnaryOp::Neg), &[xw], "block").unwrap();
    g.add(Op::Unary(UnaryOp::Exp), &[w], "block.dead").unwrap();
    g.set_outputs(vec![z, y, x]);
    g
}

fn params(b: &ReferenceBackend, w: &HostTensor) -> ParamMap {
    let mut p = ParamMap::new();
    p.insert("block.w".into(), b.upload(w).unwrap());
    p.insert("unused".into(), b.upload(w).unwrap());
    p
}

fn binding_message(r: hyv_runtime::Result<Vec<DeviceTensor>>) -> String {
    match r {
        Err(Error::Binding(m)) => m,
        Err(e) => panic!("expected a binding error, got {e}"),
        Ok(_) => panic!("expected a binding error, got values"),
    }
}

#[test]
fn runs_a_graph_with_inputs_and_parameters() {
    let b = ReferenceBackend::new();
    let exe = b.compile(&graph(), &CompileOptions::default()).unwrap();
    let x = f32t(&[2, 2], &[1.0, 2.0, 3.0, 4.0]);
    let w = f32t(&[2, 2], &[5.0, 6.0, 7.0, 8.0]);
    let out = exe.run(&[b.upload(&x).unwrap()], &params(&b, &w)).unwrap();
    assert_eq!(out.len(), 3);
    let host: Vec<HostTensor> = out.iter().map(|t| b.download(t).unwrap()).collect();
    assert_exact(&host[0], &[2, 2], &[20.0, 24.0, 46.0, 54.0]);
    assert_exact(&host[1], &[2, 2], &[-19.0, -22.0, -43.0, -50.0]);
    assert_eq!(host[2], x);
    // Running again gives the same values.
    let again = exe.run(&[b.upload(&x).unwrap()], &params(&b, &w)).unwrap();
    assert_eq!(b.download(&again[0]).unwrap(), host[0]);
}

#[test]
fn composites_are_claimed() {
    let b = ReferenceBackend::new();
    assert!(b.claims_composite(&Op::Silu));
    assert!(b.claims_composite(&Op::Gelu { tanh: false }));
    assert_eq!(b.name(), "reference");
}

#[test]
fn missing_parameter_is_a_binding_error() {
    let b = ReferenceBackend::new();
    let exe = b.compile(&graph(), &CompileOptions::default()).unwrap();
    let x = b.upload(&f32t(&[2, 2], &[1.0; 4])).unwrap();
    let m = binding_message(exe.run(&[x], &ParamMap::new()));
    assert!(
        m.contains("`block.w`") && m.contains("missing") && m.contains("f32[2,2]"),
        "{m}"
    );
}

#[test]
fn wrong_parameter_type_is_a_binding_error() {
    let b = ReferenceBackend::new();
    let exe = b.compile(&graph(), &CompileOptions::default()).unwrap();
    let x = b.upload(&f32t(&[2, 2], &[1.0; 4])).unwrap();
    let w = f32t(&[4], &[1.0; 4]);
    let m = binding_message(exe.run(&[x], &params(&b, &w)));
    assert!(
        m.contains("`block.w`") && m.contains("f32[2,2]") && m.contains("f32[4]"),
        "{m}"
    );
}

#[test]
fn wrong_input_count_is_a_binding_error() {
    let b = ReferenceBackend::new();
    let exe = b.compile(&graph(), &CompileOptions::default()).unwrap();
    let w = f32t(&[2, 2], &[1.0; 4]);
    let m = binding_message(exe.run(&[], &params(&b, &w)));
    assert!(
        m.contains("1 inputs") && m.contains("`x`") && m.contains("got 0"),
        "{m}"
    );
}

#[test]
fn wrong_input_type_is_a_binding_error() {
    let b = ReferenceBackend::new();
    let exe = b.compile(&graph(), &CompileOptions::default()).unwrap();
    let w = f32t(&[2, 2], &[1.0; 4]);
    let x = b.upload(&typed(DType::F16, &[2, 2], &[1.0; 4])).unwrap();
    let m = binding_message(exe.run(&[x], &params(&b, &w)));
    assert!(
        m.contains("`x`") && m.contains("f32[2,2]") && m.contains("f16[2,2]"),
        "{m}"
    );
}

#[test]
fn run_time_errors_name_the_node() {
    let mut g = Graph::new("gathers");
    let x = leaf(
        &mut g,
        Op::Input { name: "x".into() },
        TensorType::new(DType::F32, [3]),
    );
    let i = leaf(
        &mut g,
        Op::Input { name: "i".into() },
        TensorType::new(DType::I64, [1]),
    );
    let y = g.add(Op::Gather { axis: 0 }, &[x, i], "embed").unwrap();
    g.set_outputs(vec![y]);
    let b = ReferenceBackend::new();
    let exe = b.compile(&g, &CompileOptions::default()).unwrap();
    let xs = b.upload(&f32t(&[3], &[1.0, 2.0, 3.0])).unwrap();
    let ok = exe.run(
        &[xs.clone(), b.upload(&i64t(&[1], &[2])).unwrap()],
        &ParamMap::new(),
    );
    assert_exact(&b.download(&ok.unwrap()[0]).unwrap(), &[1], &[3.0]);
    let err = exe
        .run(
            &[xs, b.upload(&i64t(&[1], &[5])).unwrap()],
            &ParamMap::new(),
        )
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("gather") && err.contains("`embed`") && err.contains("index 5"),
        "{err}"
    );
}

#[test]
fn invalid_graphs_are_rejected_at_compile_time() {
    let mut g = Graph::new("empty_outputs");
    leaf(
        &mut g,
        Op::Input { name: "x".into() },
        TensorType::new(DType::F32, [1]),
    );
    let b = ReferenceBackend::new();
    assert!(b.compile(&g, &CompileOptions::default()).is_err());
}

#[test]
fn foreign_device_tensors_are_rejected() {
    let b = ReferenceBackend::new();
    let foreign = DeviceTensor::new(TensorType::new(DType::F32, [1]), std::sync::Arc::new(0u8));
    let err = b.download(&foreign).unwrap_err().to_string();
    assert!(
        err.contains("not created by the reference backend"),
        "{err}"
    );
}
