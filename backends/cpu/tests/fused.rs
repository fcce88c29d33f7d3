//! Fused execution: every fusion pattern compiled for the CPU (fusion on) against the
//! reference backend (rel. L2 ≤ 1e-5 for f32) and against the CPU's own eager kernels
//! (identical results), with the launches fusion saves.

mod common;

use common::{error, random, rng, tolerance};
use hyv_backend_cpu::CpuBackend;
use hyv_backend_reference::ReferenceBackend;
use hyv_ir::{
    BinaryOp, CmpOp, DType, Graph, HostTensor, Node, NodeId, Op, ReduceOp, Shape, TensorType,
    UnaryOp, F64,
};
use hyv_runtime::{compile, run_op_by_op, Backend, ParamMap, PipelineOptions};
use std::sync::Arc;

fn input(g: &mut Graph, name: &str, dtype: DType, dims: &[usize]) -> NodeId {
    g.push(Node {
        op: Op::Input { name: name.into() },
        inputs: vec![],
        ty: TensorType::new(dtype, dims),
        path: String::new(),
    })
}

fn add(g: &mut Graph, op: Op, inputs: &[NodeId]) -> NodeId {
    g.add(op, inputs, "block").unwrap()
}

fn bin(g: &mut Graph, b: BinaryOp, x: NodeId, y: NodeId) -> NodeId {
    add(g, Op::Binary(b), &[x, y])
}

fn un(g: &mut Graph, u: UnaryOp, x: NodeId) -> NodeId {
    add(g, Op::Unary(u), &[x])
}

/// `x` ([d]) broadcast to `dims` along the last axis.
fn bias(g: &mut Graph, x: NodeId, dims: &[usize]) -> NodeId {
    let mut one = vec![1; dims.len()];
    *one.last_mut().unwrap() = *dims.last().unwrap();
    let r = add(
        g,
        Op::Reshape {
            shape: Shape::new(one),
        },
        &[x],
    );
    add(
        g,
        Op::Broadcast {
            shape: Shape::new(dims),
        },
        &[r],
    )
}

/// `graph` with every composite decomposed and canonicalised (the reference backend's
/// primitives-only pipeline).
fn decomposed(graph: &Graph) -> Graph {
    let prims: Arc<dyn Backend> = Arc::new(ReferenceBackend::primitives_only());
    compile(graph, &prims, &PipelineOptions::default())
        .unwrap()
        .graph
}

/// Compiles `graph` for the CPU, runs it on random inputs and checks it against the
/// reference (within the output dtype's tolerance) and against the CPU's eager kernels run
/// node by node on the same optimised graph (identical). Returns (launches, fused groups).
fn check(graph: &Graph, seed: u64) -> (usize, usize) {
    let mut r = rng(seed);
    let host: Vec<HostTensor> = graph
        .inputs()
        .iter()
        .map(|&i| {
            let ty = graph.ty(i);
            random(&mut r, ty.dtype, ty.shape.dims())
        })
        .collect();
    let cpu: Arc<dyn Backend> = Arc::new(CpuBackend::new());
    let compiled = compile(graph, &cpu, &PipelineOptions::default()).unwrap();
    let up = |b: &dyn Backend| -> Vec<_> { host.iter().map(|t| b.upload(t).unwrap()).collect() };
    let fused = compiled
        .executable
        .run(&up(cpu.as_ref()), &ParamMap::new())
        .unwrap();
    let eager = run_op_by_op(
        &compiled.graph,
        cpu.as_ref(),
        &up(cpu.as_ref()),
        &ParamMap::new(),
    )
    .unwrap();
    let reference = ReferenceBackend::new();
    let want = run_op_by_op(graph, &reference, &up(&reference), &ParamMap::new()).unwrap();
    for ((f, e), w) in fused.iter().zip(&eager).zip(&want) {
        let (f, e) = (cpu.download(f).unwrap(), cpu.download(e).unwrap());
        let w = reference.download(w).unwrap();
        let text = hyv_ir::text::print(&compiled.graph);
        assert_eq!(error(&f, &e), 0.0, "fused vs cpu eager differ\n{text}");
        let err = error(&f, &w);
        let tol = tolerance(f.ty().dtype);
        assert!(err <= tol, "fused vs reference: {err:e} > {tol:e}\n{text}");
    }
    let groups: std::collections::BTreeSet<u32> = compiled.graph.groups().map(|(_, g)| g).collect();
    (compiled.executable.kernel_launches().unwrap(), groups.len())
}

