//! Helpers shared by the reference-backend tests.
#![allow(dead_code)]

use hyv_backend_reference::ReferenceBackend;
use hyv_ir::{infer::infer, DType, HostTensor, Op, TensorData};
use hyv_runtime::Backend;

/// An f32 tensor.
pub fn f32t(shape: &[usize], v: &[f32]) -> HostTensor {
    HostTensor::from_f32(shape.to_vec(), v.to_vec()).unwrap()
}

/// An i32 tensor.
pub fn i32t(shape: &[usize], v: &[i32]) -> HostTensor {
    HostTensor::new(shape.to_vec(), TensorData::I32(v.to_vec())).unwrap()
}

/// An i64 tensor.
pub fn i64t(shape: &[usize], v: &[i64]) -> HostTensor {
    HostTensor::new(shape.to_vec(), TensorData::I64(v.to_vec())).unwrap()
}

/// A bool tensor.
pub fn boolt(shape: &[usize], v: &[bool]) -> HostTensor {
    HostTensor::new(shape.to_vec(), TensorData::Bool(v.to_vec())).unwrap()
}

/// A tensor of `dtype` from f64 values (exactly representable values only).
pub fn typed(dtype: DType, shape: &[usize], v: &[f64]) -> HostTensor {
    HostTensor::new(
        shape.to_vec(),
        TensorData::from_f64(dtype, v.iter().copied()),
    )
    .unwrap()
}

/// Runs `op` through the backend's eager path, inferring the output type.
pub fn try_run(op: Op, inputs: &[&HostTensor]) -> Result<HostTensor, String> {
    let tys: Vec<_> = inputs.iter().map(|t| t.ty()).collect();
    let out = infer(&op, &tys)?;
    let b = ReferenceBackend::new();
    let dev: Vec<_> = inputs.iter().map(|t| b.upload(t).unwrap()).collect();
    let refs: Vec<_> = dev.iter().collect();
    let r = b
        .execute(&op, &out, &refs, "test.module")
        .map_err(|e| e.to_string())?;
    Ok(b.download(&r).unwrap())
}

/// Runs `op` and unwraps.
pub fn run(op: Op, inputs: &[&HostTensor]) -> HostTensor {
    try_run(op.clone(), inputs).unwrap_or_else(|e| panic!("{op:?} failed: {e}"))
}

/// Asserts shape and values (NaN matches NaN) within `tol` (absolute + relative).
pub fn assert_close(t: &HostTensor, shape: &[usize], expected: &[f64], tol: f64) {
    assert_eq!(t.shape().dims(), shape, "shape of {:?}", t.ty());
    let got = t.to_f64_vec();
    assert_eq!(got.len(), expected.len());
    for (i, (&g, &e)) in got.iter().zip(expected).enumerate() {
        let ok = (g.is_nan() && e.is_nan()) || g == e || (g - e).abs() <= tol * (1.0 + e.abs());
        assert!(ok, "element {i}: got {g}, expected {e} (all: {got:?})");
    }
}

/// Asserts exact values (bitwise equality of the f64 views, NaN matches NaN).
pub fn assert_exact(t: &HostTensor, shape: &[usize], expected: &[f64]) {
    assert_close(t, shape, expected, 0.0);
}
