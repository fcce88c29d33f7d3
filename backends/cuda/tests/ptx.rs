//! CUDA code generation compiled to PTX with NVRTC (no GPU needed): fused groups and
//! one-op kernels of handmade and random graphs, eager kernels for every elementwise op,
//! integer arithmetic, broadcast, permute, slice, concat, pad, iota and reductions over any
//! axes in every dtype, gathers, convolution columns, the attention kernels, a broken source (its error names the kernel
//! and carries NVRTC's log) and the PTX cache. Without NVRTC each test prints a loud skip
//! line, or fails when `HYV_REQUIRE_NVRTC=1` (see `hyv_backend_cuda::testing`).

use hyv_backend_cuda::codegen::{
    attention_kernel, eager_kernel, gather_kernel, graph_kernels, im2col_kernel, AttentionSpec,
    KernelSource, Launch,
};
use hyv_backend_cuda::nvrtc::{compile, nvrtc_version, NvrtcOptions};
use hyv_backend_cuda::ptx_cache::PtxCache;
use hyv_backend_cuda::testing::{self, nvrtc_for_test};
use hyv_ir::{
    BinaryOp, CmpOp, DType, Graph, Node, NodeId, Op, PadMode, ReduceOp, Shape, TensorType, UnaryOp,
    F64,
};
use hyv_passes::{Fuse, Pass};

fn options() -> NvrtcOptions {
    NvrtcOptions {
        arch: "sm_90".into(),
    }
}

/// Compiles every kernel (no cache) and checks its PTX header and entry point.
fn compile_all(kernels: &[KernelSource]) {
    let (major, minor) = nvrtc_version().unwrap();
    let versions = testing::compile_all(kernels, &options()).unwrap_or_else(|failures| {
        panic!(
            "{} kernels failed:\n{}",
            failures.len(),
            failures.join("\n")
        )
    });
    println!(
        "compiled {} kernels ({versions:?}) with NVRTC {major}.{minor}",
        kernels.len()
    );
}

/// The kernel itself, without the prelude.
fn body(k: &KernelSource) -> &str {
    &k.source[k.source.find("extern \"C\"").unwrap()..]
}

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

/// A graph whose groups read a bf16 bias broadcast along rows, a bool mask, compare and
/// select, round through f16, and end in a row sum and a row max; `dims` decides between
/// the vector and the scalar path.
fn handmade(dims: &[usize]) -> Graph {
    let mut g = Graph::new("handmade");
    let last = *dims.last().unwrap();
    let x = input(&mut g, "x", DType::F32, dims);
    let b = input(&mut g, "b", DType::BF16, &[last]);
    let m = input(&mut g, "m", DType::Bool, dims);
    let mut one = vec![1; dims.len()];
    *one.last_mut().unwrap() = last;
    let b = add(
        &mut g,
        Op::Reshape {
            shape: Shape::new(one),
        },
        &[b],
    );
    let b = add(
        &mut g,
        Op::Broadcast {
            shape: Shape::new(dims.to_vec()),
        },
        &[b],
    );
    let b = add(&mut g, Op::Cast { to: DType::F32 }, &[b]);
    let y = add(&mut g, Op::Binary(BinaryOp::Add), &[x, b]);
    let e = add(&mut g, Op::Unary(UnaryOp::Exp), &[y]);
    let gt = add(&mut g, Op::Compare(CmpOp::Gt), &[e, x]);
    let both = add(&mut g, Op::Binary(BinaryOp::And), &[gt, m]);
    let s = add(&mut g, Op::Select, &[both, e, y]);
    let h = add(&mut g, Op::Cast { to: DType::F16 }, &[s]);
    let t = add(&mut g, Op::Unary(UnaryOp::Tanh), &[h]);
    let rank = dims.len();
    let sum = add(
        &mut g,
        Op::Reduce {
            op: ReduceOp::Sum,
            axes: vec![rank - 1],
            keep_dims: false,
        },
        &[t],
    );
    let sq = add(&mut g, Op::Binary(BinaryOp::Mul), &[x, x]);
    let max = add(
        &mut g,
        Op::Reduce {
            op: ReduceOp::Max,
            axes: vec![rank - 1],
            keep_dims: false,
        },
        &[sq],
    );
    g.set_outputs(vec![t, sum, max]);
    Fuse.run(g).unwrap().0
}

