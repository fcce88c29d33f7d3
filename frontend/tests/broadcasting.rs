//! Numpy-style broadcasting and the shape ops, against hand-computed values, in both modes.

mod common;
use common::{both, f32s};
use hyv_frontend::{concat, DType, PadMode};

#[test]
fn binary_ops_broadcast_like_numpy() {
    let a = f32s(&[2, 3], &[1., 2., 3., 4., 5., 6.]);
    let row = f32s(&[3], &[10., 20., 30.]);
    let col = f32s(&[2, 1], &[100., 200.]);
    let out = both(&[("a", a), ("row", row), ("col", col)], |_, x| {
        Ok(vec![
            (&x[0] + &x[1])?,
            (&x[2] - &x[1])?,
            (&x[2] * &x[1])?,
            (&x[0] / 2.0)?,
            (-&x[0])?,
            x[0].maximum(&x[1].div_scalar(10.0)?.add_scalar(1.5)?)?,
        ])
    });
    assert_eq!(out[0], (vec![2, 3], vec![11., 22., 33., 14., 25., 36.]));
    assert_eq!(out[1], (vec![2, 3], vec![90., 80., 70., 190., 180., 170.]));
    assert_eq!(
        out[2],
        (vec![2, 3], vec![1000., 2000., 3000., 2000., 4000., 6000.])
    );
    assert_eq!(out[3].1, vec![0.5, 1., 1.5, 2., 2.5, 3.]);
    assert_eq!(out[4].1, vec![-1., -2., -3., -4., -5., -6.]);
    // max(a, [2.5, 3.5, 4.5])
    assert_eq!(out[5].1, vec![2.5, 3.5, 4.5, 4., 5., 6.]);
}

#[test]
fn compare_and_where_broadcast() {
    let a = f32s(&[2, 2], &[1., -2., 3., -4.]);
    let zero = f32s(&[1], &[0.]);
    let fill = f32s(&[2, 1], &[7., 8.]);
    let out = both(&[("a", a), ("zero", zero), ("fill", fill)], |_, x| {
        let pos = x[0].gt(&x[1])?;
        Ok(vec![pos.to_dtype(DType::F32)?, pos.where_(&x[0], &x[2])?])
    });
    assert_eq!(out[0].1, vec![1., 0., 1., 0.]);
    assert_eq!(out[1].1, vec![1., 7., 3., 8.]);
}

#[test]
fn matmul_broadcasts_batch_axes() {
    // lhs [2,1,2,2], rhs [3,2,1]: batch [2,1] x [3] → [2,3].
    let lhs = f32s(&[2, 1, 2, 2], &[1., 0., 0., 1., 2., 0., 0., 2.]);
    let rhs = f32s(&[3, 2, 1], &[1., 2., 3., 4., 5., 6.]);
    let out = both(&[("l", lhs), ("r", rhs)], |_, x| {
        Ok(vec![x[0].matmul(&x[1])?])
    });
    assert_eq!(out[0].0, vec![2, 3, 2, 1]);
    assert_eq!(
        out[0].1,
        vec![1., 2., 3., 4., 5., 6., 2., 4., 6., 8., 10., 12.]
    );
}

#[test]
fn reductions_accept_negative_axes() {
    let a = f32s(&[2, 3], &[1., 2., 3., 4., 5., 6.]);
    let out = both(&[("a", a)], |_, x| {
        Ok(vec![
            x[0].sum(&[-1], false)?,
            x[0].mean(&[0], true)?,
            x[0].max(&[-2, -1], false)?,
            x[0].softmax(-1)?.sum(&[-1], false)?,
        ])
    });
    assert_eq!(out[0], (vec![2], vec![6., 15.]));
    assert_eq!(out[1], (vec![1, 3], vec![2.5, 3.5, 4.5]));
    assert_eq!(out[2], (vec![], vec![6.]));
    for s in &out[3].1 {
        assert!((s - 1.0).abs() < 1e-6);
    }
}

#[test]
fn shape_ops_move_data_as_torch_does() {
    let a = f32s(&[2, 3], &[1., 2., 3., 4., 5., 6.]);
    let out = both(&[("a", a)], |_, x| {
        let a = &x[0];
        let parts = a.chunk(2, 1)?; // [2,2] and [2,1]
        Ok(vec![
            a.reshape([3, -1])?,
            a.transpose(0, 1)?,
            a.unsqueeze(-1)?.squeeze(-1)?.unsqueeze(0)?.flatten(0, 1)?,
            a.narrow(1, 1, 2)?,
            parts[1].clone(),
            concat(&[&parts[1], &parts[0]], -1)?,
            a.pad(&[(0, 0), (1, 0)], PadMode::Replicate)?,
            a.gather(1, &a.ctx().arange(2, DType::I32)?.reshape([2])?)?,
            a.broadcast_to(&[2, 2, 3])?.sum(&[0], false)?,
        ])
    });
    assert_eq!(out[0], (vec![3, 2], vec![1., 2., 3., 4., 5., 6.]));
    assert_eq!(out[1], (vec![3, 2], vec![1., 4., 2., 5., 3., 6.]));
    assert_eq!(out[2].0, vec![2, 3]);
    assert_eq!(out[3], (vec![2, 2], vec![2., 3., 5., 6.]));
    assert_eq!(out[4], (vec![2, 1], vec![3., 6.]));
    assert_eq!(out[5].1, vec![3., 1., 2., 6., 4., 5.]);
    assert_eq!(out[6], (vec![2, 4], vec![1., 1., 2., 3., 4., 4., 5., 6.]));
    assert_eq!(out[7], (vec![2, 2], vec![1., 2., 4., 5.]));
    assert_eq!(out[8].1, vec![2., 4., 6., 8., 10., 12.]);
}

#[test]
fn incompatible_broadcast_is_an_error_naming_both_shapes() {
    let a = f32s(&[2, 3], &[0.; 6]);
    let b = f32s(&[4], &[0.; 4]);
    for mode in [hyv_frontend::Mode::Eager, hyv_frontend::Mode::Graph] {
        let err = common::run(mode, &[("a", a.clone()), ("b", b.clone())], |_, x| {
            Ok(vec![(&x[0] + &x[1])?])
        })
        .err()
        .expect("shapes do not broadcast")
        .to_string();
        assert!(
            err.contains("add") && err.contains("[2,3]") && err.contains("[4]"),
            "{err}"
        );
    }
}
