//! Elementwise ops: unary math, broadcasting binary arithmetic, comparisons, `where`,
//! casts, scalar arithmetic and activations.

use super::broadcast::broadcast_all;
use crate::{Result, Tensor};
use hyv_ir::{BinaryOp, CmpOp, DType, HostTensor, Op, TensorType, UnaryOp};

impl Tensor {
    fn unary(&self, u: UnaryOp) -> Result<Tensor> {
        self.ctx().apply(Op::Unary(u), &[self])
    }

    /// `e^x`.
    pub fn exp(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Exp)
    }
    /// Natural logarithm.
    pub fn log(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Log)
    }
    /// Square root.
    pub fn sqrt(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Sqrt)
    }
    /// `1 / sqrt(x)`.
    pub fn rsqrt(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Rsqrt)
    }
    /// Hyperbolic tangent.
    pub fn tanh(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Tanh)
    }
    /// Sine.
    pub fn sin(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Sin)
    }
    /// Cosine.
    pub fn cos(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Cos)
    }
    /// Gauss error function.
    pub fn erf(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Erf)
    }
    /// Absolute value.
    pub fn abs(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Abs)
    }
    /// Negation.
    pub fn neg(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Neg)
    }
    /// `1 / x`.
    pub fn recip(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Recip)
    }
    /// Round toward negative infinity.
    pub fn floor(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Floor)
    }
    /// Logical not (bool).
    pub fn not(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Not)
    }

    /// `1 / (1 + e^-x)`.
    pub fn sigmoid(&self) -> Result<Tensor> {
        self.neg()?.exp()?.add_scalar(1.0)?.recip()
    }
    /// `x * sigmoid(x)` (a single `silu` node).
    pub fn silu(&self) -> Result<Tensor> {
        self.ctx().apply(Op::Silu, &[self])
    }
    /// Exact (erf) GELU, like `torch.nn.functional.gelu`.
    pub fn gelu(&self) -> Result<Tensor> {
        self.ctx().apply(Op::Gelu { tanh: false }, &[self])
    }
    /// Tanh-approximated GELU (`approximate="tanh"`).
    pub fn gelu_tanh(&self) -> Result<Tensor> {
        self.ctx().apply(Op::Gelu { tanh: true }, &[self])
    }

    fn binary(&self, other: &Tensor, b: BinaryOp) -> Result<Tensor> {
        let op = Op::Binary(b);
        let v = broadcast_all(op.name(), &[self, other])?;
        self.ctx().apply(op, &[&v[0], &v[1]])
    }

    /// `self + other`, broadcasting.
    pub fn add(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(other, BinaryOp::Add)
    }
    /// `self - other`, broadcasting.
    pub fn sub(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(other, BinaryOp::Sub)
    }
    /// `self * other`, broadcasting.
    pub fn mul(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(other, BinaryOp::Mul)
    }
    /// `self / other`, broadcasting.
    pub fn div(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(other, BinaryOp::Div)
    }
    /// Elementwise maximum, broadcasting.
    pub fn maximum(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(other, BinaryOp::Max)
    }
    /// Elementwise minimum, broadcasting.
    pub fn minimum(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(other, BinaryOp::Min)
    }
    /// `self ^ other` (floats), broadcasting.
    pub fn pow(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(other, BinaryOp::Pow)
    }
    /// Logical and (bool), broadcasting.
    pub fn and(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(other, BinaryOp::And)
    }
    /// Logical or (bool), broadcasting.
    pub fn or(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(other, BinaryOp::Or)
    }

    fn compare(&self, other: &Tensor, c: CmpOp) -> Result<Tensor> {
        let op = Op::Compare(c);
        let v = broadcast_all(op.name(), &[self, other])?;
        self.ctx().apply(op, &[&v[0], &v[1]])
    }

    /// `self == other` (bool), broadcasting.
    pub fn eq(&self, other: &Tensor) -> Result<Tensor> {
        self.compare(other, CmpOp::Eq)
    }
    /// `self != other` (bool), broadcasting.
    pub fn ne(&self, other: &Tensor) -> Result<Tensor> {
        self.compare(other, CmpOp::Ne)
    }
    /// `self < other` (bool), broadcasting.
    pub fn lt(&self, other: &Tensor) -> Result<Tensor> {
        self.compare(other, CmpOp::Lt)
    }
    /// `self <= other` (bool), broadcasting.
    pub fn le(&self, other: &Tensor) -> Result<Tensor> {
        self.compare(other, CmpOp::Le)
    }
    /// `self > other` (bool), broadcasting.
    pub fn gt(&self, other: &Tensor) -> Result<Tensor> {
        self.compare(other, CmpOp::Gt)
    }
    /// `self >= other` (bool), broadcasting.
    pub fn ge(&self, other: &Tensor) -> Result<Tensor> {
        self.compare(other, CmpOp::Ge)
    }

    /// `self ? on_true : on_false` elementwise (`self` is bool), broadcasting all three,
    /// like `torch.where`.
    pub fn where_(&self, on_true: &Tensor, on_false: &Tensor) -> Result<Tensor> {
        let v = broadcast_all("select", &[self, on_true, on_false])?;
        self.ctx().apply(Op::Select, &[&v[0], &v[1], &v[2]])
    }

    /// Converts to `dtype` (no node when it already has it).
    pub fn to_dtype(&self, dtype: DType) -> Result<Tensor> {
        if dtype == self.dtype() {
            return Ok(self.clone());
        }
        self.ctx().apply(Op::Cast { to: dtype }, &[self])
    }

    /// Alias of [`Tensor::to_dtype`].
    pub fn cast(&self, dtype: DType) -> Result<Tensor> {
        self.to_dtype(dtype)
    }

    /// A constant `value` of this tensor's dtype, shaped `[1, 1, ...]` of the same rank, to
    /// combine with it by broadcasting.
    pub fn scalar_like(&self, value: f64) -> Result<Tensor> {
        let ty = TensorType::new(self.dtype(), vec![1; self.rank()]);
        self.ctx().constant(&HostTensor::full(&ty, value))
    }

    /// `self + value`.
    pub fn add_scalar(&self, value: f64) -> Result<Tensor> {
        self.add(&self.scalar_like(value)?)
    }
    /// `self - value`.
    pub fn sub_scalar(&self, value: f64) -> Result<Tensor> {
        self.sub(&self.scalar_like(value)?)
    }
    /// `self * value`.
    pub fn mul_scalar(&self, value: f64) -> Result<Tensor> {
        self.mul(&self.scalar_like(value)?)
    }
    /// `self / value`.
    pub fn div_scalar(&self, value: f64) -> Result<Tensor> {
        self.div(&self.scalar_like(value)?)
    }
}
