//! Tests of the pass manager: stages, verification naming the pass at fault, reports and
//! numbered dumps.

mod common;

use common::*;
use hyv_ir::{verify, BinaryOp, DType, Graph, IrError, Node, Op, UnaryOp, F64};
use hyv_passes::{canonicalize, Cse, Dce, Decompose, Pass, PassError, PassManager, PassReport};

/// `softmax(x + 0) + exp(x) + exp(x)`.
fn sample() -> Graph {
    let mut g = Graph::new("sample");
    let x = input(&mut g, "x", DType::F32, &[2, 3]);
    let z = full(&mut g, 0.0, DType::F32, &[2, 3]);
    let x0 = bin(&mut g, BinaryOp::Add, x, z);
    let s = op(&mut g, Op::Softmax { axis: 1 }, &[x0]);
    let e1 = op(&mut g, Op::Unary(UnaryOp::Exp), &[x]);
    let e2 = op(&mut g, Op::Unary(UnaryOp::Exp), &[x]);
    let a = bin(&mut g, BinaryOp::Add, s, e1);
    let y = bin(&mut g, BinaryOp::Add, a, e2);
    g.set_outputs(vec![y]);
    g
}

fn pipeline() -> PassManager<'static> {
    PassManager::new()
        .stage("canonical", canonicalize(None))
        .stage(
            "decomposed",
            vec![
                Box::new(Decompose::new(|_: &Op| false)),
                Box::new(Cse),
                Box::new(Dce),
            ],
        )
}

#[test]
fn runs_stages_in_order_and_reports() {
    let (out, log) = pipeline().run(sample()).unwrap();
    verify(&out).unwrap();
    assert!(out.nodes().iter().all(|n| !n.op.is_composite()));
    let passes: Vec<(&str, &str)> = log
        .entries
        .iter()
        .map(|(s, r)| (s.as_str(), r.pass))
        .collect();
    assert_eq!(
        passes,
        [
            ("canonical", "canonicalize"),
            ("decomposed", "decompose"),
            ("decomposed", "cse"),
            ("decomposed", "dce")
        ]
    );
    assert_eq!(log.entries[0].1.nodes_before, 8);
    assert_eq!(log.entries[0].1.nodes_after, 5);
    let table = log.to_string();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 5, "{table}");
    assert!(lines[0].starts_with("stage"), "{table}");
    assert!(lines[0].contains("summary"), "{table}");
    assert!(
        lines[2].contains("decompose: decomposed 1 composite nodes"),
        "{table}"
    );
}

#[test]
fn writes_numbered_dumps() {
    let dir = tempfile::tempdir().unwrap();
    let dumps = dir.path().join("graphs");
    let (out, _) = pipeline().dump_to(&dumps).run(sample()).unwrap();
    let mut files: Vec<String> = std::fs::read_dir(&dumps)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        ["00_traced.hyv", "01_canonical.hyv", "02_decomposed.hyv"]
    );
    let read = |name: &str| std::fs::read_to_string(dumps.join(name)).unwrap();
    assert_eq!(read("00_traced.hyv"), hyv_ir::text::print(&sample()));
    assert_eq!(read("02_decomposed.hyv"), hyv_ir::text::print(&out));
    let (canonical, _) = PassManager::new()
        .stage("canonical", canonicalize(None))
        .run(sample())
        .unwrap();
    assert_eq!(read("01_canonical.hyv"), hyv_ir::text::print(&canonical));
}

/// A test-only pass that breaks the graph by retyping its last node.
struct Retype;

impl Pass for Retype {
    fn name(&self) -> &'static str {
        "retype"
    }

    fn run(&self, graph: Graph) -> Result<(Graph, PassReport), IrError> {
        let mut out = Graph::new(graph.name.clone());
        let n = graph.len();
        for (i, node) in graph.nodes().iter().enumerate() {
            let mut node: Node = node.clone();
            if i + 1 == n {
                node.ty.dtype = DType::F16;
            }
            out.push(node);
        }
        out.set_outputs(graph.outputs().to_vec());
        let report = PassReport::new(self.name(), true, n, n, "retyped 1 node");
        Ok((out, report))
    }
}

