//! Fused execution: every fusion pattern compiled for the CPU (fusion on) against the
//! reference backend (rel. L2 ≤ 1e-5 for f32) and against the CPU's own eager kernels
//! (identical results interpreted, close with the JIT), with the launches fusion saves and
//! which groups run on the JIT.

mod common;

use common::{error, random, rng, tolerance};
use hyv_backend_cpu::{CpuBackend, CpuExecutable};
use hyv_backend_reference::ReferenceBackend;
use hyv_ir::{
    BinaryOp, CmpOp, DType, Graph, HostTensor, Node, NodeId, Op, ReduceOp, Shape, TensorData,
    TensorType, UnaryOp, F64,
};
use hyv_runtime::{compile, run_op_by_op, Backend, Executable, ParamMap, PipelineOptions};
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
/// node by node on the same optimised graph: identical with the JIT off (every group
/// interpreted), within [`close_to_eager`] with it on. Returns (launches, fused groups).
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
    let eager = run_op_by_op(
        &compiled.graph,
        cpu.as_ref(),
        &up(cpu.as_ref()),
        &ParamMap::new(),
    )
    .unwrap();
    let reference = ReferenceBackend::new();
    let want = run_op_by_op(graph, &reference, &up(&reference), &ParamMap::new()).unwrap();
    let text = hyv_ir::text::print(&compiled.graph);
    for jit in [false, true] {
        let exe = CpuExecutable::new(&compiled.graph, CpuBackend::new().with_jit(jit)).unwrap();
        let fused = exe.run(&up(cpu.as_ref()), &ParamMap::new()).unwrap();
        for ((f, e), w) in fused.iter().zip(&eager).zip(&want) {
            let (f, e) = (cpu.download(f).unwrap(), cpu.download(e).unwrap());
            let w = reference.download(w).unwrap();
            if jit {
                close_to_eager(&f, &e, &text);
            } else {
                assert_eq!(
                    error(&f, &e),
                    0.0,
                    "interpreted vs cpu eager differ\n{text}"
                );
            }
            let err = error(&f, &w);
            let tol = tolerance(f.ty().dtype);
            assert!(
                err <= tol,
                "fused (jit {jit}) vs reference: {err:e} > {tol:e}\n{text}"
            );
        }
    }
    let groups: std::collections::BTreeSet<u32> = compiled.graph.groups().map(|(_, g)| g).collect();
    (compiled.executable.kernel_launches().unwrap(), groups.len())
}

/// Checks a JIT run against the eager kernels: rel. L2 ≤ 1e-5 for f32 (the JIT's
/// polynomial exp/log/tanh/erf/sin/cos), at most one rounding step apart element by element
/// for f16/bf16, identical otherwise.
fn close_to_eager(got: &HostTensor, eager: &HostTensor, text: &str) {
    let steps = |a: &[u16], b: &[u16]| {
        a.iter()
            .zip(b)
            .map(|(&x, &y)| (i32::from(x) - i32::from(y)).abs())
            .max()
            .unwrap_or(0)
    };
    let bits = |t: &HostTensor| -> Vec<u16> {
        match t.data() {
            TensorData::F16(v) => v.iter().map(|x| x.to_bits()).collect(),
            TensorData::BF16(v) => v.iter().map(|x| x.to_bits()).collect(),
            _ => unreachable!("16-bit data"),
        }
    };
    match got.ty().dtype {
        DType::F32 => {
            let err = error(got, eager);
            assert!(err <= 1e-5, "jit vs cpu eager: {err:e}\n{text}");
        }
        DType::F16 | DType::BF16 => {
            let s = steps(&bits(got), &bits(eager));
            assert!(s <= 1, "jit vs cpu eager: {s} rounding steps apart\n{text}");
        }
        _ => assert_eq!(error(got, eager), 0.0, "jit vs cpu eager differ\n{text}"),
    }
}

/// (JIT-compiled, interpreted) fused groups of `graph` after the CPU pipeline, JIT on.
fn jit_split(graph: &Graph) -> (usize, usize) {
    let cpu: Arc<dyn Backend> = Arc::new(CpuBackend::new());
    let compiled = compile(graph, &cpu, &PipelineOptions::default()).unwrap();
    let exe = CpuExecutable::new(&compiled.graph, CpuBackend::new().with_jit(true)).unwrap();
    (exe.jit_groups(), exe.interpreted_groups())
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
        assert_eq!(jit_split(&g), (1, 0), "{dims:?}");
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
    // A row (`b`) and a column (`s`) broadcast are both `(i / div) % period` reads.
    assert_eq!(jit_split(&g), (1, 0));
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
    // Bool values: interpreted.
    assert_eq!(jit_split(&g), (0, 1));
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
        // A row reduction: interpreted.
        assert_eq!(jit_split(&g), (0, 1), "{dtype}");
    }
}

