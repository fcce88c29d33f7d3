//! Reductions, data movement and source ops against the reference backend.

mod common;

use common::{check, check_tol, random, rng, run_on, typed, FLOATS};
use hyv_backend_cpu::CpuBackend;
use hyv_backend_reference::ReferenceBackend;
use hyv_ir::{DType, HostTensor, Op, PadMode, ReduceOp, Shape, F64};

/// Every non-empty sorted subset of `0..rank`.
fn axis_sets(rank: usize) -> Vec<Vec<usize>> {
    (1..1u32 << rank)
        .map(|bits| (0..rank).filter(|d| bits & (1 << d) != 0).collect())
        .collect()
}

#[test]
fn reductions_over_every_axis_set_match_the_reference() {
    let mut r = rng(10);
    for shape in [&[7][..], &[3, 5], &[2, 1, 33], &[4, 3, 1, 5]] {
        for dtype in [DType::F32, DType::F16, DType::BF16, DType::I32, DType::I64] {
            let x = random(&mut r, dtype, shape);
            for axes in axis_sets(shape.len()) {
                for op in [ReduceOp::Sum, ReduceOp::Max] {
                    for keep_dims in [false, true] {
                        let red = Op::Reduce {
                            op,
                            axes: axes.clone(),
                            keep_dims,
                        };
                        check(&red, &[&x]);
                    }
                }
            }
        }
    }
    // Large rows take the parallel paths; NaN propagates through max.
    let big = random(&mut r, DType::F32, &[3, 40_001]);
    for axes in [vec![0], vec![1], vec![0, 1]] {
        check(
            &Op::Reduce {
                op: ReduceOp::Sum,
                axes,
                keep_dims: false,
            },
            &[&big],
        );
    }
    let nan = typed(DType::F32, &[2, 2], &[1.0, f64::NAN, 3.0, 4.0]);
    check(
        &Op::Reduce {
            op: ReduceOp::Max,
            axes: vec![1],
            keep_dims: false,
        },
        &[&nan],
    );
}

#[test]
fn permute_broadcast_slice_reshape_match_the_reference() {
    let mut r = rng(11);
    for dtype in DType::ALL {
        let x = random(&mut r, dtype, &[2, 3, 1, 5]);
        for perm in [[0, 1, 2, 3], [3, 2, 1, 0], [1, 3, 0, 2], [0, 2, 3, 1]] {
            check_tol(
                &Op::Permute {
                    perm: perm.to_vec(),
                },
                &[&x],
                0.0,
            );
        }
        let shape = Shape::new([2, 3, 4, 5]);
        check_tol(&Op::Broadcast { shape }, &[&x], 0.0);
        let y = random(&mut r, dtype, &[1, 3, 1]);
        let shape = Shape::new([6, 3, 17]);
        check_tol(&Op::Broadcast { shape }, &[&y], 0.0);
        let slice = Op::Slice {
            start: vec![0, 1, 0, 1],
            end: vec![2, 3, 1, 5],
            step: vec![1, 1, 1, 2],
        };
        check_tol(&slice, &[&x], 0.0);
        let slice = Op::Slice {
            start: vec![1, 0, 0, 4],
            end: vec![2, 3, 1, 5],
            step: vec![3, 2, 1, 1],
        };
        check_tol(&slice, &[&x], 0.0);
        let reshape = Op::Reshape {
            shape: Shape::new([5, 6]),
        };
        check_tol(&reshape, &[&x], 0.0);
    }
    let big = random(&mut r, DType::F32, &[67, 129, 5]);
    check_tol(
        &Op::Permute {
            perm: vec![2, 0, 1],
        },
        &[&big],
        0.0,
    );
    check_tol(
        &Op::Permute {
            perm: vec![1, 0, 2],
        },
        &[&big],
        0.0,
    );
}

