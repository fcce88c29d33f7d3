//! Collectives on a single rank: with group size 1 every collective is the identity; larger
//! groups need the distributed runtime.

use hyv_ir::{HostTensor, Op, TensorType};

/// Evaluates a collective (identity for a group of size 1, an error otherwise).
pub fn eval(op: &Op, _out: &TensorType, inputs: &[&HostTensor]) -> Result<HostTensor, String> {
    op.single_rank_collective()
        .ok_or_else(|| "not a collective op".to_string())??;
    let [x] = inputs else {
        return Err(format!("expects 1 operand, got {}", inputs.len()));
    };
    Ok((*x).clone())
}
