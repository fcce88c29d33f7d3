//! Elementwise kernels: unary, binary, compare, select, cast, and the GELU/SiLU composites.
//! Float math runs in f32 (f16/bf16 widened exactly, rounded once when stored); integers
//! wrap; every loop is parallel over [`GRAIN`]-sized chunks.

use super::fmath::{erf, gelu_erf, gelu_tanh, max_nan, min_nan, silu};
use crate::tensor::{
    float_zip, load_f32, par_map, par_zip, store_f32, typed, with_elem, Arg, Elem, GRAIN,
};
use hyv_ir::{BinaryOp, CmpOp, DType, HostTensor, Op, TensorData, UnaryOp};
use rayon::prelude::*;

/// Evaluates an elementwise op (`cast` to the same dtype is handled by the caller).
pub fn eval(op: &Op, args: &[Arg]) -> Result<TensorData, String> {
    match (op, args) {
        (Op::Unary(u), [x]) => unary(*u, x),
        (Op::Gelu { tanh: true }, [x]) => float_map(x, gelu_tanh),
        (Op::Gelu { tanh: false }, [x]) => float_map(x, gelu_erf),
        (Op::Silu, [x]) => float_map(x, silu),
        (Op::Binary(b), [x, y]) => binary(*b, x, y),
        (Op::Compare(c), [x, y]) => compare(*c, x, y),
        (Op::Select, [c, a, b]) => select(c, a, b),
        (Op::Cast { to }, [x]) => cast(*to, x),
        _ => Err(format!(
            "not an elementwise op with {} operands",
            args.len()
        )),
    }
}

/// Applies the f32 function `f` to a float operand.
fn float_map(x: &Arg, f: fn(f32) -> f32) -> Result<TensorData, String> {
    float_zip([&**x.data], x.ty.dtype, |[a], o| {
        for (o, &a) in o.iter_mut().zip(a) {
            *o = f(a);
        }
    })
}

/// Wrapping integer arithmetic shared by i32 and i64.
trait Int: Elem + Ord {
    fn add(self, o: Self) -> Self;
    fn sub(self, o: Self) -> Self;
    fn mul(self, o: Self) -> Self;
    /// Truncating division; division by zero gives 0.
    fn div(self, o: Self) -> Self;
    fn neg(self) -> Self;
    fn abs(self) -> Self;
}

macro_rules! impl_int {
    ($($t:ty),*) => {$(
        impl Int for $t {
            fn add(self, o: Self) -> Self { self.wrapping_add(o) }
            fn sub(self, o: Self) -> Self { self.wrapping_sub(o) }
            fn mul(self, o: Self) -> Self { self.wrapping_mul(o) }
            fn div(self, o: Self) -> Self { if o == 0 { 0 } else { self.wrapping_div(o) } }
            fn neg(self) -> Self { self.wrapping_neg() }
            fn abs(self) -> Self { self.wrapping_abs() }
        }
    )*};
}
impl_int!(i32, i64);

/// The f32 function of float unary op `u` (`None` for `not`, which is bool only). Fused
/// kernels use the same functions, so they round exactly like these kernels.
pub fn unary_f32(u: UnaryOp) -> Option<fn(f32) -> f32> {
    Some(match u {
        UnaryOp::Neg => |x| -x,
        UnaryOp::Abs => f32::abs,
        UnaryOp::Exp => f32::exp,
        UnaryOp::Log => f32::ln,
        UnaryOp::Sqrt => f32::sqrt,
        UnaryOp::Rsqrt => |x| 1.0 / x.sqrt(),
        UnaryOp::Recip => |x| 1.0 / x,
        UnaryOp::Tanh => f32::tanh,
        UnaryOp::Erf => erf,
        UnaryOp::Sin => f32::sin,
        UnaryOp::Cos => f32::cos,
        UnaryOp::Floor => f32::floor,
        UnaryOp::Not => return None,
    })
}

/// The f32 function of float binary op `b` (`None` for `and`/`or`, which are bool only).
pub fn binary_f32(b: BinaryOp) -> Option<fn(f32, f32) -> f32> {
    Some(match b {
        BinaryOp::Add => |a, b| a + b,
        BinaryOp::Sub => |a, b| a - b,
        BinaryOp::Mul => |a, b| a * b,
        BinaryOp::Div => |a, b| a / b,
        BinaryOp::Max => max_nan,
        BinaryOp::Min => min_nan,
        BinaryOp::Pow => f32::powf,
        BinaryOp::And | BinaryOp::Or => return None,
    })
}

