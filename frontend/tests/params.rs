//! Parameter naming, strict loading of weights, and shape-only tracing.

mod common;
use common::f32s;
use hyv_backend_reference::ReferenceBackend;
use hyv_frontend::nn::{Conv, Embedding, GroupNorm, LayerNorm, Linear, RmsNorm};
use hyv_frontend::{
    trace, ConvOptions, Ctx, DType, FnModel, HostTensor, Init, Mode, Module, Params, Result,
    Runner, Tensor, TensorType, Weights,
};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

/// Two blocks of `attn.to_q` (with bias) and `norm` (affine layer norm) of width 4.
fn blocks(p: &Params, x: &[Tensor]) -> Result<Vec<Tensor>> {
    let mut h = x[0].clone();
    for i in 0..2 {
        let b = p.sub("transformer_blocks").sub(i);
        let to_q = Linear::new(&b.sub("attn").sub("to_q"), 4, 4, true)?;
        let norm = LayerNorm::new(&b.sub("norm"), 4, 1e-5, true)?;
        h = norm.forward(&to_q.forward(&h)?)?;
    }
    Ok(vec![h])
}

fn f32_ty(dims: &[usize]) -> TensorType {
    TensorType::new(DType::F32, dims.to_vec())
}

fn x_input() -> Vec<(String, TensorType)> {
    vec![("x".into(), f32_ty(&[3, 4]))]
}

#[test]
fn parameter_names_follow_the_module_tree() {
    let model = FnModel::new("blocks", blocks);
    let traced = trace(&model, &Weights::ShapesOnly, &x_input()).unwrap();
    let names: Vec<String> = traced
        .params
        .declared()
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(
        names,
        [
            "transformer_blocks.0.attn.to_q.bias",
            "transformer_blocks.0.attn.to_q.weight",
            "transformer_blocks.0.norm.bias",
            "transformer_blocks.0.norm.weight",
            "transformer_blocks.1.attn.to_q.bias",
            "transformer_blocks.1.attn.to_q.weight",
            "transformer_blocks.1.norm.bias",
            "transformer_blocks.1.norm.weight",
        ]
    );
    let ctx = Ctx::graph("names");
    let p = Params::new(&ctx, Weights::ShapesOnly);
    assert_eq!(
        p.sub("a").sub(3).sub("b.c").name_of("weight"),
        "a.3.b.c.weight"
    );
    assert_eq!(p.name_of("weight"), "weight");
}

#[test]
fn shape_only_trace_makes_parameter_nodes_with_module_paths() {
    let model = FnModel::new("blocks", blocks);
    let traced = trace(&model, &Weights::ShapesOnly, &x_input()).unwrap();
    let g = &traced.graph;
    hyv_ir::verify(g).unwrap();
    assert_eq!(g.parameters().len(), 8);
    let w = g
        .parameters()
        .into_iter()
        .map(|id| g.node(id))
        .find(|n| {
            n.op == hyv_ir::Op::Parameter {
                name: "transformer_blocks.1.attn.to_q.weight".into(),
            }
        })
        .expect("parameter node");
    assert_eq!(w.ty, f32_ty(&[4, 4]));
    assert_eq!(w.path, "transformer_blocks.1.attn.to_q");
    let linear = g
        .nodes()
        .iter()
        .filter(|n| n.op.name() == "linear")
        .map(|n| n.path.as_str());
    assert_eq!(
        linear.collect::<Vec<_>>(),
        [
            "transformer_blocks.0.attn.to_q",
            "transformer_blocks.1.attn.to_q"
        ]
    );
    // No values exist: binding or eager use is a clear error.
    let err = traced.params.values().unwrap_err().to_string();
    assert!(err.contains("shapes only"), "{err}");
    let eager = Runner::new(Mode::Eager, Arc::new(ReferenceBackend::new()));
    let err = eager
        .run(
            &model,
            &Weights::ShapesOnly,
            &[("x".into(), f32s(&[3, 4], &[0.; 12]))],
        )
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("transformer_blocks.0.attn.to_q") && err.contains("no value"),
        "{err}"
    );
}

/// The weights `blocks` declares, with random values.
fn good_weights() -> BTreeMap<String, HostTensor> {
    let model = FnModel::new("blocks", blocks);
    trace(&model, &Weights::Random { seed: 3 }, &x_input())
        .unwrap()
        .params
        .values()
        .unwrap()
}

