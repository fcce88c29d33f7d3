//! Source ops and single-rank collectives.

mod common;
use common::*;
use hyv_backend_reference::eval;
use hyv_ir::random::normal_sample;
use hyv_ir::{CommGroup, DType, HostTensor, Op, ReduceOp, Shape, TensorType};

#[test]
fn constant_returns_its_value() {
    let v = f32t(&[2], &[1.5, -2.0]);
    assert_eq!(run(Op::Constant { value: v.clone() }, &[]), v);
}

#[test]
fn iota_counts_along_its_axis() {
    let op = Op::Iota {
        shape: Shape::new([2, 3]),
        axis: 1,
        dtype: DType::I32,
    };
    let r = run(op, &[]);
    assert_eq!(r.dtype(), DType::I32);
    assert_exact(&r, &[2, 3], &[0.0, 1.0, 2.0, 0.0, 1.0, 2.0]);
    let op = Op::Iota {
        shape: Shape::new([2, 3]),
        axis: 0,
        dtype: DType::F32,
    };
    assert_exact(&run(op, &[]), &[2, 3], &[0.0, 0.0, 0.0, 1.0, 1.0, 1.0]);
}

#[test]
fn random_normal_matches_the_counter_based_sampler() {
    let op = Op::RandomNormal {
        shape: Shape::new([2, 3]),
        dtype: DType::F32,
        seed: 7,
        offset: 5,
    };
    let a = run(op.clone(), &[]);
    assert_eq!(a, run(op, &[]), "not reproducible");
    let want: Vec<f64> = (0..6)
        .map(|i| normal_sample(7, 5 + i) as f32 as f64)
        .collect();
    assert_exact(&a, &[2, 3], &want);
    let op = Op::RandomNormal {
        shape: Shape::new([4]),
        dtype: DType::BF16,
        seed: 7,
        offset: 6,
    };
    let b = run(op, &[]);
    let want: Vec<f64> = (0..4)
        .map(|i| half::bf16::from_f64(normal_sample(7, 6 + i)).to_f64())
        .collect();
    assert_exact(&b, &[4], &want);
    // Offsets continue the same stream.
    assert_eq!(
        b.to_f64_vec()[0],
        half::bf16::from_f32(a.to_f32_vec()[1]).to_f64()
    );
}

fn group(size: usize) -> CommGroup {
    CommGroup {
        name: "sp".into(),
        size,
    }
}

fn collectives(size: usize) -> Vec<Op> {
    vec![
        Op::AllReduce {
            op: ReduceOp::Sum,
            group: group(size),
        },
        Op::AllReduce {
            op: ReduceOp::Max,
            group: group(size),
        },
        Op::AllGather {
            axis: 1,
            group: group(size),
        },
        Op::ReduceScatter {
            axis: 0,
            group: group(size),
        },
        Op::AllToAll {
            split_axis: 0,
            concat_axis: 1,
            group: group(size),
        },
        Op::BroadcastFrom {
            root: 0,
            group: group(size),
        },
    ]
}

#[test]
fn collectives_of_one_rank_are_the_identity() {
    let x = f32t(&[2, 2], &[1.0, 2.0, 3.0, 4.0]);
    for op in collectives(1) {
        assert_eq!(run(op, &[&x]), x);
    }
}

#[test]
fn collectives_of_larger_groups_need_the_distributed_runtime() {
    let x = f32t(&[2, 2], &[1.0, 2.0, 3.0, 4.0]);
    for op in collectives(2) {
        let err = try_run(op.clone(), &[&x]).unwrap_err();
        assert!(
            err.contains("single rank")
                && err.contains("group `sp` (size 2)")
                && err.contains("distributed runtime")
                && err.contains(op.name()),
            "{err}"
        );
    }
}

#[test]
fn eval_rejects_a_wrong_output_type_and_unbound_nodes() {
    let x = f32t(&[2], &[1.0, 2.0]);
    let wrong = TensorType::new(DType::F16, [2]);
    let err = eval(&Op::Unary(hyv_ir::UnaryOp::Neg), &wrong, &[&x]).unwrap_err();
    assert!(err.contains("f16[2]") && err.contains("f32[2]"), "{err}");
    let err = eval(
        &Op::Input { name: "x".into() },
        x.ty(),
        &[] as &[&HostTensor],
    )
    .unwrap_err();
    assert!(err.contains("`x`"), "{err}");
    let err = eval(&Op::MatMul, x.ty(), &[&x]).unwrap_err();
    assert!(err.contains("2 operands"), "{err}");
}
