//! `hyv-backend-reference`: a plain interpreter of every IR op, the numerical oracle that
//! every other backend and every pass is tested against. Slow by design.
//!
//! Numerics: floats are computed in f32 or wider (f16/bf16 are widened exactly) and rounded
//! to the storage dtype once per op (round to nearest even); sums, contractions, norm
//! statistics, softmax denominators and attention accumulate in f64. Integers use wrapping
//! arithmetic; integer division truncates and `x / 0 = 0`.
//!
//! [`eval`] evaluates one op on host tensors; [`ReferenceBackend`] uses it for eager ops and
//! its executables use it node by node, so both modes share the kernels.

mod activation;
mod attention;
mod backend;
mod collective;
mod conv;
mod elementwise;
mod executable;
mod index;
mod math;
mod matmul;
mod movement;
mod norm;
mod reduce;
mod rope;
mod sources;
mod upsample;
mod values;

pub use backend::ReferenceBackend;
pub use executable::ReferenceExecutable;
pub use math::{erf, erfc};

use hyv_ir::{HostTensor, Op, TensorType};

/// Evaluates `op` on `inputs`, producing a tensor of type `out`.
///
/// The operand types are checked first: `out` must equal the type that shape inference gives
/// for them, so malformed calls are errors, never panics. `input` and `parameter` have no
/// value of their own (executables bind them) and are errors here. The message does not
/// name the op; callers add the op name and module path.
pub fn eval(op: &Op, out: &TensorType, inputs: &[&HostTensor]) -> Result<HostTensor, String> {
    if let Op::Input { name } | Op::Parameter { name } = op {
        return Err(unbound(name));
    }
    let tys: Vec<&TensorType> = inputs.iter().map(|t| t.ty()).collect();
    hyv_ir::infer::check_output(op, &tys, out)?;
    let result = match op {
        Op::Input { name } | Op::Parameter { name } => Err(unbound(name)),
        Op::Constant { .. } | Op::Iota { .. } | Op::RandomNormal { .. } => {
            sources::eval(op, out, inputs)
        }
        Op::Unary(_) | Op::Binary(_) | Op::Compare(_) | Op::Select | Op::Cast { .. } => {
            elementwise::eval(op, out, inputs)
        }
        Op::Reduce { .. } => reduce::eval(op, out, inputs),
        Op::Reshape { .. }
        | Op::Permute { .. }
        | Op::Broadcast { .. }
        | Op::Slice { .. }
        | Op::Concat { .. }
        | Op::Pad { .. }
        | Op::Gather { .. } => movement::eval(op, out, inputs),
        Op::MatMul | Op::Linear { .. } => matmul::eval(op, out, inputs),
        Op::Conv { .. } => conv::eval(op, out, inputs),
        Op::AllReduce { .. }
        | Op::AllGather { .. }
        | Op::ReduceScatter { .. }
        | Op::AllToAll { .. }
        | Op::BroadcastFrom { .. } => collective::eval(op, out, inputs),
        Op::Softmax { .. } | Op::Gelu { .. } | Op::Silu => activation::eval(op, out, inputs),
        Op::LayerNorm { .. } | Op::RmsNorm { .. } | Op::GroupNorm { .. } => {
            norm::eval(op, out, inputs)
        }
        Op::Attention { .. } => attention::eval(op, out, inputs),
        Op::Rope { .. } => rope::eval(op, out, inputs),
        Op::UpsampleNearest { .. } => upsample::eval(op, out, inputs),
    }?;
    if result.ty() != out {
        return Err(format!(
            "internal error: produced {} instead of {out}",
            result.ty()
        ));
    }
    Ok(result)
}

/// The error for evaluating an `input` or `parameter` node on its own.
fn unbound(name: &str) -> String {
    format!("`{name}` has no value of its own; it is bound when a compiled graph runs")
}
