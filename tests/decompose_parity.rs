//! Numerical parity of the decomposition pass: every composite op, run directly by the
//! reference backend, matches its decomposition into primitives run on the same backend
//! (relative L2 error ≤ 1e-6 in f32, ≤ 2e-2 in bf16), on random inputs of several shapes
//! (odd extents, extents of 1). Also checks constant folding numerically through a
//! `ConstEvaluator` built on the reference backend.

mod common;

use common::rel_l2;
use hyv_backend_reference::ReferenceBackend;
use hyv_ir::testing::{random_graph, random_inputs, random_params};
use hyv_ir::{
    random::normal_sample, BinaryOp, CmpOp, DType, Graph, HostTensor, Node, NodeId, Op, Shape,
    TensorData, TensorType, UnaryOp, F64,
};
use hyv_passes::{canonicalize, ConstEvaluator, Decompose, Fold, Pass, PassManager};
use hyv_runtime::{Backend, BackendEvaluator, CompileOptions, ParamMap};
use std::sync::Arc;

fn evaluator() -> Arc<dyn ConstEvaluator> {
    Arc::new(BackendEvaluator(Arc::new(ReferenceBackend::new())))
}

/// Compiles `graph` on the reference backend and runs it on `inputs`.
fn run(graph: &Graph, inputs: &[HostTensor]) -> Vec<HostTensor> {
    run_with(graph, inputs, &[])
}

/// Compiles `graph` on the reference backend and runs it on `inputs` and `params`.
fn run_with(
    graph: &Graph,
    inputs: &[HostTensor],
    params: &[(String, HostTensor)],
) -> Vec<HostTensor> {
    let backend = ReferenceBackend::new();
    let exe = backend
        .compile(graph, &CompileOptions::default())
        .expect("graph compiles");
    let uploaded: Vec<_> = inputs.iter().map(|t| backend.upload(t).unwrap()).collect();
    let params: ParamMap = params
        .iter()
        .map(|(name, t)| (name.clone(), backend.upload(t).unwrap()))
        .collect();
    exe.run(&uploaded, &params)
        .expect("graph runs")
        .iter()
        .map(|t| backend.download(t).unwrap())
        .collect()
}

/// Deterministic random values of `ty`: scaled normal samples for floats; for bool, mostly
/// true with every element of the last row (e.g. the last batch of a key mask) false when
/// there is more than one row, so fully hidden attention rows are covered.
fn random_tensor(ty: &TensorType, seed: u64, scale: f64) -> HostTensor {
    let n = ty.shape.numel();
    if ty.dtype == DType::Bool {
        let dims = ty.shape.dims();
        let row = *dims.last().unwrap_or(&1);
        let rows = n / row;
        let values = (0..n)
            .map(|i| {
                let hidden_row = rows > 1 && i / row == rows - 1;
                !hidden_row && normal_sample(seed, i as u64) > -0.7
            })
            .collect();
        return HostTensor::new(ty.shape.clone(), TensorData::Bool(values)).unwrap();
    }
    let values = (0..n)
        .map(|i| scale * normal_sample(seed, i as u64))
        .collect();
    HostTensor::from_f64(&TensorType::new(DType::F32, ty.shape.clone()), values)
        .unwrap()
        .cast(ty.dtype)
}

/// A graph applying `op` to inputs of `types`.
fn composite_graph(op: &Op, types: &[TensorType]) -> Graph {
    let mut g = Graph::new(op.name());
    let ids: Vec<NodeId> = types
        .iter()
        .enumerate()
        .map(|(i, ty)| {
            g.push(Node {
                op: Op::Input {
                    name: format!("in{i}"),
                },
                inputs: vec![],
                ty: ty.clone(),
                path: String::new(),
            })
        })
        .collect();
    let y = g.add(op.clone(), &ids, "blk").expect("valid composite");
    g.set_outputs(vec![y]);
    g
}

