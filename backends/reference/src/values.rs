//! Loading tensors into compute values and storing results in the output dtype.
//!
//! Floats are computed in f32 (f16/bf16 widen exactly) or wider and rounded to f32, then to
//! the storage dtype (round to nearest even). Integers are computed in i64 with wrapping
//! arithmetic and truncated to i32 where stored as i32 (the same as wrapping i32 arithmetic).

use half::{bf16, f16};
use hyv_ir::{DType, HostTensor, TensorData, TensorType};

/// The elements of a float tensor as f32 (exact for f16/bf16); an error for other dtypes.
pub fn load_f32(t: &HostTensor, what: &str) -> Result<Vec<f32>, String> {
    if !t.dtype().is_float() {
        return Err(format!("{what} {} must be a float type", t.ty()));
    }
    Ok(t.to_f32_vec())
}

/// The elements of an integer tensor as i64; an error for other dtypes.
pub fn load_i64(t: &HostTensor, what: &str) -> Result<Vec<i64>, String> {
    match t.data() {
        TensorData::I32(v) => Ok(v.iter().map(|&x| x as i64).collect()),
        TensorData::I64(v) => Ok(v.clone()),
        _ => Err(format!("{what} {} must be an integer type", t.ty())),
    }
}

/// The elements of a bool tensor; an error for other dtypes.
pub fn load_bool<'a>(t: &'a HostTensor, what: &str) -> Result<&'a [bool], String> {
    match t.data() {
        TensorData::Bool(v) => Ok(v),
        _ => Err(format!("{what} {} must be bool", t.ty())),
    }
}

/// Stores f32 values as a tensor of the float type `out` (rounding to f16/bf16).
pub fn store_f32(out: &TensorType, v: Vec<f32>) -> Result<HostTensor, String> {
    let data = match out.dtype {
        DType::F32 => TensorData::F32(v),
        DType::F16 => TensorData::F16(v.into_iter().map(f16::from_f32).collect()),
        DType::BF16 => TensorData::BF16(v.into_iter().map(bf16::from_f32).collect()),
        _ => return Err(format!("output {out} must be a float type")),
    };
    HostTensor::new(out.shape.clone(), data).map_err(|e| e.to_string())
}

/// Stores f64 results: each is rounded to f32 (the compute type), then to `out`'s dtype.
pub fn store_f64(out: &TensorType, v: Vec<f64>) -> Result<HostTensor, String> {
    store_f32(out, v.into_iter().map(|x| x as f32).collect())
}

/// Stores i64 results as `out`'s integer dtype (i32 keeps the low 32 bits).
pub fn store_i64(out: &TensorType, v: Vec<i64>) -> Result<HostTensor, String> {
    let data = match out.dtype {
        DType::I64 => TensorData::I64(v),
        DType::I32 => TensorData::I32(v.into_iter().map(|x| x as i32).collect()),
        _ => return Err(format!("output {out} must be an integer type")),
    };
    HostTensor::new(out.shape.clone(), data).map_err(|e| e.to_string())
}

/// Stores bool results with `out`'s shape.
pub fn store_bool(out: &TensorType, v: Vec<bool>) -> Result<HostTensor, String> {
    HostTensor::new(out.shape.clone(), TensorData::Bool(v)).map_err(|e| e.to_string())
}

/// Builds a tensor of type `out` whose element `i` is `sources[picks[i].0][picks[i].1]`.
/// Every source must have `out`'s dtype; this is how data movement stays dtype-agnostic.
pub fn pick(
    out: &TensorType,
    sources: &[&TensorData],
    picks: &[(usize, usize)],
) -> Result<HostTensor, String> {
    macro_rules! gather_variant {
        ($var:ident) => {{
            let slices = sources
                .iter()
                .map(|s| match s {
                    TensorData::$var(v) => Ok(v.as_slice()),
                    other => Err(format!(
                        "operand dtype {} differs from output {out}",
                        other.dtype()
                    )),
                })
                .collect::<Result<Vec<_>, String>>()?;
            TensorData::$var(picks.iter().map(|&(s, i)| slices[s][i]).collect())
        }};
    }
    let data = match out.dtype {
        DType::F32 => gather_variant!(F32),
        DType::F16 => gather_variant!(F16),
        DType::BF16 => gather_variant!(BF16),
        DType::I32 => gather_variant!(I32),
        DType::I64 => gather_variant!(I64),
        DType::Bool => gather_variant!(Bool),
    };
    HostTensor::new(out.shape.clone(), data).map_err(|e| e.to_string())
}