#[test]
fn handmade_groups_take_the_vector_or_the_scalar_path() {
    let vector = graph_kernels(&handmade(&[4, 6, 16]));
    let scalar = graph_kernels(&handmade(&[3, 5, 7]));
    for kernels in [&vector, &scalar] {
        // The tanh group (stored: it is an output) and the row max; the row sum of the
        // output is a group of one node, which runs as an eager kernel.
        let names: Vec<_> = kernels.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(kernels.len(), 2, "{names:?}");
        let rows = kernels
            .iter()
            .filter(|k| matches!(k.launch, Launch::Rows { .. }));
        assert_eq!(rows.count(), 1, "{names:?}");
    }
    let store = |ks: &[KernelSource]| {
        ks.iter()
            .find(|k| matches!(k.launch, Launch::Elementwise { .. }))
            .cloned()
            .unwrap()
    };
    let (v, s) = (store(&vector), store(&scalar));
    assert_eq!(
        v.launch,
        Launch::Elementwise {
            items: 4 * 6 * 16 / 8,
            vector: true
        }
    );
    assert!(
        v.source.contains("hyv_ld8_f32(a1, e0, x1)") && v.source.contains("hyv_st8_f16(out"),
        "{}",
        v.source
    );
    // The broadcast bias: one scalar read shared by 8 lanes would be wrong here (it varies
    // along the row), so it is a vector read too; the mask is a vector of bytes.
    assert!(
        v.source.contains("hyv_ld8_bf16(") && v.source.contains("hyv_ld8_bool("),
        "{}",
        v.source
    );
    assert_eq!(
        s.launch,
        Launch::Elementwise {
            items: 3 * 5 * 7,
            vector: false
        }
    );
    assert!(
        !body(&s).contains("hyv_ld8_") && body(&s).contains("hyv_st_f16(out, e,"),
        "{}",
        s.source
    );
    if nvrtc_for_test("handmade_groups_take_the_vector_or_the_scalar_path") {
        compile_all(&[vector, scalar].concat());
    }
}

#[test]
fn random_graphs_compile() {
    let mut kernels = Vec::new();
    for seed in 0..6 {
        let g = Fuse
            .run(hyv_ir::testing::random_graph_all_ops(seed))
            .unwrap()
            .0;
        kernels.extend(graph_kernels(&g));
        for node in g.nodes() {
            let types: Vec<TensorType> = node.inputs.iter().map(|&i| g.ty(i).clone()).collect();
            kernels.extend(eager_kernel(&node.op, &node.ty, &types));
        }
    }
    assert!(!kernels.is_empty());
    if nvrtc_for_test("random_graphs_compile") {
        compile_all(&kernels);
    }
}