fn unary(u: UnaryOp, x: &Arg) -> Result<TensorData, String> {
    let dtype = x.ty.dtype;
    if dtype.is_float() {
        let f = unary_f32(u).ok_or_else(|| format!("operand {} must be bool", x.ty))?;
        return float_map(x, f);
    }
    fn int<T: Int>(u: UnaryOp, x: &Arg) -> Result<TensorData, String> {
        let v = typed::<T>(x.data, "operand")?;
        let f: fn(T) -> T = match u {
            UnaryOp::Neg => T::neg,
            UnaryOp::Abs => T::abs,
            _ => return Err(format!("operand {} must be a float type", x.ty)),
        };
        Ok(T::wrap(par_map(v, |&e| f(e))))
    }
    match dtype {
        DType::I32 => int::<i32>(u, x),
        DType::I64 => int::<i64>(u, x),
        _ if u == UnaryOp::Not => {
            let v = typed::<bool>(x.data, "operand")?;
            Ok(TensorData::Bool(par_map(v, |&b| !b)))
        }
        _ => Err(format!("operand {} must be numeric", x.ty)),
    }
}

fn binary(b: BinaryOp, x: &Arg, y: &Arg) -> Result<TensorData, String> {
    let dtype = x.ty.dtype;
    if dtype.is_float() {
        let f = binary_f32(b).ok_or_else(|| format!("operands {} must be bool", x.ty))?;
        return float_zip([&**x.data, &**y.data], dtype, |[p, q], o| {
            for ((o, &a), &b) in o.iter_mut().zip(p).zip(q) {
                *o = f(a, b);
            }
        });
    }
    fn int<T: Int>(b: BinaryOp, x: &Arg, y: &Arg) -> Result<TensorData, String> {
        let f: fn(T, T) -> T = match b {
            BinaryOp::Add => T::add,
            BinaryOp::Sub => T::sub,
            BinaryOp::Mul => T::mul,
            BinaryOp::Div => T::div,
            BinaryOp::Max => Ord::max,
            BinaryOp::Min => Ord::min,
            _ => return Err(format!("{b:?} is not defined on {}", x.ty)),
        };
        let (p, q) = (typed::<T>(x.data, "lhs")?, typed::<T>(y.data, "rhs")?);
        Ok(T::wrap(par_zip(p, q, |&a, &b| f(a, b))))
    }
    match (dtype, b) {
        (DType::I32, _) => int::<i32>(b, x, y),
        (DType::I64, _) => int::<i64>(b, x, y),
        (DType::Bool, BinaryOp::And | BinaryOp::Or) => {
            let (p, q) = (typed::<bool>(x.data, "lhs")?, typed::<bool>(y.data, "rhs")?);
            let and = b == BinaryOp::And;
            Ok(TensorData::Bool(par_zip(p, q, |&p, &q| {
                if and {
                    p && q
                } else {
                    p || q
                }
            })))
        }
        _ => Err(format!("{b:?} is not defined on {}", x.ty)),
    }
}

fn compare(c: CmpOp, x: &Arg, y: &Arg) -> Result<TensorData, String> {
    fn cmp<T: PartialOrd + Sync>(c: CmpOp, p: &[T], q: &[T]) -> Vec<bool> {
        let f: fn(&T, &T) -> bool = match c {
            CmpOp::Eq => |a, b| a == b,
            CmpOp::Ne => |a, b| a != b,
            CmpOp::Lt => |a, b| a < b,
            CmpOp::Le => |a, b| a <= b,
            CmpOp::Gt => |a, b| a > b,
            CmpOp::Ge => |a, b| a >= b,
        };
        par_zip(p, q, f)
    }
    let r = match x.ty.dtype {
        d if d.is_float() => cmp(c, &load_f32(x.data, "lhs")?, &load_f32(y.data, "rhs")?),
        DType::I32 => cmp(c, typed::<i32>(x.data, "lhs")?, typed(y.data, "rhs")?),
        DType::I64 => cmp(c, typed::<i64>(x.data, "lhs")?, typed(y.data, "rhs")?),
        _ => cmp(c, typed::<bool>(x.data, "lhs")?, typed(y.data, "rhs")?),
    };
    Ok(TensorData::Bool(r))
}

fn select(cond: &Arg, a: &Arg, b: &Arg) -> Result<TensorData, String> {
    fn pick<T: Elem>(c: &[bool], a: &Arg, b: &Arg) -> Result<TensorData, String> {
        let (p, q) = (
            typed::<T>(a.data, "true branch")?,
            typed::<T>(b.data, "false branch")?,
        );
        let r = (c, p, q)
            .into_par_iter()
            .with_min_len(GRAIN)
            .map(|(&c, &x, &y)| if c { x } else { y })
            .collect();
        Ok(T::wrap(r))
    }
    let c = typed::<bool>(cond.data, "condition")?;
    with_elem!(a.ty.dtype, T => pick::<T>(c, a, b))
}

/// `cast` between different dtypes: float ↔ float through f32 (widening is exact, so one
/// rounding), every other pair with the IR's reference conversion ([`HostTensor::cast`]).
fn cast(to: DType, x: &Arg) -> Result<TensorData, String> {
    if x.ty.dtype.is_float() && to.is_float() {
        return store_f32(to, load_f32(x.data, "operand")?.into_owned());
    }
    let host =
        HostTensor::new(x.ty.shape.clone(), (**x.data).clone()).map_err(|e| e.to_string())?;
    Ok(host.cast(to).into_data())
}
