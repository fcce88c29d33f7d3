//! Misusing the DSL gives an error naming the op, the module path and the operand types,
//! identically in eager and graph mode.

mod common;
use common::{f32s, run};
use hyv_frontend::{Ctx, Mode, Params, Result, Tensor, Weights};

fn bad_matmul(_: &Params, x: &[Tensor]) -> Result<Vec<Tensor>> {
    let _mlp = x[0].ctx().enter("mlp");
    let _fc1 = x[0].ctx().enter("mlp.fc1");
    Ok(vec![x[0].matmul(&x[1])?])
}

#[test]
fn matmul_shape_error_names_op_path_and_shapes_in_both_modes() {
    let inputs = [
        ("a", f32s(&[2, 3], &[0.; 6])),
        ("b", f32s(&[4, 5], &[0.; 20])),
    ];
    let mut messages = Vec::new();
    for mode in [Mode::Eager, Mode::Graph] {
        let err = run(mode, &inputs, bad_matmul)
            .err()
            .expect("matmul must fail")
            .to_string();
        for part in ["matmul", "`mlp.fc1`", "[2,3]", "[4,5]"] {
            assert!(err.contains(part), "{mode}: `{part}` missing from: {err}");
        }
        messages.push(err);
    }
    assert_eq!(messages[0], messages[1], "eager and graph errors differ");
}

#[test]
fn scopes_nest_and_unwind() {
    let ctx = Ctx::graph("scopes");
    assert_eq!(ctx.path(), "");
    {
        let _a = ctx.enter("blocks.0");
        {
            let _b = ctx.enter("blocks.0.attn");
            assert_eq!(ctx.path(), "blocks.0.attn");
        }
        assert_eq!(ctx.path(), "blocks.0");
    }
    assert_eq!(ctx.path(), "");
}

#[test]
fn bad_axes_and_reshapes_are_errors_not_panics() {
    let ctx = Ctx::graph("axes");
    let p = Params::new(&ctx, Weights::ShapesOnly);
    let x = ctx
        .declare_input(
            "x",
            hyv_frontend::TensorType::new(hyv_frontend::DType::F32, [2, 3]),
        )
        .unwrap();
    let _s = ctx.enter("head");
    let err = x.sum(&[2], false).unwrap_err().to_string();
    assert!(
        err.contains("reduce_sum at `head`") && err.contains("f32[2,3]"),
        "{err}"
    );
    let err = x.reshape([4, -1]).unwrap_err().to_string();
    assert!(err.contains("reshape") && err.contains("f32[2,3]"), "{err}");
    let err = x.reshape([-1, -1]).unwrap_err().to_string();
    assert!(err.contains("at most one -1"), "{err}");
    let err = x.squeeze(0).unwrap_err().to_string();
    assert!(err.contains("extent is not 1"), "{err}");
    let err = x.slice(1, 2, 9, 1).unwrap_err().to_string();
    assert!(
        err.contains("slice") && err.contains("out of range"),
        "{err}"
    );
    // Declaring the same input twice is an error too.
    let err = ctx
        .declare_input(
            "x",
            hyv_frontend::TensorType::new(hyv_frontend::DType::F32, [1]),
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("declared twice"), "{err}");
    drop(p);
}

#[test]
fn tensors_of_another_context_are_rejected() {
    let (a, b) = (Ctx::graph("a"), Ctx::graph("b"));
    let ty = hyv_frontend::TensorType::new(hyv_frontend::DType::F32, [2]);
    let x = a.declare_input("x", ty.clone()).unwrap();
    let y = b.declare_input("y", ty).unwrap();
    let err = x.add(&y).unwrap_err().to_string();
    assert!(err.contains("another context"), "{err}");
}