#[test]
fn eager_kernels_cover_every_elementwise_op_movement_and_dtype() {
    let unary = UnaryOp::FLOAT;
    let binary = [
        BinaryOp::Add,
        BinaryOp::Sub,
        BinaryOp::Mul,
        BinaryOp::Div,
        BinaryOp::Max,
        BinaryOp::Min,
        BinaryOp::Pow,
    ];
    let cmp = [
        CmpOp::Eq,
        CmpOp::Ne,
        CmpOp::Lt,
        CmpOp::Le,
        CmpOp::Gt,
        CmpOp::Ge,
    ];
    let mut kernels = Vec::new();
    for dtype in [DType::F32, DType::F16, DType::BF16] {
        let t = TensorType::new(dtype, [2, 8]);
        let b = TensorType::new(DType::Bool, [2, 8]);
        for u in unary {
            kernels.push(eager_kernel(&Op::Unary(u), &t, std::slice::from_ref(&t)).unwrap());
        }
        for op in binary {
            kernels.push(eager_kernel(&Op::Binary(op), &t, &[t.clone(), t.clone()]).unwrap());
        }
        for c in cmp {
            kernels.push(eager_kernel(&Op::Compare(c), &b, &[t.clone(), t.clone()]).unwrap());
        }
        kernels.push(eager_kernel(&Op::Select, &t, &[b.clone(), t.clone(), t.clone()]).unwrap());
        for to in [DType::F32, DType::F16, DType::BF16, DType::Bool] {
            let out = TensorType::new(to, [2, 8]);
            kernels.push(eager_kernel(&Op::Cast { to }, &out, std::slice::from_ref(&t)).unwrap());
        }
        for op in [ReduceOp::Sum, ReduceOp::Max] {
            let reduce = Op::Reduce {
                op,
                axes: vec![1],
                keep_dims: true,
            };
            let out = TensorType::new(dtype, [2, 1]);
            kernels.push(eager_kernel(&reduce, &out, std::slice::from_ref(&t)).unwrap());
        }
    }
    for dtype in [DType::F32, DType::BF16, DType::Bool] {
        let x = TensorType::new(dtype, [1, 3, 8]);
        let wide = TensorType::new(dtype, [4, 3, 8]);
        let to = Shape::new(vec![4, 3, 8]);
        kernels.push(
            eager_kernel(
                &Op::Broadcast { shape: to },
                &wide,
                std::slice::from_ref(&x),
            )
            .unwrap(),
        );
        let turned = TensorType::new(dtype, [8, 1, 3]);
        let perm = Op::Permute {
            perm: vec![2, 0, 1],
        };
        kernels.push(eager_kernel(&perm, &turned, &[x]).unwrap());
    }
    for dtype in [DType::F32, DType::BF16, DType::I64, DType::Bool] {
        let x = TensorType::new(dtype, [2, 5, 6]);
        let slice = Op::Slice {
            start: vec![0, 1, 0],
            end: vec![2, 5, 6],
            step: vec![1, 2, 3],
        };
        let sliced = TensorType::new(dtype, [2, 2, 2]);
        kernels.push(eager_kernel(&slice, &sliced, std::slice::from_ref(&x)).unwrap());
        let joined = TensorType::new(dtype, [2, 7, 6]);
        let y = TensorType::new(dtype, [2, 2, 6]);
        kernels.push(eager_kernel(&Op::Concat { axis: 1 }, &joined, &[x, y]).unwrap());
    }
    for dtype in [DType::F32, DType::F16, DType::I32, DType::I64] {
        let x = TensorType::new(dtype, [3, 4, 5]);
        for op in [ReduceOp::Sum, ReduceOp::Max] {
            let reduce = Op::Reduce {
                op,
                axes: vec![0, 2],
                keep_dims: false,
            };
            let out = TensorType::new(dtype, [4]);
            kernels.push(eager_kernel(&reduce, &out, std::slice::from_ref(&x)).unwrap());
        }
        let iota = Op::Iota {
            shape: Shape::new(vec![3, 4]),
            axis: 1,
            dtype,
        };
        kernels.push(eager_kernel(&iota, &TensorType::new(dtype, [3, 4]), &[]).unwrap());
        let padded = TensorType::new(dtype, [3, 6, 8]);
        for mode in [PadMode::Constant(F64(-1.5)), PadMode::Replicate] {
            let pad = Op::Pad {
                low: vec![0, 1, 2],
                high: vec![0, 1, 1],
                mode,
            };
            kernels.push(eager_kernel(&pad, &padded, std::slice::from_ref(&x)).unwrap());
        }
    }
    for dtype in [DType::F32, DType::BF16] {
        let conv = Op::Conv {
            stride: vec![2, 1],
            padding: vec![(1, 0), (2, 2)],
            dilation: vec![1, 2],
            groups: 2,
        };
        let (x, w) = (
            TensorType::new(dtype, [2, 4, 9, 7]),
            TensorType::new(dtype, [6, 2, 3, 3]),
        );
        let out = TensorType::new(dtype, [2, 6, 4, 7]);
        kernels.push(im2col_kernel(&conv, &x, &w, &out).unwrap());
    }
    for (dtype, index) in [(DType::F32, DType::I64), (DType::BF16, DType::I32)] {
        let (x, i) = (
            TensorType::new(dtype, [4, 10, 3]),
            TensorType::new(index, [2, 5]),
        );
        let out = TensorType::new(dtype, [4, 2, 5, 3]);
        kernels.push(gather_kernel(&Op::Gather { axis: 1 }, &out, &x, &i).unwrap());
    }
    let ints = TensorType::new(DType::I64, [1, 4]);
    let wide = TensorType::new(DType::I64, [3, 4]);
    let to = Shape::new(vec![3, 4]);
    kernels.push(
        eager_kernel(
            &Op::Broadcast { shape: to },
            &wide,
            std::slice::from_ref(&ints),
        )
        .unwrap(),
    );
    let perm = Op::Permute { perm: vec![1, 0] };
    kernels.push(eager_kernel(&perm, &TensorType::new(DType::I64, [4, 3]), &[wide]).unwrap());
    let b = TensorType::new(DType::Bool, [3]);
    kernels.push(eager_kernel(&Op::Unary(UnaryOp::Not), &b, std::slice::from_ref(&b)).unwrap());
    for op in [BinaryOp::And, BinaryOp::Or] {
        kernels.push(eager_kernel(&Op::Binary(op), &b, &[b.clone(), b.clone()]).unwrap());
    }
    for dtype in [DType::I32, DType::I64] {
        let i = TensorType::new(dtype, [3, 5]);
        let two = [i.clone(), i.clone()];
        for u in [UnaryOp::Neg, UnaryOp::Abs] {
            kernels.push(eager_kernel(&Op::Unary(u), &i, std::slice::from_ref(&i)).unwrap());
        }
        for op in [
            BinaryOp::Add,
            BinaryOp::Sub,
            BinaryOp::Mul,
            BinaryOp::Div,
            BinaryOp::Max,
            BinaryOp::Min,
        ] {
            kernels.push(eager_kernel(&Op::Binary(op), &i, &two).unwrap());
        }
        let b = TensorType::new(DType::Bool, [3, 5]);
        for c in [CmpOp::Eq, CmpOp::Lt] {
            kernels.push(eager_kernel(&Op::Compare(c), &b, &two).unwrap());
        }
        kernels.push(eager_kernel(&Op::Select, &i, &[b.clone(), i.clone(), i.clone()]).unwrap());
        for other in [DType::F32, DType::BF16, DType::I32, DType::I64, DType::Bool] {
            let o = TensorType::new(other, [3, 5]);
            if other != dtype {
                let to = Op::Cast { to: other };
                kernels.push(eager_kernel(&to, &o, std::slice::from_ref(&i)).unwrap());
                let from = Op::Cast { to: dtype };
                kernels.push(eager_kernel(&from, &i, std::slice::from_ref(&o)).unwrap());
            }
        }
        // Integer powers have no kernel.
        assert!(eager_kernel(&Op::Binary(BinaryOp::Pow), &i, &two).is_none());
    }
    if nvrtc_for_test("eager_kernels_cover_every_elementwise_op_movement_and_dtype") {
        compile_all(&kernels);
    }
}

