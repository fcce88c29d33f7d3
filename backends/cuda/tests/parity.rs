//! The CUDA backend against the reference backend on a GPU, eager (op by op) and compiled:
//! elementwise ops in every float dtype, row reductions, broadcast, permute, reshape, slice,
//! concat, gather, iota, random normals, matmul, a grouped strided dilated convolution,
//! attention with a key mask and causal, the composites eager mode runs as their fused decompositions, and a fusing
//! chain. Without a CUDA device every test prints "no CUDA device: skipped", or fails when
//! `HYV_REQUIRE_CUDA=1`; the graphs themselves are built and verified everywhere.
//!
//! Written without a GPU: these tests have not yet run on one.

use hyv_backend_cuda::testing::cuda_for_test;
use hyv_backend_reference::ReferenceBackend;
use hyv_ir::testing::random_inputs;
use hyv_ir::{
    BinaryOp, CmpOp, DType, Graph, HostTensor, Node, NodeId, Op, ReduceOp, Shape, TensorType,
    UnaryOp, F64,
};
use hyv_passes::{Fuse, Pass};
use hyv_runtime::{compile, run_op_by_op, Backend, ParamMap, PipelineOptions};
use std::sync::Arc;

fn input(g: &mut Graph, name: &str, dtype: DType, dims: &[usize]) -> NodeId {
    g.push(Node {
        op: Op::Input { name: name.into() },
        inputs: vec![],
        ty: TensorType::new(dtype, dims.to_vec()),
        path: String::new(),
    })
}

fn add(g: &mut Graph, op: Op, inputs: &[NodeId]) -> NodeId {
    g.add(op, inputs, "parity").unwrap()
}

/// Runs `graph` op by op on `backend` and returns the outputs on the host.
fn run(backend: &dyn Backend, graph: &Graph, inputs: &[HostTensor]) -> Vec<HostTensor> {
    let devs: Vec<_> = inputs.iter().map(|t| backend.upload(t).unwrap()).collect();
    let outs = run_op_by_op(graph, backend, &devs, &ParamMap::new()).unwrap();
    outs.iter().map(|t| backend.download(t).unwrap()).collect()
}

/// `graph`'s outputs on CUDA, eager and compiled, within `tol` (relative L2) of the
/// reference backend's.
fn check(cuda: &Arc<dyn Backend>, graph: &Graph, tol: f64) {
    let inputs = random_inputs(graph, 7);
    let want = run(&ReferenceBackend::new(), graph, &inputs);
    let eager = run(&**cuda, graph, &inputs);
    let compiled = compile(graph, cuda, &PipelineOptions::default()).unwrap();
    let devs: Vec<_> = inputs.iter().map(|t| cuda.upload(t).unwrap()).collect();
    let graph_outs: Vec<HostTensor> = compiled
        .executable
        .run(&devs, &ParamMap::new())
        .unwrap()
        .iter()
        .map(|t| cuda.download(t).unwrap())
        .collect();
    for (mode, got) in [("eager", eager), ("graph", graph_outs)] {
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            let err = g
                .cast(DType::F32)
                .rel_l2_error(&w.cast(DType::F32))
                .unwrap();
            assert!(
                err <= tol,
                "{}: {mode} output {i}: rel. L2 error {err:e} > {tol:e}",
                graph.name
            );
        }
    }
}

fn tolerance(dtype: DType) -> f64 {
    match dtype {
        DType::F32 => 1e-5,
        _ => 1e-2,
    }
}

