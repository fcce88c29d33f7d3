//! The kernels and [`eval`], which checks an op's operand types and dispatches to them.

mod attention;
mod conv;
pub(crate) mod elementwise;
pub(crate) mod fmath;
mod gather;
mod gemm;
mod matmul;
mod movement;
mod norm;
mod reduce;
mod rope;
mod softmax;
mod sources;

use crate::tensor::Arg;
use hyv_ir::{Op, TensorData, TensorType};
use std::sync::Arc;

/// Evaluates `op` on `args`, producing storage for a tensor of type `out`.
///
/// `out` must equal the type shape inference gives for the operands, so malformed calls are
/// errors, never panics. Reshapes, same-dtype casts and single-rank collectives share the
/// operand's storage. The message does not name the op; the backend adds it.
pub fn eval(op: &Op, out: &TensorType, args: &[Arg]) -> Result<Arc<TensorData>, String> {
    if let Op::Input { name } | Op::Parameter { name } = op {
        return Err(format!(
            "`{name}` has no value of its own; it is bound when a compiled graph runs"
        ));
    }
    let tys: Vec<&TensorType> = args.iter().map(|a| a.ty).collect();
    hyv_ir::infer::check_output(op, &tys, out)?;
    if let Some(shared) = shared(op, args)? {
        return Ok(shared);
    }
    let data = match op {
        Op::Constant { .. } | Op::Iota { .. } | Op::RandomNormal { .. } => sources::eval(op)?,
        Op::Unary(_)
        | Op::Binary(_)
        | Op::Compare(_)
        | Op::Select
        | Op::Cast { .. }
        | Op::Gelu { .. }
        | Op::Silu => elementwise::eval(op, args)?,
        Op::Reduce { .. } => reduce::eval(op, args)?,
        Op::Permute { .. }
        | Op::Broadcast { .. }
        | Op::Slice { .. }
        | Op::Concat { .. }
        | Op::Pad { .. }
        | Op::Gather { .. }
        | Op::UpsampleNearest { .. } => movement::eval(op, out, args)?,
        Op::MatMul | Op::Linear { .. } => matmul::eval(op, args)?,
        Op::Conv { .. } => conv::eval(op, out, args)?,
        Op::Softmax { .. } => softmax::eval(op, args)?,
        Op::LayerNorm { .. } | Op::RmsNorm { .. } | Op::GroupNorm { .. } => norm::eval(op, args)?,
        Op::Rope { .. } => rope::eval(op, args)?,
        Op::Attention { .. } => attention::eval(op, args)?,
        other => return Err(format!("no CPU kernel for `{}`", other.name())),
    };
    if data.dtype() != out.dtype || data.len() != out.shape.numel() {
        return Err(format!(
            "internal error: produced {} {} elements instead of {out}",
            data.len(),
            data.dtype()
        ));
    }
    Ok(Arc::new(data))
}

/// The operand's storage for ops that do not change it: reshape, a cast to the same dtype
/// and collectives over a single rank (larger groups need the distributed runtime).
fn shared(op: &Op, args: &[Arg]) -> Result<Option<Arc<TensorData>>, String> {
    if let Some(group) = op.single_rank_collective() {
        group?;
        return Ok(Some(args[0].data.clone()));
    }
    match op {
        Op::Reshape { .. } => Ok(Some(args[0].data.clone())),
        Op::Cast { to } if *to == args[0].ty.dtype => Ok(Some(args[0].data.clone())),
        _ => Ok(None),
    }
}