/// Checks `op` on operands of `dims` (float operands in `dtype`, the attention key mask
/// bool), with inputs scaled by `scale`.
fn check(op: Op, dims: &[&[usize]], dtype: DType, scale: f64) {
    let mask_at = match op {
        Op::Attention { has_mask: true, .. } => Some(3),
        _ => None,
    };
    let types: Vec<TensorType> = dims
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let dt = if Some(i) == mask_at {
                DType::Bool
            } else {
                dtype
            };
            TensorType::new(dt, *d)
        })
        .collect();
    let graph = composite_graph(&op, &types);
    let inputs: Vec<HostTensor> = types
        .iter()
        .enumerate()
        .map(|(i, ty)| random_tensor(ty, 1000 + i as u64, scale))
        .collect();
    let expected = run(&graph, &inputs).remove(0);
    let (decomposed, _) = Decompose::new(|_: &Op| false)
        .run(graph.clone())
        .expect("decomposes");
    hyv_ir::verify(&decomposed).expect("decomposition verifies");
    assert!(decomposed.nodes().iter().all(|n| !n.op.is_composite()));
    let tol = if dtype == DType::F32 { 1e-6 } else { 2e-2 };
    let got = run(&decomposed, &inputs).remove(0);
    let err = rel_l2(&got, &expected);
    assert!(
        err <= tol,
        "{op:?} on {types:?}: decomposed differs by {err:e} (tolerance {tol:e})"
    );
    let nan = |t: &HostTensor| t.to_f64_vec().iter().any(|x| x.is_nan());
    assert!(!nan(&got) && !nan(&expected), "{op:?} on {types:?}: NaN");

    // The canonical pipeline (with folding through the backend) keeps the numbers.
    let (canonical, _) = PassManager::new()
        .stage("canonical", canonicalize(Some(evaluator())))
        .run(decomposed)
        .expect("canonicalises");
    let folded = run(&canonical, &inputs).remove(0);
    let err = rel_l2(&folded, &expected);
    assert!(
        err <= tol,
        "{op:?} on {types:?}: canonicalised decomposition differs by {err:e}"
    );
}

fn for_dtypes(f: impl Fn(DType)) {
    for dtype in [DType::F32, DType::BF16] {
        f(dtype);
    }
}

#[test]
fn linear() {
    for_dtypes(|d| {
        let bias = Op::Linear { has_bias: true };
        let plain = Op::Linear { has_bias: false };
        check(bias.clone(), &[&[3, 5], &[4, 5], &[4]], d, 1.0);
        check(bias, &[&[2, 1, 7], &[1, 7], &[1]], d, 1.0);
        check(plain.clone(), &[&[5], &[3, 5]], d, 1.0);
        check(plain, &[&[2, 3, 1, 9], &[6, 9]], d, 1.0);
    });
}

#[test]
fn softmax() {
    for_dtypes(|d| {
        for axis in 0..3 {
            check(Op::Softmax { axis }, &[&[2, 3, 5]], d, 3.0);
        }
        check(Op::Softmax { axis: 1 }, &[&[1, 7]], d, 3.0);
        check(Op::Softmax { axis: 1 }, &[&[4, 1]], d, 3.0);
        check(Op::Softmax { axis: 0 }, &[&[1]], d, 3.0);
    });
}

#[test]
fn layer_norm() {
    for_dtypes(|d| {
        let affine = Op::LayerNorm {
            eps: F64(1e-5),
            affine: true,
        };
        let plain = Op::LayerNorm {
            eps: F64(1e-6),
            affine: false,
        };
        check(affine.clone(), &[&[3, 7], &[7], &[7]], d, 2.0);
        check(affine, &[&[4, 1], &[1], &[1]], d, 2.0);
        check(plain.clone(), &[&[2, 1, 5]], d, 2.0);
        check(plain, &[&[9]], d, 2.0);
    });
}

#[test]
fn rms_norm() {
    for_dtypes(|d| {
        let affine = Op::RmsNorm {
            eps: F64(1e-6),
            affine: true,
        };
        let plain = Op::RmsNorm {
            eps: F64(1e-5),
            affine: false,
        };
        check(affine.clone(), &[&[3, 7], &[7]], d, 2.0);
        check(affine, &[&[1, 1, 3], &[3]], d, 2.0);
        check(plain.clone(), &[&[2, 5]], d, 2.0);
        check(plain, &[&[1]], d, 2.0);
    });
}

#[test]
fn group_norm() {
    for_dtypes(|d| {
        let affine = |groups| Op::GroupNorm {
            groups,
            eps: F64(1e-5),
            affine: true,
        };
        let plain = |groups| Op::GroupNorm {
            groups,
            eps: F64(1e-6),
            affine: false,
        };
        check(affine(3), &[&[2, 6, 3, 5], &[6], &[6]], d, 2.0);
        check(affine(1), &[&[3, 2], &[2], &[2]], d, 2.0);
        check(plain(4), &[&[1, 4, 7]], d, 2.0);
        check(plain(2), &[&[2, 2, 1, 3, 1]], d, 2.0);
    });
}

#[test]
fn gelu_and_silu() {
    for_dtypes(|d| {
        for op in [Op::Gelu { tanh: true }, Op::Gelu { tanh: false }, Op::Silu] {
            check(op.clone(), &[&[3, 7]], d, 3.0);
            check(op.clone(), &[&[1, 1, 5]], d, 3.0);
            check(op.clone(), &[&[1]], d, 3.0);
            check(op, &[&[2, 17]], d, 5.0);
        }
    });
}

