//! Graph mode on the CPU backend: random graphs compiled by the pipeline give the reference
//! backend's results and the CPU backend's own eager results; executables report their
//! planned peak, honour thread counts and reject foreign tensors.

mod common;

use hyv_backend_cpu::{CpuBackend, CpuExecutable};
use hyv_backend_reference::ReferenceBackend;
use hyv_ir::testing::{random_graph, random_inputs, random_params};
use hyv_ir::{DType, Graph, HostTensor, Node, Op, TensorType, UnaryOp};
use hyv_runtime::{
    compile, run_op_by_op, Backend, CompileOptions, DeviceTensor, Executable, ParamMap,
    PipelineOptions,
};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use std::sync::Arc;

/// The graph's random inputs and parameters, uploaded to `backend`.
fn bind(backend: &dyn Backend, graph: &Graph, seed: u64) -> (Vec<DeviceTensor>, ParamMap) {
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

/// Runs `graph` compiled for `backend` (graph mode) and downloads the outputs.
fn graph_mode(backend: Arc<dyn Backend>, graph: &Graph, seed: u64) -> Vec<HostTensor> {
    let (inputs, params) = bind(backend.as_ref(), graph, seed);
    let compiled = compile(graph, &backend, &PipelineOptions::default()).unwrap();
    let out = compiled.executable.run(&inputs, &params).unwrap();
    out.iter().map(|t| backend.download(t).unwrap()).collect()
}

/// Runs `graph` op by op on `backend` (eager mode) and downloads the outputs.
fn eager_mode(backend: &dyn Backend, graph: &Graph, seed: u64) -> Vec<HostTensor> {
    let (inputs, params) = bind(backend, graph, seed);
    let out = run_op_by_op(graph, backend, &inputs, &params).unwrap();
    out.iter().map(|t| backend.download(t).unwrap()).collect()
}

fn max_error(got: &[HostTensor], want: &[HostTensor]) -> f64 {
    assert_eq!(got.len(), want.len());
    got.iter()
        .zip(want)
        .map(|(g, w)| common::error(g, w))
        .fold(0.0, f64::max)
}

/// CPU graph mode vs reference eager, and CPU graph vs CPU eager, on random graph `seed`.
fn check_seed(seed: u64) {
    let graph = random_graph(seed, 20);
    let want = eager_mode(&ReferenceBackend::new(), &graph, seed);
    let cpu: Arc<dyn Backend> = Arc::new(CpuBackend::new());
    let lazy = graph_mode(cpu.clone(), &graph, seed);
    let eager = eager_mode(cpu.as_ref(), &graph, seed);
    for (what, err) in [
        ("cpu graph vs reference", max_error(&lazy, &want)),
        ("cpu eager vs cpu graph", max_error(&eager, &lazy)),
    ] {
        assert!(
            err <= 1e-5,
            "seed {seed}: {what}: rel. L2 error {err:e}\n{}",
            hyv_ir::text::print(&graph)
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 48,
        rng_seed: RngSeed::Fixed(0x0063_7075),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn cpu_graph_mode_matches_the_reference_on_random_graphs(seed in any::<u64>()) {
        check_seed(seed);
    }
}

/// `x → exp → tanh → neg`, f32[n].
fn chain(n: usize) -> Graph {
    let mut g = Graph::new("chain");
    let x = g.push(Node {
        op: Op::Input { name: "x".into() },
        inputs: vec![],
        ty: TensorType::new(DType::F32, [n]),
        path: String::new(),
    });
    let a = g.add(Op::Unary(UnaryOp::Exp), &[x], "a").unwrap();
    let b = g.add(Op::Unary(UnaryOp::Tanh), &[a], "b").unwrap();
    let c = g.add(Op::Unary(UnaryOp::Neg), &[b], "c").unwrap();
    g.set_outputs(vec![c]);
    g
}

#[test]
fn executables_report_the_planned_peak_and_run_on_their_own_threads() {
    let g = chain(1000);
    let exe = CpuExecutable::new(&g, CpuBackend::with_threads(1).unwrap()).unwrap();
    assert_eq!(exe.planned_peak_bytes(), Some(8000));
    assert_eq!(exe.kernel_launches(), Some(3));
    let backend = CpuBackend::with_threads(3).unwrap();
    assert_eq!(backend.threads(), 3);
    let x = backend
        .upload(&HostTensor::from_f32([1000], vec![0.5; 1000]).unwrap())
        .unwrap();
    let options = CompileOptions { threads: 2 };
    let out = backend
        .compile(&g, &options)
        .unwrap()
        .run(&[x], &ParamMap::new())
        .unwrap();
    let v = backend.download(&out[0]).unwrap().to_f32_vec();
    assert!((v[999] + 0.5f32.exp().tanh()).abs() < 1e-6);
}

#[test]
fn foreign_tensors_and_wrong_types_are_errors() {
    let cpu = CpuBackend::new();
    let reference = ReferenceBackend::new();
    let t = HostTensor::from_f32([2], vec![1.0, 2.0]).unwrap();
    let foreign = reference.upload(&t).unwrap();
    let neg = Op::Unary(UnaryOp::Neg);
    let err = cpu
        .execute(&neg, t.ty(), &[&foreign], "blocks.0")
        .unwrap_err()
        .to_string();
    assert!(err.contains("cpu backend: neg at `blocks.0`"), "{err}");
    assert!(err.contains("not created by the CPU backend"), "{err}");
    let ours = cpu.upload(&t).unwrap();
    let wrong = TensorType::new(DType::F32, [3]);
    let err = cpu
        .execute(&neg, &wrong, &[&ours], "blocks.1")
        .unwrap_err()
        .to_string();
    assert!(err.contains("f32[2]") && err.contains("f32[3]"), "{err}");
    let err = cpu
        .execute(&Op::MatMul, &wrong, &[&ours], "blocks.2")
        .unwrap_err()
        .to_string();
    assert!(err.contains("matmul at `blocks.2`"), "{err}");
}

/// Composites run natively, except the elementwise activations, which graph mode
/// decomposes so they fuse and run on the JIT.
#[test]
fn composites_are_claimed_except_elementwise_activations() {
    let cpu = CpuBackend::new();
    assert!(!cpu.claims_composite(&Op::Silu));
    assert!(!cpu.claims_composite(&Op::Gelu { tanh: true }));
    assert!(cpu.claims_composite(&Op::Softmax { axis: 1 }));
    assert!(cpu.claims_composite(&Op::Attention {
        scale: hyv_ir::F64(1.0),
        causal: false,
        has_mask: false
    }));
    assert!(!cpu.claims_composite(&Op::MatMul));
}

/// Attention with a scale outside f32's range: the reference scales in f64, the CPU kernel
/// in f32 (where such a scale overflows or underflows), so their results legitimately differ.
fn outside_f32(op: &Op) -> bool {
    let Op::Attention { scale, .. } = op else {
        return false;
    };
    let s = scale.0.abs();
    s.is_finite() && s != 0.0 && (s > f32::MAX as f64 || s < f32::MIN_POSITIVE as f64)
}

/// Graphs holding every op variant and dtype, with special float values: every node is
/// run on both backends from the reference's operand values (so errors do not compound)
/// and must agree; where the reference rejects a node (collectives over several ranks), the
/// CPU backend must reject it too.
#[test]
fn every_node_of_all_op_graphs_matches_the_reference() {
    let (reference, cpu) = (ReferenceBackend::new(), CpuBackend::new());
    for seed in 0..200 {
        let graph = hyv_ir::testing::random_graph_all_ops(seed);
        let mut inputs = random_inputs(&graph, seed).into_iter();
        let params: std::collections::HashMap<_, _> =
            random_params(&graph, seed).into_iter().collect();
        let mut values: Vec<Option<HostTensor>> = vec![None; graph.len()];
        for id in graph.ids() {
            let node = graph.node(id);
            values[id.0] = match &node.op {
                Op::Input { .. } => inputs.next(),
                Op::Parameter { name } => params.get(name).cloned(),
                op => {
                    let operands: Option<Vec<&HostTensor>> =
                        node.inputs.iter().map(|i| values[i.0].as_ref()).collect();
                    let Some(operands) = operands else {
                        continue;
                    };
                    if outside_f32(op) {
                        continue;
                    }
                    let want = common::run_on(&reference, op, &operands);
                    let got = common::run_on(&cpu, op, &operands);
                    match (want, got) {
                        (Ok(w), Ok(g)) => {
                            let tol = common::tolerance(w.dtype());
                            let err = common::error(&g, &w);
                            assert!(err <= tol, "seed {seed}, {id} {}: error {err:e}", op.name());
                            Some(w)
                        }
                        (Err(_), Err(_)) => None,
                        (w, g) => panic!(
                            "seed {seed}, {id} {}: reference {w:?}, cpu {g:?}",
                            op.name()
                        ),
                    }
                }
            };
        }
    }
}
