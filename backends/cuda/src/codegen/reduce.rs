//! [`reduce_kernel`]: sums and maxima over any axes and of any dtype, one thread per output
//! element (the last-axis float reductions have the faster block-per-row fused kernel).

use super::access::offset;
use super::{grid_stride_kernel, KernelSource};
use hyv_ir::{DType, Op, ReduceOp, TensorType};
use hyv_passes::fused::InputAccess;

/// The kernel of a `reduce` of `x` into `out`: floats accumulate sums in f64 (max propagates
/// NaN), integers wrap as the reference backend's do. `None` for other ops and for bools.
pub fn reduce_kernel(op: &Op, out: &TensorType, x: &TensorType) -> Option<KernelSource> {
    let Op::Reduce {
        op: reduce, axes, ..
    } = op
    else {
        return None;
    };
    let (ty, load, acc_ty, init, fold, store) = match (x.dtype, reduce) {
        (DType::I32 | DType::I64, _) => {
            let (t, u) = if x.dtype == DType::I32 {
                ("int", "unsigned int")
            } else {
                ("long long", "unsigned long long")
            };
            let (init, fold) = match reduce {
                ReduceOp::Sum => ("0".to_string(), format!("acc = ({t})(({u})acc + ({u})v);")),
                ReduceOp::Max => (
                    if x.dtype == DType::I32 {
                        "(-2147483647 - 1)"
                    } else {
                        "(-9223372036854775807LL - 1)"
                    }
                    .to_string(),
                    "acc = v > acc ? v : acc;".to_string(),
                ),
            };
            (t, "a0[i]".to_string(), t, init, fold, "acc".to_string())
        }
        (d, _) if d.is_float() => {
            let (storage, sfx) = super::storage(d)?;
            let (acc_ty, init, fold) = match reduce {
                ReduceOp::Sum => ("double", "0.0", "acc += (double)v;"),
                ReduceOp::Max => ("float", "hyv_neg_inf()", "acc = hyv_max(acc, v);"),
            };
            let store = match d {
                DType::F32 => "(float)acc".to_string(),
                DType::F16 => "hyv_f32_to_f16((float)acc)".to_string(),
                _ => "hyv_f32_to_bf16((float)acc)".to_string(),
            };
            (
                storage,
                format!("hyv_ld_{sfx}(a0, i)"),
                acc_ty,
                init.to_string(),
                fold.to_string(),
                store,
            )
        }
        _ => return None,
    };
    let dims = x.shape.dims();
    let strides = x.shape.strides();
    let split = |keep: bool| InputAccess {
        operand: 0,
        dtype: x.dtype,
        dims: (0..dims.len())
            .filter(|d| axes.contains(d) != keep)
            .map(|d| dims[d])
            .collect(),
        strides: (0..dims.len())
            .filter(|d| axes.contains(d) != keep)
            .map(|d| strides[d])
            .collect(),
    };
    let (kept, reduced) = (split(true), split(false));
    let outputs: usize = kept.dims.iter().product();
    let count: usize = reduced.dims.iter().product();
    let out_ty = if x.dtype.is_float() {
        super::storage(x.dtype)?.0
    } else {
        ty
    };
    let params = [
        format!("const {ty}* __restrict__ a0"),
        format!("{out_ty}* __restrict__ out"),
    ];
    let body = format!(
        "    const unsigned long long base = {};\n    {acc_ty} acc = {init};\n    \
         for (unsigned long long r = 0; r < {count}ull; ++r) {{\n      \
         const unsigned long long i = base + {};\n      const auto v = {load};\n      {fold}\n    }}\n    \
         out[e] = {store};\n",
        offset(&kept, "e"),
        offset(&reduced, "r"),
    );
    let signature = format!("{op:?} {out} {x}");
    Some(grid_stride_kernel(
        op.name(),
        &signature,
        "",
        &params,
        outputs,
        &body,
    ))
}