/// Every elementwise op in f32, f16 and bf16 on the vector and the scalar path, and row reductions.
fn elementwise_graphs() -> Vec<(Graph, f64)> {
    let mut graphs = Vec::new();
    for dtype in [DType::F32, DType::F16, DType::BF16] {
        for dims in [vec![4, 6, 16], vec![3, 5, 7]] {
            let mut g = Graph::new(format!("elementwise {dtype} {dims:?}"));
            let x = input(&mut g, "x", dtype, &dims);
            let y = input(&mut g, "y", dtype, &dims);
            let m = input(&mut g, "m", DType::Bool, &dims);
            let ex = add(&mut g, Op::Unary(UnaryOp::Exp), &[x]);
            let mut outs = Vec::new();
            for u in [
                UnaryOp::Neg,
                UnaryOp::Abs,
                UnaryOp::Log,
                UnaryOp::Sqrt,
                UnaryOp::Rsqrt,
                UnaryOp::Recip,
                UnaryOp::Tanh,
                UnaryOp::Erf,
                UnaryOp::Sin,
                UnaryOp::Cos,
                UnaryOp::Floor,
            ] {
                outs.push(add(&mut g, Op::Unary(u), &[ex]));
            }
            for b in [
                BinaryOp::Add,
                BinaryOp::Sub,
                BinaryOp::Mul,
                BinaryOp::Div,
                BinaryOp::Max,
                BinaryOp::Min,
                BinaryOp::Pow,
            ] {
                outs.push(add(&mut g, Op::Binary(b), &[ex, y]));
            }
            let lt = add(&mut g, Op::Compare(CmpOp::Lt), &[x, y]);
            let both = add(&mut g, Op::Binary(BinaryOp::And), &[lt, m]);
            outs.push(add(&mut g, Op::Select, &[both, x, y]));
            let rank = dims.len();
            for op in [ReduceOp::Sum, ReduceOp::Max] {
                outs.push(add(
                    &mut g,
                    Op::Reduce {
                        op,
                        axes: vec![rank - 1],
                        keep_dims: false,
                    },
                    &[ex],
                ));
            }
            outs.push(add(&mut g, Op::Cast { to: DType::F32 }, &[x]));
            g.set_outputs(outs);
            graphs.push((g, tolerance(dtype)));
        }
    }
    graphs
}

/// Matmul with a broadcast bias, permute, reshape, slice, concat, convolution and attention
/// (key mask, causal).
fn movement_graphs() -> Vec<(Graph, f64)> {
    let mut graphs = Vec::new();
    for dtype in [DType::F32, DType::BF16] {
        let mut g = Graph::new(format!("movement, matmul, attention {dtype}"));
        let a = input(&mut g, "a", dtype, &[2, 8, 16]);
        let w = input(&mut g, "w", dtype, &[16, 24]);
        let bias = input(&mut g, "bias", dtype, &[1, 1, 24]);
        let mm = add(&mut g, Op::MatMul, &[a, w]);
        let bb = add(
            &mut g,
            Op::Broadcast {
                shape: Shape::new(vec![2, 8, 24]),
            },
            &[bias],
        );
        let y = add(&mut g, Op::Binary(BinaryOp::Add), &[mm, bb]);
        let t = add(
            &mut g,
            Op::Permute {
                perm: vec![0, 2, 1],
            },
            &[y],
        );
        let r = add(
            &mut g,
            Op::Reshape {
                shape: Shape::new(vec![2, 24 * 8]),
            },
            &[t],
        );
        let s = add(
            &mut g,
            Op::Slice {
                start: vec![0, 3],
                end: vec![2, 190],
                step: vec![1, 2],
            },
            &[r],
        );
        let c = add(&mut g, Op::Concat { axis: 1 }, &[s, r, s]);
        let q = input(&mut g, "q", dtype, &[2, 3, 37, 64]);
        let k = input(&mut g, "k", dtype, &[2, 3, 45, 64]);
        let v = input(&mut g, "v", dtype, &[2, 3, 45, 64]);
        let mask = input(&mut g, "mask", DType::Bool, &[2, 45]);
        let scale = F64(0.125);
        let att = add(
            &mut g,
            Op::Attention {
                scale,
                causal: false,
                has_mask: true,
            },
            &[q, k, v, mask],
        );
        let causal = add(
            &mut g,
            Op::Attention {
                scale,
                causal: true,
                has_mask: false,
            },
            &[q, k, v],
        );
        let x = input(&mut g, "cx", dtype, &[2, 4, 9, 7]);
        let w = input(&mut g, "cw", dtype, &[6, 2, 3, 3]);
        let conv = Op::Conv {
            stride: vec![2, 1],
            padding: vec![(1, 0), (2, 2)],
            dilation: vec![1, 2],
            groups: 2,
        };
        let conv = add(&mut g, conv, &[x, w]);
        let idx = add(
            &mut g,
            Op::Iota {
                shape: Shape::new(vec![5]),
                axis: 0,
                dtype: DType::I64,
            },
            &[],
        );
        let gathered = add(&mut g, Op::Gather { axis: 1 }, &[a, idx]);
        let noise = Op::RandomNormal {
            shape: Shape::new(vec![3, 7]),
            dtype,
            seed: 42,
            offset: 5,
        };
        let noise = add(&mut g, noise, &[]);
        g.set_outputs(vec![c, att, causal, conv, gathered, noise]);
        graphs.push((g, tolerance(dtype)));
    }
    graphs
}