/// Non-source ops of `graph` after the CPU pipeline without fusion would have run them.
fn ops(graph: &Graph) -> usize {
    graph.nodes().iter().filter(|n| !n.op.is_source()).count()
}

#[test]
fn elementwise_chains_fuse_into_one_kernel_at_odd_sizes() {
    for dims in [&[1][..], &[7], &[3, 5], &[2, 1, 33], &[4097], &[40_003]] {
        let mut g = Graph::new("chain");
        let x = input(&mut g, "x", DType::F32, dims);
        let y = input(&mut g, "y", DType::F32, dims);
        let a = bin(&mut g, BinaryOp::Mul, x, y);
        let b = un(&mut g, UnaryOp::Exp, a);
        let c = bin(&mut g, BinaryOp::Add, b, x);
        let d = un(&mut g, UnaryOp::Tanh, c);
        let e = bin(&mut g, BinaryOp::Max, d, y);
        g.set_outputs(vec![e]);
        assert_eq!(check(&g, 1), (1, 1), "{dims:?}");
    }
}

#[test]
fn bias_and_scale_broadcasts_are_strided_loads() {
    let dims = [3, 5, 17];
    let mut g = Graph::new("bias");
    let x = input(&mut g, "x", DType::F32, &dims);
    let b = input(&mut g, "b", DType::F32, &[17]);
    let s = input(&mut g, "s", DType::F32, &[3, 1, 1]);
    let bb = bias(&mut g, b, &dims);
    let sb = add(
        &mut g,
        Op::Broadcast {
            shape: Shape::new(dims),
        },
        &[s],
    );
    let a = bin(&mut g, BinaryOp::Add, x, bb);
    let m = bin(&mut g, BinaryOp::Mul, a, sb);
    let y = un(&mut g, UnaryOp::Erf, m);
    g.set_outputs(vec![y]);
    assert_eq!(check(&g, 2), (1, 1));
}

#[test]
fn select_compare_and_casts_fuse_including_bools() {
    let dims = [6, 11];
    let mut g = Graph::new("where");
    let x = input(&mut g, "x", DType::F32, &dims);
    let y = input(&mut g, "y", DType::F32, &dims);
    let m = input(&mut g, "m", DType::Bool, &dims);
    let lt = add(&mut g, Op::Compare(CmpOp::Lt), &[x, y]);
    let both = bin(&mut g, BinaryOp::And, lt, m);
    let not = un(&mut g, UnaryOp::Not, both);
    let s = add(&mut g, Op::Select, &[not, x, y]);
    let as_f = add(&mut g, Op::Cast { to: DType::F32 }, &[both]);
    let t = bin(&mut g, BinaryOp::Add, s, as_f);
    let h = add(&mut g, Op::Cast { to: DType::BF16 }, &[t]);
    let back = add(&mut g, Op::Cast { to: DType::F32 }, &[h]);
    let nz = add(&mut g, Op::Cast { to: DType::Bool }, &[back]);
    g.set_outputs(vec![nz]);
    assert_eq!(check(&g, 3), (1, 1));
}

#[test]
fn half_precision_inputs_round_every_node_like_the_eager_kernels() {
    for dtype in [DType::F16, DType::BF16] {
        let dims = [5, 9];
        let mut g = Graph::new("half");
        let x = input(&mut g, "x", dtype, &dims);
        let b = input(&mut g, "b", dtype, &[9]);
        let bb = bias(&mut g, b, &dims);
        let a = bin(&mut g, BinaryOp::Add, x, bb);
        let e = un(&mut g, UnaryOp::Exp, a);
        let d = bin(&mut g, BinaryOp::Div, e, x);
        let s = add(
            &mut g,
            Op::Reduce {
                op: ReduceOp::Sum,
                axes: vec![1],
                keep_dims: false,
            },
            &[d],
        );
        g.set_outputs(vec![s]);
        assert_eq!(check(&g, 4), (1, 1), "{dtype}");
    }
}

#[test]
fn softmax_and_norm_decompositions_fuse_their_row_reductions() {
    let cases: Vec<(Op, Vec<usize>)> = vec![
        (Op::Softmax { axis: 1 }, vec![5, 37]),
        (Op::Softmax { axis: 2 }, vec![2, 1, 3]),
        (
            Op::RmsNorm {
                eps: F64(1e-6),
                affine: false,
            },
            vec![3, 4097],
        ),
        (
            Op::LayerNorm {
                eps: F64(1e-5),
                affine: false,
            },
            vec![4, 1, 63],
        ),
        (Op::Gelu { tanh: true }, vec![7, 9]),
        (Op::Silu, vec![13]),
    ];
    for (op, dims) in cases {
        let mut g = Graph::new("composite");
        let x = input(&mut g, "x", DType::F32, &dims);
        let y = add(&mut g, op.clone(), &[x]);
        g.set_outputs(vec![y]);
        let prims = decomposed(&g);
        let (launches, groups) = check(&prims, 5);
        assert!(groups >= 1, "{op:?}");
        assert!(launches < ops(&prims), "{op:?}: {launches} launches");
    }
}