/// A test-only pass that keeps the graph valid but changes the output type.
struct ChangeOutput;

impl Pass for ChangeOutput {
    fn name(&self) -> &'static str {
        "change_output"
    }

    fn run(&self, mut graph: Graph) -> Result<(Graph, PassReport), IrError> {
        let n = graph.len();
        let o = graph.outputs()[0];
        let c = graph.add(Op::Cast { to: DType::BF16 }, &[o], "")?;
        graph.set_outputs(vec![c]);
        Ok((
            graph,
            PassReport::new(self.name(), true, n, n + 1, "cast output"),
        ))
    }
}

/// A test-only pass that fails.
struct Failing;

impl Pass for Failing {
    fn name(&self) -> &'static str {
        "failing"
    }

    fn run(&self, _graph: Graph) -> Result<(Graph, PassReport), IrError> {
        Err(IrError::Data("nothing to see".into()))
    }
}

#[test]
fn names_the_pass_that_breaks_the_graph() {
    let err = PassManager::new()
        .stage("canonical", vec![Box::new(Cse)])
        .stage(
            "broken",
            vec![Box::new(Dce), Box::new(Retype), Box::new(Cse)],
        )
        .run(sample())
        .unwrap_err();
    match &err {
        PassError::Invalid { stage, pass, .. } => {
            assert_eq!((stage.as_str(), *pass), ("broken", "retype"))
        }
        other => panic!("unexpected error {other}"),
    }
    let msg = err.to_string();
    assert!(
        msg.contains("pass `retype` (stage `broken`) produced an invalid graph"),
        "{msg}"
    );

    let err = PassManager::new()
        .stage("s", vec![Box::new(ChangeOutput)])
        .run(sample())
        .unwrap_err();
    assert!(
        matches!(
            err,
            PassError::Invalid {
                pass: "change_output",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("output types changed"), "{err}");

    let err = PassManager::new()
        .stage("s", vec![Box::new(Failing)])
        .run(sample())
        .unwrap_err();
    assert!(
        matches!(
            err,
            PassError::Failed {
                pass: "failing",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn rejects_an_invalid_input_graph() {
    let mut g = sample();
    g.set_outputs(vec![]);
    let err = PassManager::new().run(g).unwrap_err();
    assert!(matches!(err, PassError::Input(_)), "{err}");
}

#[test]
fn broken_dump_directory_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "not a directory").unwrap();
    let err = PassManager::new()
        .stage("s", vec![Box::new(Cse)])
        .dump_to(blocker.join("sub"))
        .run(sample())
        .unwrap_err();
    assert!(matches!(err, PassError::Dump { .. }), "{err}");
    assert!(err.to_string().contains("00_traced.hyv"), "{err}");
}

#[test]
fn keeps_a_layer_norm_attribute_graph_valid() {
    // A composite with an f64 attribute goes through the whole pipeline.
    let mut g = Graph::new("ln");
    let x = input(&mut g, "x", DType::BF16, &[2, 5]);
    let y = op(
        &mut g,
        Op::LayerNorm {
            eps: F64(1e-5),
            affine: false,
        },
        &[x],
    );
    g.set_outputs(vec![y]);
    let (out, _) = pipeline().run(g).unwrap();
    assert_eq!(out.ty(out.outputs()[0]).dtype, DType::BF16);
}

#[test]
fn passes_may_borrow_from_the_caller() {
    let claimed = ["softmax"];
    let manager = PassManager::new().stage(
        "decomposed",
        vec![Box::new(Decompose::new(|op: &Op| {
            claimed.contains(&op.name())
        }))],
    );
    let (out, _) = manager.run(sample()).unwrap();
    let composites: Vec<&str> = out
        .nodes()
        .iter()
        .filter(|n| n.op.is_composite())
        .map(|n| n.op.name())
        .collect();
    assert_eq!(composites, ["softmax"]);
}