#[test]
fn attention_kernels_compile() {
    let mut kernels = Vec::new();
    for dtype in [DType::F32, DType::F16, DType::BF16] {
        for head_dim in [64, 128, 40, 160] {
            let k = attention_kernel(AttentionSpec { dtype, head_dim }, 2 * 24, 100).unwrap();
            assert_eq!(
                k.launch,
                Launch::Attention {
                    query_tiles: 13,
                    batch_heads: 48
                }
            );
            kernels.push(k);
        }
    }
    assert!(attention_kernel(
        AttentionSpec {
            dtype: DType::F32,
            head_dim: 192
        },
        1,
        1
    )
    .is_none());
    assert!(attention_kernel(
        AttentionSpec {
            dtype: DType::I32,
            head_dim: 64
        },
        1,
        1
    )
    .is_none());
    if nvrtc_for_test("attention_kernels_compile") {
        compile_all(&kernels);
    }
}

#[test]
fn a_broken_kernel_reports_its_name_and_nvrtc_log() {
    if !nvrtc_for_test("a_broken_kernel_reports_its_name_and_nvrtc_log") {
        return;
    }
    let broken = KernelSource {
        name: "hyv_broken_example".into(),
        source: "extern \"C\" __global__ void hyv_broken_example(float* out) { out[0] = undefined_thing; }".into(),
        launch: Launch::Elementwise { items: 1, vector: false },
    };
    let message = compile(&broken, &options(), &PtxCache::disabled())
        .unwrap_err()
        .to_string();
    assert!(
        message.starts_with("cuda backend: NVRTC could not compile kernel `hyv_broken_example`"),
        "{message}"
    );
    assert!(
        message.contains("undefined_thing") && message.contains("hyv_broken_example.cu"),
        "{message}"
    );
}

#[test]
fn the_ptx_cache_serves_a_second_compilation() {
    if !nvrtc_for_test("the_ptx_cache_serves_a_second_compilation") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cache = PtxCache::in_dir(dir.path().join("ptx"));
    let t = TensorType::new(DType::F32, [8]);
    let k = eager_kernel(&Op::Unary(UnaryOp::Exp), &t, std::slice::from_ref(&t)).unwrap();
    let first = compile(&k, &options(), &cache).unwrap();
    let files: Vec<_> = std::fs::read_dir(dir.path().join("ptx"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0]
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with(&k.name));
    // A marked copy in the cache file proves the second call reads it.
    std::fs::write(&files[0], format!("{first}// cached\n")).unwrap();
    assert!(compile(&k, &options(), &cache)
        .unwrap()
        .ends_with("// cached\n"));
    // Other options are another key.
    let sm80 = NvrtcOptions {
        arch: "sm_80".into(),
    };
    assert!(compile(&k, &sm80, &cache)
        .unwrap()
        .contains(".target sm_80"));
}