#[test]
fn attention() {
    // (B, H, Sq, Sk, D, Dv)
    let shapes = [
        (2, 3, 5, 7, 4, 3),
        (1, 1, 1, 1, 1, 1),
        (2, 1, 6, 4, 2, 5),
        (3, 2, 3, 5, 3, 3),
    ];
    for_dtypes(|d| {
        for (b, h, sq, sk, dk, dv) in shapes {
            for (causal, has_mask) in [(false, false), (true, false), (false, true), (true, true)] {
                let op = Op::Attention {
                    scale: F64(1.0 / (dk as f64).sqrt()),
                    causal,
                    has_mask,
                };
                let (q, k, v, m) = ([b, h, sq, dk], [b, h, sk, dk], [b, h, sk, dv], [b, sk]);
                let mut dims: Vec<&[usize]> = vec![&q, &k, &v];
                if has_mask {
                    dims.push(&m);
                }
                check(op, &dims, d, 1.5);
            }
        }
    });
}

#[test]
fn rope() {
    for_dtypes(|d| {
        for interleaved in [true, false] {
            let op = Op::Rope { interleaved };
            check(op.clone(), &[&[2, 3, 5, 4], &[5, 4], &[5, 4]], d, 1.0);
            check(op.clone(), &[&[7, 6], &[7, 6], &[7, 6]], d, 1.0);
            check(op, &[&[1, 1, 2], &[1, 2], &[1, 2]], d, 1.0);
        }
    });
}

#[test]
fn upsample_nearest() {
    for_dtypes(|d| {
        check(
            Op::UpsampleNearest { scale: vec![2] },
            &[&[1, 2, 3]],
            d,
            1.0,
        );
        check(
            Op::UpsampleNearest { scale: vec![1, 3] },
            &[&[2, 3, 4, 5]],
            d,
            1.0,
        );
        check(
            Op::UpsampleNearest {
                scale: vec![2, 1, 2],
            },
            &[&[1, 1, 2, 1, 3]],
            d,
            1.0,
        );
    });
}

#[test]
fn constant_folding_matches_unfolded_evaluation() {
    // y = x * (c1 + exp(c2)) + select(iota_row <= iota_col, 1, -1), all constant parts folded.
    let mut g = Graph::new("fold");
    let ty = TensorType::new(DType::F32, [3, 5]);
    let x = g.push(Node {
        op: Op::Input { name: "x".into() },
        inputs: vec![],
        ty: ty.clone(),
        path: String::new(),
    });
    let constant = |g: &mut Graph, seed| {
        let value = random_tensor(&ty, seed, 1.0);
        g.add(Op::Constant { value }, &[], "").unwrap()
    };
    let c1 = constant(&mut g, 1);
    let c2 = constant(&mut g, 2);
    let e = g.add(Op::Unary(UnaryOp::Exp), &[c2], "").unwrap();
    let s = g.add(Op::Binary(BinaryOp::Add), &[c1, e], "").unwrap();
    let m = g.add(Op::Binary(BinaryOp::Mul), &[x, s], "").unwrap();
    let iota = |axis| Op::Iota {
        shape: Shape::new([3, 5]),
        axis,
        dtype: DType::I32,
    };
    let row = g.add(iota(0), &[], "").unwrap();
    let col = g.add(iota(1), &[], "").unwrap();
    let le = g.add(Op::Compare(CmpOp::Le), &[row, col], "").unwrap();
    let one = g
        .add(
            Op::Constant {
                value: HostTensor::full(&ty, 1.0),
            },
            &[],
            "",
        )
        .unwrap();
    let neg = g
        .add(
            Op::Constant {
                value: HostTensor::full(&ty, -1.0),
            },
            &[],
            "",
        )
        .unwrap();
    let sel = g.add(Op::Select, &[le, one, neg], "").unwrap();
    let y = g.add(Op::Binary(BinaryOp::Add), &[m, sel], "").unwrap();
    g.set_outputs(vec![y]);

    let inputs = [random_tensor(&ty, 7, 1.0)];
    let expected = run(&g, &inputs).remove(0);
    let (folded, report) = Fold::new(evaluator()).run(g).unwrap();
    hyv_ir::verify(&folded).unwrap();
    assert_eq!(report.summary, "fold: folded 4 nodes");
    let got = run(&folded, &inputs).remove(0);
    assert_eq!(
        got, expected,
        "folding must be bit-identical on the same backend"
    );
}

#[test]
fn full_pipeline_keeps_the_numbers_of_random_graphs() {
    for seed in 0..24 {
        let graph = random_graph(seed, 30);
        let inputs = random_inputs(&graph, seed);
        let params = random_params(&graph, seed);
        let expected = run_with(&graph, &inputs, &params);
        let (optimised, log) = PassManager::new()
            .stage("canonical", canonicalize(Some(evaluator())))
            .stage("decomposed", vec![Box::new(Decompose::new(|_: &Op| false))])
            .stage("cleaned", canonicalize(Some(evaluator())))
            .run(graph)
            .expect("pipeline succeeds");
        let got = run_with(&optimised, &inputs, &params);
        for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
            let err = rel_l2(g, e);
            assert!(err <= 1e-5, "seed {seed} output {i}: error {err:e}\n{log}");
        }
    }
}