#[test]
fn concat_pad_gather_upsample_match_the_reference() {
    let mut r = rng(12);
    for dtype in DType::ALL {
        let parts: Vec<HostTensor> = [1, 4, 2]
            .iter()
            .map(|&e| random(&mut r, dtype, &[2, e, 3]))
            .collect();
        let refs: Vec<&HostTensor> = parts.iter().collect();
        check_tol(&Op::Concat { axis: 1 }, &refs, 0.0);
        let rows: Vec<HostTensor> = (1..4).map(|e| random(&mut r, dtype, &[e, 5])).collect();
        let refs: Vec<&HostTensor> = rows.iter().collect();
        check_tol(&Op::Concat { axis: 0 }, &refs, 0.0);
        let cols: Vec<HostTensor> = (1..4).map(|e| random(&mut r, dtype, &[3, e])).collect();
        let refs: Vec<&HostTensor> = cols.iter().collect();
        check_tol(&Op::Concat { axis: 1 }, &refs, 0.0);

        let x = random(&mut r, dtype, &[2, 3, 4]);
        for mode in [PadMode::Constant(F64(2.5)), PadMode::Replicate] {
            let pad = Op::Pad {
                low: vec![0, 2, 1],
                high: vec![1, 0, 3],
                mode,
            };
            check_tol(&pad, &[&x], 0.0);
        }
        for idx_dtype in [DType::I32, DType::I64] {
            let idx = typed(idx_dtype, &[2, 3], &[2.0, 0.0, 1.0, 1.0, 2.0, 2.0]);
            for axis in 0..3 {
                let n = x.shape().dims()[axis] as f64;
                let idx = typed(
                    idx_dtype,
                    &[2, 3],
                    &idx.to_f64_vec().iter().map(|i| i % n).collect::<Vec<_>>(),
                );
                check_tol(&Op::Gather { axis }, &[&x, &idx], 0.0);
            }
        }
        let img = random(&mut r, dtype, &[1, 2, 3, 1, 2]);
        let up = Op::UpsampleNearest {
            scale: vec![2, 3, 1],
        };
        check_tol(&up, &[&img], 0.0);
    }
}

#[test]
fn gather_out_of_range_is_an_error_naming_the_index() {
    let x = typed(DType::F32, &[3, 2], &[0.0; 6]);
    let idx = typed(DType::I64, &[2], &[1.0, 3.0]);
    let err = run_on(&CpuBackend::new(), &Op::Gather { axis: 0 }, &[&x, &idx]).unwrap_err();
    assert!(err.contains("gather at `test.module`"), "{err}");
    assert!(err.contains("index 3"), "{err}");
    assert!(err.contains("extent 3"), "{err}");
}

#[test]
fn sources_are_bit_identical_to_the_reference() {
    for dtype in [DType::F32, DType::F16, DType::BF16, DType::I32, DType::I64] {
        let iota = Op::Iota {
            shape: Shape::new([3, 4, 5]),
            axis: 1,
            dtype,
        };
        check_tol(&iota, &[], 0.0);
    }
    for dtype in FLOATS {
        let op = Op::RandomNormal {
            shape: Shape::new([3, 17_001]),
            dtype,
            seed: 0xdead_beef,
            offset: 12_345,
        };
        let want = run_on(&ReferenceBackend::new(), &op, &[]).unwrap();
        let got = run_on(&CpuBackend::new(), &op, &[]).unwrap();
        assert_eq!(got, want, "{dtype}");
    }
    let value = random(&mut rng(13), DType::BF16, &[4, 3]);
    check_tol(&Op::Constant { value }, &[], 0.0);
}

#[test]
fn single_rank_collectives_are_the_identity_and_larger_groups_are_errors() {
    let x = random(&mut rng(14), DType::F32, &[4, 6]);
    let group = |size| hyv_ir::CommGroup {
        name: "dp".into(),
        size,
    };
    let ops = |size| {
        vec![
            Op::AllReduce {
                op: ReduceOp::Sum,
                group: group(size),
            },
            Op::AllGather {
                axis: 0,
                group: group(size),
            },
            Op::ReduceScatter {
                axis: 1,
                group: group(size),
            },
            Op::AllToAll {
                split_axis: 1,
                concat_axis: 0,
                group: group(size),
            },
            Op::BroadcastFrom {
                root: 0,
                group: group(size),
            },
        ]
    };
    for op in ops(1) {
        check_tol(&op, &[&x], 0.0);
    }
    for op in ops(2) {
        let err = run_on(&CpuBackend::new(), &op, &[&x]).unwrap_err();
        assert!(err.contains("size 2"), "{err}");
    }
}
