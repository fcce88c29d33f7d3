//! Source ops without operands: `constant`, `iota` and `random_normal`.

use crate::index::for_each_index;
use hyv_ir::random::normal_sample;
use hyv_ir::{HostTensor, Op, TensorData, TensorType};

/// Evaluates `constant`, `iota` or `random_normal`. Random samples are computed in f64 and
/// rounded once to the output dtype.
pub fn eval(op: &Op, out: &TensorType, inputs: &[&HostTensor]) -> Result<HostTensor, String> {
    if !inputs.is_empty() {
        return Err(format!("expects no operands, got {}", inputs.len()));
    }
    let data = match op {
        Op::Constant { value } => return Ok(value.clone()),
        Op::Iota { shape, axis, dtype } => {
            let mut v = Vec::with_capacity(shape.numel());
            for_each_index(shape.dims(), |idx| v.push(idx[*axis] as f64));
            TensorData::from_f64(*dtype, v)
        }
        Op::RandomNormal {
            shape,
            dtype,
            seed,
            offset,
        } => TensorData::from_f64(
            *dtype,
            (0..shape.numel() as u64).map(|i| normal_sample(*seed, offset.wrapping_add(i))),
        ),
        _ => return Err("not a source op".into()),
    };
    HostTensor::new(out.shape.clone(), data).map_err(|e| e.to_string())
}
