//! Source ops: `constant`, `iota` and `random_normal`. Values are converted exactly as the
//! IR defines them ([`TensorData::from_f64`]); random samples are the shared Philox stream
//! ([`normal_sample`]), generated in parallel, so every backend produces the same bits.

use crate::tensor::GRAIN;
use hyv_ir::random::normal_sample;
use hyv_ir::{Op, TensorData};
use rayon::prelude::*;

/// Evaluates a source op.
pub fn eval(op: &Op) -> Result<TensorData, String> {
    match op {
        Op::Constant { value } => Ok(value.data().clone()),
        Op::Iota { shape, axis, dtype } => {
            let extent = shape.dims()[*axis];
            let inner: usize = shape.dims()[axis + 1..].iter().product();
            Ok(TensorData::from_f64(
                *dtype,
                (0..shape.numel()).map(|i| ((i / inner) % extent) as f64),
            ))
        }
        Op::RandomNormal {
            shape,
            dtype,
            seed,
            offset,
        } => {
            let v: Vec<f64> = (0..shape.numel())
                .into_par_iter()
                .with_min_len(GRAIN)
                .map(|i| normal_sample(*seed, offset.wrapping_add(i as u64)))
                .collect();
            Ok(TensorData::from_f64(*dtype, v))
        }
        _ => Err("not a source op".into()),
    }
}