#[test]
fn a_value_used_by_two_groups_is_materialised_once() {
    let dims = [4, 10];
    let mut g = Graph::new("fanout");
    let x = input(&mut g, "x", DType::F32, &dims);
    let e = un(&mut g, UnaryOp::Exp, x);
    let shared = un(&mut g, UnaryOp::Sin, e);
    let a = un(&mut g, UnaryOp::Neg, shared);
    let a2 = bin(&mut g, BinaryOp::Mul, a, x);
    let b = un(&mut g, UnaryOp::Cos, shared);
    let b2 = bin(&mut g, BinaryOp::Sub, b, x);
    g.set_outputs(vec![a2, b2, e]);
    // `e` is an output and `shared` has users in two groups: {sin}, {neg, mul}, {cos, sub}.
    assert_eq!(check(&g, 6), (4, 2));
}

#[test]
fn contractions_cut_groups() {
    let mut g = Graph::new("mlp");
    let x = input(&mut g, "x", DType::F32, &[3, 8]);
    let w = input(&mut g, "w", DType::F32, &[8, 5]);
    let t = un(&mut g, UnaryOp::Tanh, x);
    let s = un(&mut g, UnaryOp::Sin, t);
    let m = add(&mut g, Op::MatMul, &[s, w]);
    let e = un(&mut g, UnaryOp::Exp, m);
    let n = un(&mut g, UnaryOp::Neg, e);
    g.set_outputs(vec![n]);
    assert_eq!(check(&g, 7), (3, 2));
}

#[test]
fn the_planned_peak_leaves_out_fused_intermediates() {
    let mut g = Graph::new("fan");
    let x = input(&mut g, "x", DType::F32, &[1000]);
    let e = un(&mut g, UnaryOp::Exp, x);
    let t = un(&mut g, UnaryOp::Tanh, x);
    let y = bin(&mut g, BinaryOp::Mul, e, t);
    g.set_outputs(vec![y]);
    let cpu: Arc<dyn Backend> = Arc::new(CpuBackend::new());
    // Node by node, x, exp(x) and tanh(x) are live at once; fused, only x and y.
    let unfused = cpu.compile(&g, &Default::default()).unwrap();
    assert_eq!(unfused.planned_peak_bytes(), Some(12_000));
    assert_eq!(unfused.kernel_launches(), Some(3));
    let fused = compile(&g, &cpu, &PipelineOptions::default()).unwrap();
    assert_eq!(fused.executable.planned_peak_bytes(), Some(8_000));
    assert_eq!(fused.executable.kernel_launches(), Some(1));
    assert_eq!(check(&g, 8), (1, 1));
}

#[test]
fn groups_the_kernels_cannot_express_run_node_by_node() {
    // Integer values, and a group whose first member is also used outside it.
    let text = "graph @hand {
  %0 = input \"i\" : i32[4]
  %1 = input \"x\" : f32[4]
  %2 = add(%0, %0) {group=0} : i32[4]
  %3 = mul(%2, %0) {group=0} : i32[4]
  %4 = exp(%1) {group=1} : f32[4]
  %5 = neg(%4) {group=1} : f32[4]
  return %3, %5, %4
}
";
    let g = hyv_ir::text::parse(text).unwrap();
    let cpu = CpuBackend::new();
    let exe = cpu.compile(&g, &Default::default()).unwrap();
    assert_eq!(exe.kernel_launches(), Some(4));
    let i = cpu
        .upload(&HostTensor::new(vec![4], hyv_ir::TensorData::I32(vec![1, -2, 3, 4])).unwrap())
        .unwrap();
    let x = cpu
        .upload(&HostTensor::from_f32([4], vec![0.5, -1.0, 2.0, 0.0]).unwrap())
        .unwrap();
    let out = exe.run(&[i, x], &ParamMap::new()).unwrap();
    let ints = cpu.download(&out[0]).unwrap().to_f64_vec();
    assert_eq!(ints, [2.0, 8.0, 18.0, 32.0]);
    let neg = cpu.download(&out[1]).unwrap().to_f32_vec();
    assert_eq!(neg[3], -1.0);
}