#[test]
fn strict_loading_reports_missing_unexpected_and_wrong_shapes_together() {
    let mut w = good_weights();
    w.remove("transformer_blocks.0.norm.bias");
    w.insert("transformer_blocks.0.extra".into(), f32s(&[1], &[0.]));
    w.insert(
        "transformer_blocks.1.attn.to_q.weight".into(),
        f32s(&[4, 5], &[0.; 20]),
    );
    let weights = Weights::Loaded(Rc::new(w));
    let model = FnModel::new("blocks", blocks);
    let x = vec![("x".to_string(), f32s(&[3, 4], &[0.5; 12]))];
    for mode in [Mode::Eager, Mode::Graph] {
        let err = Runner::new(mode, Arc::new(ReferenceBackend::new()))
            .run(&model, &weights, &x)
            .err()
            .expect("weights do not match")
            .to_string();
        for part in [
            "missing (1)",
            "`transformer_blocks.0.norm.bias` (expected f32[4])",
            "unexpected (1)",
            "`transformer_blocks.0.extra`",
            "wrong type (1)",
            "`transformer_blocks.1.attn.to_q.weight`: expected f32[4,4], got f32[4,5]",
        ] {
            assert!(err.contains(part), "{mode}: `{part}` missing from:\n{err}");
        }
    }
}

#[test]
fn loaded_weights_give_the_same_numbers_as_the_random_init_they_came_from() {
    let model = FnModel::new("blocks", blocks);
    let x = vec![(
        "x".to_string(),
        f32s(
            &[3, 4],
            &[0.1, -0.2, 0.3, 0.4, 1., 2., 3., 4., -1., 0., 1., 2.],
        ),
    )];
    for mode in [Mode::Eager, Mode::Graph] {
        let runner = Runner::new(mode, Arc::new(ReferenceBackend::new()));
        let random = runner
            .run(&model, &Weights::Random { seed: 3 }, &x)
            .unwrap();
        let loaded = runner
            .run(&model, &Weights::Loaded(Rc::new(good_weights())), &x)
            .unwrap();
        assert_eq!(random.outputs, loaded.outputs);
    }
}

#[test]
fn building_blocks_declare_torch_shaped_parameters() {
    let ctx = Ctx::graph("blocks");
    let p = Params::new(&ctx, Weights::ShapesOnly);
    let x = ctx.declare_input("x", f32_ty(&[1, 4, 6, 6])).unwrap();
    let conv = Conv::new(
        &p.sub("conv"),
        4,
        8,
        &[3, 3],
        ConvOptions::new(2).with_padding(1),
        true,
    )
    .unwrap();
    let y = conv.forward(&x).unwrap();
    assert_eq!(y.dims(), [1, 8, 6, 6]);
    let y = GroupNorm::new(&p.sub("gn"), 2, 8, 1e-6, true)
        .unwrap()
        .forward(&y)
        .unwrap();
    let y = y.upsample_nearest(&[2, 2]).unwrap();
    assert_eq!(y.dims(), [1, 8, 12, 12]);
    let ids = ctx
        .declare_input("ids", TensorType::new(DType::I64, [2, 3]))
        .unwrap();
    let e = Embedding::new(&p.sub("embed"), 10, 4)
        .unwrap()
        .forward(&ids)
        .unwrap();
    assert_eq!(e.dims(), [2, 3, 4]);
    let r = RmsNorm::new(&p.sub("rms"), 4, 1e-6, true)
        .unwrap()
        .forward(&e)
        .unwrap();
    assert_eq!(r.dims(), [2, 3, 4]);
    let declared: BTreeMap<String, TensorType> = p.declared().into_iter().collect();
    assert_eq!(declared["conv.weight"], f32_ty(&[8, 4, 3, 3]));
    assert_eq!(declared["conv.bias"], f32_ty(&[8]));
    assert_eq!(declared["gn.weight"], f32_ty(&[8]));
    assert_eq!(declared["embed.weight"], f32_ty(&[10, 4]));
    assert_eq!(declared["rms.weight"], f32_ty(&[4]));
    // Re-declaring with another shape is an error; with the same shape, the same tensor.
    assert!(p
        .sub("rms")
        .get("weight", &[5], Init::Constant(1.0))
        .is_err());
    assert!(p
        .sub("rms")
        .get("weight", &[4], Init::Constant(1.0))
        .is_ok());
}

#[test]
fn in_dtype_changes_the_default_parameter_dtype_of_a_subtree() {
    let ctx = Ctx::graph("dtypes");
    let root = Params::new(&ctx, Weights::ShapesOnly);
    let half = root.sub("blocks").in_dtype(DType::BF16);
    assert_eq!(half.path(), "blocks");
    assert_eq!(half.sub(0).dtype(), DType::BF16);
    assert_eq!(root.dtype(), DType::F32);
    let w = half
        .sub(0)
        .get("weight", &[2, 3], Init::Constant(1.0))
        .unwrap();
    assert_eq!(w.dtype(), DType::BF16);
    root.get("bias", &[3], Init::Constant(0.0)).unwrap();
    // Both handles record into the same tree.
    let declared = root.declared();
    assert_eq!(declared.len(), 2);
    assert_eq!(declared[1].0, "blocks.0.weight");
    assert_eq!(declared[1].1, TensorType::new(DType::BF16, [2, 3]));
}
