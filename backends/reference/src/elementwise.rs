//! Elementwise ops: unary, binary, compare, select and cast.

use crate::math;
use crate::values::{load_bool, load_f32, load_i64, pick, store_bool, store_f64, store_i64};
use hyv_ir::{BinaryOp, CmpOp, HostTensor, Op, TensorData, TensorType, UnaryOp};

/// Evaluates `unary`, `binary`, `compare`, `select` or `cast`.
pub fn eval(op: &Op, out: &TensorType, inputs: &[&HostTensor]) -> Result<HostTensor, String> {
    match (op, inputs) {
        (Op::Unary(u), [x]) => unary(*u, out, x),
        (Op::Binary(b), [a, c]) => binary(*b, out, a, c),
        (Op::Compare(c), [a, b]) => compare(*c, out, a, b),
        (Op::Select, [cond, a, b]) => select(out, cond, a, b),
        (Op::Cast { to }, [x]) => Ok(x.cast(*to)),
        _ => Err(format!(
            "not an elementwise op with {} operands",
            inputs.len()
        )),
    }
}

fn unary(u: UnaryOp, out: &TensorType, x: &HostTensor) -> Result<HostTensor, String> {
    if x.dtype().is_float() {
        let f: fn(f64) -> f64 = match u {
            UnaryOp::Neg => |x| -x,
            UnaryOp::Abs => f64::abs,
            UnaryOp::Exp => f64::exp,
            UnaryOp::Log => f64::ln,
            UnaryOp::Sqrt => f64::sqrt,
            UnaryOp::Rsqrt => |x| 1.0 / x.sqrt(),
            UnaryOp::Recip => |x| 1.0 / x,
            UnaryOp::Tanh => f64::tanh,
            UnaryOp::Erf => math::erf,
            UnaryOp::Sin => f64::sin,
            UnaryOp::Cos => f64::cos,
            UnaryOp::Floor => f64::floor,
            UnaryOp::Not => return Err(format!("operand {} must be bool", x.ty())),
        };
        let v = load_f32(x, "operand")?;
        return store_f64(out, v.into_iter().map(|e| f(e as f64)).collect());
    }
    if x.dtype().is_int() {
        let f: fn(i64) -> i64 = match u {
            UnaryOp::Neg => i64::wrapping_neg,
            UnaryOp::Abs => i64::wrapping_abs,
            _ => return Err(format!("operand {} must be a float type", x.ty())),
        };
        let v = load_i64(x, "operand")?;
        return store_i64(out, v.into_iter().map(f).collect());
    }
    match u {
        UnaryOp::Not => store_bool(out, load_bool(x, "operand")?.iter().map(|b| !b).collect()),
        _ => Err(format!("operand {} must be numeric", x.ty())),
    }
}

fn float_binary(b: BinaryOp, x: f64, y: f64) -> f64 {
    match b {
        BinaryOp::Add => x + y,
        BinaryOp::Sub => x - y,
        BinaryOp::Mul => x * y,
        BinaryOp::Div => x / y,
        BinaryOp::Max | BinaryOp::Min if x.is_nan() || y.is_nan() => f64::NAN,
        BinaryOp::Max => x.max(y),
        BinaryOp::Min => x.min(y),
        BinaryOp::Pow => x.powf(y),
        BinaryOp::And | BinaryOp::Or => f64::NAN,
    }
}

fn int_binary(b: BinaryOp, x: i64, y: i64) -> i64 {
    match b {
        BinaryOp::Add => x.wrapping_add(y),
        BinaryOp::Sub => x.wrapping_sub(y),
        BinaryOp::Mul => x.wrapping_mul(y),
        BinaryOp::Div if y == 0 => 0,
        BinaryOp::Div => x.wrapping_div(y),
        BinaryOp::Max => x.max(y),
        BinaryOp::Min => x.min(y),
        BinaryOp::Pow | BinaryOp::And | BinaryOp::Or => 0,
    }
}

fn binary(
    b: BinaryOp,
    out: &TensorType,
    x: &HostTensor,
    y: &HostTensor,
) -> Result<HostTensor, String> {
    if x.ty() != y.ty() {
        return Err(format!("operand types differ: {} and {}", x.ty(), y.ty()));
    }
    let d = x.dtype();
    match b {
        BinaryOp::And | BinaryOp::Or => {
            let (p, q) = (load_bool(x, "lhs")?, load_bool(y, "rhs")?);
            let and = b == BinaryOp::And;
            store_bool(
                out,
                p.iter()
                    .zip(q)
                    .map(|(&p, &q)| if and { p && q } else { p || q })
                    .collect(),
            )
        }
        _ if d.is_float() => {
            let (p, q) = (load_f32(x, "lhs")?, load_f32(y, "rhs")?);
            store_f64(
                out,
                p.iter()
                    .zip(&q)
                    .map(|(&p, &q)| float_binary(b, p as f64, q as f64))
                    .collect(),
            )
        }
        BinaryOp::Pow => Err(format!("operands {} must be a float type", x.ty())),
        _ => {
            let (p, q) = (load_i64(x, "lhs")?, load_i64(y, "rhs")?);
            store_i64(
                out,
                p.iter()
                    .zip(&q)
                    .map(|(&p, &q)| int_binary(b, p, q))
                    .collect(),
            )
        }
    }
}

fn compare(
    c: CmpOp,
    out: &TensorType,
    x: &HostTensor,
    y: &HostTensor,
) -> Result<HostTensor, String> {
    fn cmp<T: PartialOrd>(c: CmpOp, p: &[T], q: &[T]) -> Vec<bool> {
        p.iter()
            .zip(q)
            .map(|(p, q)| match c {
                CmpOp::Eq => p == q,
                CmpOp::Ne => p != q,
                CmpOp::Lt => p < q,
                CmpOp::Le => p <= q,
                CmpOp::Gt => p > q,
                CmpOp::Ge => p >= q,
            })
            .collect()
    }
    if x.ty() != y.ty() {
        return Err(format!("operand types differ: {} and {}", x.ty(), y.ty()));
    }
    let r = match (x.data(), y.data()) {
        (TensorData::Bool(p), TensorData::Bool(q)) => cmp(c, p, q),
        _ if x.dtype().is_int() => cmp(c, &load_i64(x, "lhs")?, &load_i64(y, "rhs")?),
        _ => cmp(c, &load_f32(x, "lhs")?, &load_f32(y, "rhs")?),
    };
    store_bool(out, r)
}

fn select(
    out: &TensorType,
    cond: &HostTensor,
    a: &HostTensor,
    b: &HostTensor,
) -> Result<HostTensor, String> {
    let c = load_bool(cond, "condition")?;
    if a.ty() != b.ty() || cond.shape() != a.shape() {
        return Err(format!(
            "condition {}, true branch {} and false branch {} must have one shape and equal branch types",
            cond.ty(),
            a.ty(),
            b.ty()
        ));
    }
    let picks: Vec<_> = c
        .iter()
        .enumerate()
        .map(|(i, &t)| (if t { 0 } else { 1 }, i))
        .collect();
    pick(out, &[a.data(), b.data()], &picks)
}
