//! [`integer_kernel`]: elementwise ops with an integer operand or result (index and mask
//! arithmetic: add/sub/mul/div/max/min, neg/abs, comparisons, select, casts), one element
//! per thread, with the reference backend's semantics: integer arithmetic wraps, division
//! truncates and by zero gives 0, casts go through f64 (float to integer saturates, NaN
//! gives 0) except i64 → i32, which wraps.

use super::{grid_stride_kernel, storage, KernelSource};
use hyv_ir::{BinaryOp, CmpOp, DType, Op, TensorType, UnaryOp};

/// The kernel of elementwise `op` when an operand or the result is an integer; `None`
/// otherwise (floats and bools are fused programs) and for ops it does not cover.
pub fn integer_kernel(op: &Op, out: &TensorType, inputs: &[TensorType]) -> Option<KernelSource> {
    let is_int = |d: DType| matches!(d, DType::I32 | DType::I64);
    if !is_int(out.dtype) && !inputs.iter().any(|t| is_int(t.dtype)) {
        return None;
    }
    let arg = |k: usize| -> Option<String> {
        let d = inputs.get(k)?.dtype;
        Some(match d {
            DType::I32 | DType::I64 | DType::Bool => format!("a{k}[e]"),
            _ => format!("hyv_ld_{}(a{k}, e)", storage(d)?.1),
        })
    };
    let (t, u) = match inputs.first().map(|t| t.dtype) {
        Some(DType::I32) => ("int", "unsigned int"),
        _ => ("long long", "unsigned long long"),
    };
    let value = match (op, inputs.len()) {
        (Op::Unary(UnaryOp::Neg), 1) => format!("({t})(({u})0 - ({u}){})", arg(0)?),
        (Op::Unary(UnaryOp::Abs), 1) => {
            let a = arg(0)?;
            format!("({a} < 0 ? ({t})(({u})0 - ({u}){a}) : {a})")
        }
        (Op::Binary(b), 2) => {
            let (a, c) = (arg(0)?, arg(1)?);
            match b {
                BinaryOp::Add => format!("({t})(({u}){a} + ({u}){c})"),
                BinaryOp::Sub => format!("({t})(({u}){a} - ({u}){c})"),
                BinaryOp::Mul => format!("({t})(({u}){a} * ({u}){c})"),
                BinaryOp::Div => {
                    format!(
                        "({c} == 0 ? ({t})0 : {c} == -1 ? ({t})(({u})0 - ({u}){a}) : {a} / {c})"
                    )
                }
                BinaryOp::Max => format!("({a} > {c} ? {a} : {c})"),
                BinaryOp::Min => format!("({a} < {c} ? {a} : {c})"),
                _ => return None,
            }
        }
        (Op::Compare(c), 2) => {
            let sym = match c {
                CmpOp::Eq => "==",
                CmpOp::Ne => "!=",
                CmpOp::Lt => "<",
                CmpOp::Le => "<=",
                CmpOp::Gt => ">",
                CmpOp::Ge => ">=",
            };
            format!("({} {sym} {})", arg(0)?, arg(1)?)
        }
        (Op::Select, 3) => format!("({} ? {} : {})", arg(0)?, arg(1)?, arg(2)?),
        (Op::Cast { .. }, 1) => match (inputs[0].dtype, out.dtype) {
            (DType::I64, DType::I32) => format!("(int){}", arg(0)?),
            _ => format!("(double){}", arg(0)?),
        },
        _ => return None,
    };
    let store = match out.dtype {
        DType::I32 => format!("out[e] = hyv_to_i32({value});"),
        DType::I64 => format!("out[e] = hyv_to_i64({value});"),
        DType::Bool => format!("out[e] = ({value}) != 0;"),
        d => format!("hyv_st_{}(out, e, (float)({value}));", storage(d)?.1),
    };
    let c_type = |d: DType| match d {
        DType::I32 => Some("int"),
        DType::I64 => Some("long long"),
        d => storage(d).map(|s| s.0),
    };
    let mut params = Vec::new();
    for (k, x) in inputs.iter().enumerate() {
        params.push(format!("const {}* __restrict__ a{k}", c_type(x.dtype)?));
    }
    params.push(format!("{}* __restrict__ out", c_type(out.dtype)?));
    let label = format!("int_{}", op.name());
    let signature = format!("{op:?} {out} {inputs:?}");
    let body = format!("    {store}\n");
    Some(grid_stride_kernel(
        &label,
        &signature,
        CONVERSIONS,
        &params,
        out.shape.numel(),
        &body,
    ))
}

/// Conversions to integers as Rust's `as` does them: integers keep their value (wrapping
/// when it does not fit), floats saturate and NaN gives 0.
const CONVERSIONS: &str = r#"
__device__ __forceinline__ int hyv_to_i32(int v) { return v; }
__device__ __forceinline__ int hyv_to_i32(long long v) { return (int)v; }
__device__ __forceinline__ int hyv_to_i32(bool v) { return v ? 1 : 0; }
__device__ __forceinline__ int hyv_to_i32(double v) {
  return v != v ? 0 : v >= 2147483647.0 ? 2147483647 : v <= -2147483648.0 ? (-2147483647 - 1) : (int)v;
}
__device__ __forceinline__ long long hyv_to_i64(long long v) { return v; }
__device__ __forceinline__ long long hyv_to_i64(int v) { return v; }
__device__ __forceinline__ long long hyv_to_i64(bool v) { return v ? 1 : 0; }
__device__ __forceinline__ long long hyv_to_i64(double v) {
  return v != v ? 0 : v >= 9223372036854775807.0 ? 9223372036854775807LL
       : v <= -9223372036854775808.0 ? (-9223372036854775807LL - 1) : (long long)v;
}
"#;