/// A layer-norm-like chain of row reductions and elementwise ops, which fuses.
fn fused_graphs() -> Vec<(Graph, f64)> {
    let mut graphs = Vec::new();
    // A layer-norm-like chain: mean, centred square, variance, scale, bias; fused by the
    // pipeline (check compiles through it) and by `Fuse` directly.
    let mut g = Graph::new("fused layer norm");
    let x = input(&mut g, "x", DType::F32, &[6, 40]);
    let sum = add(
        &mut g,
        Op::Reduce {
            op: ReduceOp::Sum,
            axes: vec![1],
            keep_dims: true,
        },
        &[x],
    );
    let sum = add(
        &mut g,
        Op::Broadcast {
            shape: Shape::new(vec![6, 40]),
        },
        &[sum],
    );
    let d = add(&mut g, Op::Binary(BinaryOp::Sub), &[x, sum]);
    let sq = add(&mut g, Op::Binary(BinaryOp::Mul), &[d, d]);
    let var = add(
        &mut g,
        Op::Reduce {
            op: ReduceOp::Sum,
            axes: vec![1],
            keep_dims: true,
        },
        &[sq],
    );
    let var = add(
        &mut g,
        Op::Broadcast {
            shape: Shape::new(vec![6, 40]),
        },
        &[var],
    );
    let r = add(&mut g, Op::Unary(UnaryOp::Rsqrt), &[var]);
    let y = add(&mut g, Op::Binary(BinaryOp::Mul), &[d, r]);
    g.set_outputs(vec![y]);
    assert!(Fuse.run(g.clone()).unwrap().1.changed);
    graphs.push((g, 1e-5));
    graphs
}

/// Composites, which eager mode runs as their fused decompositions: linear, softmax over a
/// middle axis, layer, RMS and group norm, GELU (both forms) and SiLU.
fn composite_graphs() -> Vec<(Graph, f64)> {
    let mut graphs = Vec::new();
    for dtype in [DType::F32, DType::BF16] {
        let mut g = Graph::new(format!("composites {dtype}"));
        let x = input(&mut g, "x", dtype, &[2, 6, 32]);
        let w = input(&mut g, "w", dtype, &[24, 32]);
        let b = input(&mut g, "b", dtype, &[24]);
        let gamma = input(&mut g, "gamma", dtype, &[32]);
        let beta = input(&mut g, "beta", dtype, &[32]);
        let eps = F64(1e-6);
        let outs = vec![
            add(&mut g, Op::Linear { has_bias: true }, &[x, w, b]),
            add(&mut g, Op::Softmax { axis: 1 }, &[x]),
            add(
                &mut g,
                Op::LayerNorm { eps, affine: true },
                &[x, gamma, beta],
            ),
            add(&mut g, Op::RmsNorm { eps, affine: false }, &[x]),
            add(
                &mut g,
                Op::GroupNorm {
                    groups: 3,
                    eps,
                    affine: false,
                },
                &[x],
            ),
            add(&mut g, Op::Gelu { tanh: true }, &[x]),
            add(&mut g, Op::Gelu { tanh: false }, &[x]),
            add(&mut g, Op::Silu, &[x]),
        ];
        g.set_outputs(outs);
        graphs.push((g, tolerance(dtype)));
    }
    graphs
}

/// Runs every graph of `graphs` through [`check`] on the GPU, if there is one.
fn on_gpu(test: &str, graphs: Vec<(Graph, f64)>) {
    let Some(cuda) = cuda_for_test(test) else {
        return;
    };
    let cuda: Arc<dyn Backend> = Arc::new(cuda);
    for (g, tol) in &graphs {
        check(&cuda, g, *tol);
    }
}

#[test]
fn the_parity_graphs_are_well_formed() {
    for (g, _) in [
        elementwise_graphs(),
        movement_graphs(),
        fused_graphs(),
        composite_graphs(),
    ]
    .concat()
    {
        hyv_ir::verify(&g).unwrap();
    }
}

#[test]
fn elementwise_ops_and_row_reductions_match_the_reference() {
    on_gpu(
        "elementwise_ops_and_row_reductions_match_the_reference",
        elementwise_graphs(),
    );
}

#[test]
fn movement_matmul_and_attention_match_the_reference() {
    on_gpu(
        "movement_matmul_and_attention_match_the_reference",
        movement_graphs(),
    );
}

#[test]
fn fused_groups_match_the_reference() {
    on_gpu("fused_groups_match_the_reference", fused_graphs());
}

#[test]
fn composites_match_the_reference() {
    on_gpu("composites_match_the_reference", composite_graphs());
}