#[test]
fn a_chain_runs_on_the_jit_unless_it_is_turned_off() {
    let dims = [3, 1000];
    let mut g = Graph::new("silu_mul_add");
    let x = input(&mut g, "x", DType::F32, &dims);
    let y = input(&mut g, "y", DType::F32, &dims);
    let z = input(&mut g, "z", DType::F32, &dims);
    let s = add(&mut g, Op::Silu, &[x]);
    let m = bin(&mut g, BinaryOp::Mul, s, y);
    let a = bin(&mut g, BinaryOp::Add, m, z);
    g.set_outputs(vec![a]);
    let prims = decomposed(&g);
    assert_eq!(check(&prims, 9).1, 1);
    assert_eq!(jit_split(&prims), (1, 0));
    let cpu: Arc<dyn Backend> = Arc::new(CpuBackend::new());
    let compiled = compile(&prims, &cpu, &PipelineOptions::default()).unwrap();
    let off = CpuExecutable::new(&compiled.graph, CpuBackend::new().with_jit(false)).unwrap();
    assert_eq!((off.jit_groups(), off.interpreted_groups()), (0, 1));
}

#[test]
fn the_jit_takes_16_bit_stores_and_intermediates_but_not_2d_broadcasts() {
    for dtype in [DType::F16, DType::BF16] {
        // One node: its rounding is the store's.
        let mut g = Graph::new("half_bias");
        let x = input(&mut g, "x", dtype, &[4, 9]);
        let b = input(&mut g, "b", dtype, &[9]);
        let bb = bias(&mut g, b, &[4, 9]);
        let y = bin(&mut g, BinaryOp::Add, x, bb);
        let e = un(&mut g, UnaryOp::Exp, y);
        g.set_outputs(vec![e]);
        check(&g, 10);
        // add then exp: the add's 16-bit rounding is an intermediate one, done in
        // registers (exactly as the interpreter rounds, `check` compares them).
        assert_eq!(jit_split(&g), (1, 0), "{dtype}");
        let mut g = Graph::new("half_one");
        let x = input(&mut g, "x", dtype, &[4, 9]);
        let b = input(&mut g, "b", dtype, &[9]);
        let bb = bias(&mut g, b, &[4, 9]);
        let y = bin(&mut g, BinaryOp::Mul, x, bb);
        g.set_outputs(vec![y]);
        check(&g, 11);
        assert_eq!(jit_split(&g), (1, 0), "{dtype}");
    }
    // [3, 1, 17] broadcast to [3, 5, 17]: two kept axes around a broadcast one.
    let mut g = Graph::new("modulate");
    let x = input(&mut g, "x", DType::F32, &[3, 5, 17]);
    let s = input(&mut g, "s", DType::F32, &[3, 1, 17]);
    let sb = add(
        &mut g,
        Op::Broadcast {
            shape: Shape::new([3, 5, 17]),
        },
        &[s],
    );
    let m = bin(&mut g, BinaryOp::Mul, x, sb);
    let t = un(&mut g, UnaryOp::Tanh, m);
    g.set_outputs(vec![t]);
    assert_eq!(check(&g, 12), (1, 1));
    assert_eq!(jit_split(&g), (0, 1));
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

/// Prints JIT vs interpreter times of the fused group `silu(x)·y + z` over 16M f32
/// elements in graph mode on 2 threads (never asserts a time: the machine is shared).
#[test]
fn speed_report_fused_silu_mul_add() {
    let n = 16 << 20;
    let mut g = Graph::new("silu_mul_add");
    let x = input(&mut g, "x", DType::F32, &[n]);
    let y = input(&mut g, "y", DType::F32, &[n]);
    let z = input(&mut g, "z", DType::F32, &[n]);
    let s = add(&mut g, Op::Silu, &[x]);
    let m = bin(&mut g, BinaryOp::Mul, s, y);
    let a = bin(&mut g, BinaryOp::Add, m, z);
    g.set_outputs(vec![a]);
    let cpu: Arc<dyn Backend> = Arc::new(CpuBackend::new());
    let compiled = compile(&decomposed(&g), &cpu, &PipelineOptions::default()).unwrap();
    let mut r = rng(13);
    let inputs: Vec<_> = (0..3)
        .map(|_| cpu.upload(&random(&mut r, DType::F32, &[n])).unwrap())
        .collect();
    println!("fused silu(x)*y+z over {n} f32, graph mode, 2 threads, best of 3");
    for jit in [true, false] {
        let backend = CpuBackend::with_threads(2).unwrap().with_jit(jit);
        let exe = CpuExecutable::new(&compiled.graph, backend).unwrap();
        assert_eq!(exe.jit_groups(), usize::from(jit));
        let best = (0..3)
            .map(|_| {
                let t = std::time::Instant::now();
                std::hint::black_box(exe.run(&inputs, &ParamMap::new()).unwrap());
                t.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min);
        let what = if jit { "JIT" } else { "interpreter" };
        println!("  {what:12} {:8.2} ms", best * 1e3);
    }
}
