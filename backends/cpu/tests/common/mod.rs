//! Helpers shared by the CPU-backend tests: random operands, and running one op on the CPU
//! backend and on the reference backend to compare the results.
#![allow(dead_code)]

use hyv_backend_cpu::CpuBackend;
use hyv_backend_reference::ReferenceBackend;
use hyv_ir::{infer::infer, DType, HostTensor, Op, TensorData, TensorType};
use hyv_runtime::Backend;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// A deterministic RNG for test operands.
pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// A random tensor: floats uniform in [-1, 1], integers in -5..=5, bools fair.
pub fn random(rng: &mut StdRng, dtype: DType, shape: &[usize]) -> HostTensor {
    random_in(rng, dtype, shape, -1.0, 1.0)
}

/// A random tensor with floats uniform in [lo, hi] (integers in -5..=5, bools fair).
pub fn random_in(rng: &mut StdRng, dtype: DType, shape: &[usize], lo: f64, hi: f64) -> HostTensor {
    let n: usize = shape.iter().product();
    let data = match dtype {
        DType::Bool => TensorData::Bool((0..n).map(|_| rng.random_bool(0.5)).collect()),
        d if d.is_int() => {
            TensorData::from_f64(d, (0..n).map(|_| rng.random_range(-5i32..=5) as f64))
        }
        d => TensorData::from_f64(d, (0..n).map(|_| rng.random_range(lo..=hi))),
    };
    HostTensor::new(shape.to_vec(), data).unwrap()
}

/// A tensor of `dtype` from f64 values.
pub fn typed(dtype: DType, shape: &[usize], v: &[f64]) -> HostTensor {
    HostTensor::new(
        shape.to_vec(),
        TensorData::from_f64(dtype, v.iter().copied()),
    )
    .unwrap()
}

/// Runs `op` eagerly on `backend`, inferring the output type.
pub fn run_on(
    backend: &dyn Backend,
    op: &Op,
    inputs: &[&HostTensor],
) -> Result<HostTensor, String> {
    let tys: Vec<&TensorType> = inputs.iter().map(|t| t.ty()).collect();
    let out = infer(op, &tys)?;
    let dev: Vec<_> = inputs.iter().map(|t| backend.upload(t).unwrap()).collect();
    let refs: Vec<_> = dev.iter().collect();
    let r = backend
        .execute(op, &out, &refs, "test.module")
        .map_err(|e| e.to_string())?;
    Ok(backend.download(&r).unwrap())
}

/// The default tolerance (relative L2) for results of `dtype`: 1e-5 for f32, about one
/// rounding step for f16/bf16, exact for integers and bools.
pub fn tolerance(dtype: DType) -> f64 {
    match dtype {
        DType::F32 => 1e-5,
        DType::F16 => 1e-3,
        DType::BF16 => 8e-3,
        _ => 0.0,
    }
}

/// Relative L2 error of `got` against `want`; NaNs and infinities must sit at the same
/// places with the same values and are left out of the norm (a mismatch is an infinite
/// error, printed with its position).
pub fn error(got: &HostTensor, want: &HostTensor) -> f64 {
    assert_eq!(got.ty(), want.ty(), "result types differ");
    let (g, w) = (got.to_f64_vec(), want.to_f64_vec());
    let (mut num, mut den) = (0.0, 0.0);
    for (i, (&a, &b)) in g.iter().zip(&w).enumerate() {
        if !b.is_finite() || !a.is_finite() {
            if !((a.is_nan() && b.is_nan()) || a == b) {
                eprintln!("element {i}: got {a}, reference {b}");
                return f64::INFINITY;
            }
            continue;
        }
        num += (a - b) * (a - b);
        den += b * b;
    }
    if num == 0.0 {
        0.0
    } else {
        num.sqrt() / den.sqrt().max(f64::MIN_POSITIVE)
    }
}

/// Runs `op` on both backends and asserts the CPU result is within `tol` (relative L2) of
/// the reference; returns the error.
pub fn check_tol(op: &Op, inputs: &[&HostTensor], tol: f64) -> f64 {
    let want = run_on(&ReferenceBackend::new(), op, inputs)
        .unwrap_or_else(|e| panic!("reference {op:?} failed: {e}"));
    let got =
        run_on(&CpuBackend::new(), op, inputs).unwrap_or_else(|e| panic!("cpu {op:?} failed: {e}"));
    let err = error(&got, &want);
    let shapes: Vec<String> = inputs.iter().map(|t| t.ty().to_string()).collect();
    assert!(
        err <= tol,
        "{op:?} on ({}): rel. L2 error {err:e} > {tol:e}",
        shapes.join(", ")
    );
    err
}

/// [`check_tol`] with the output dtype's default [`tolerance`].
pub fn check(op: &Op, inputs: &[&HostTensor]) -> f64 {
    let tys: Vec<&TensorType> = inputs.iter().map(|t| t.ty()).collect();
    let out = infer(op, &tys).unwrap_or_else(|e| panic!("{op:?}: {e}"));
    check_tol(op, inputs, tolerance(out.dtype))
}

/// Shapes with odd extents, size-1 dims, and tails that are not a multiple of the SIMD width.
pub const SHAPES: [&[usize]; 6] = [&[1], &[7], &[3, 5], &[2, 1, 33], &[17, 1, 3, 5], &[40_003]];

/// The float dtypes.
pub const FLOATS: [DType; 3] = [DType::F32, DType::F16, DType::BF16];
