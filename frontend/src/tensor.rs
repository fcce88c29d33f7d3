//! Tensor handles: a device value in eager mode, a graph node in graph mode.

use crate::error::op_error;
use crate::{Ctx, Error, Result};
use hyv_ir::{DType, HostTensor, NodeId, TensorType};
use hyv_runtime::DeviceTensor;
use std::fmt;

/// What a tensor handle refers to.
#[derive(Clone)]
pub(crate) enum Value {
    /// A computed value (eager mode).
    Device(DeviceTensor),
    /// A node of the traced graph (graph mode).
    Node(NodeId),
}

/// A tensor of the DSL. Cheap to clone. Its type is always known; its value is a device
/// tensor in eager mode and a graph node in graph mode. Ops are methods (and operators on
/// references: `&a + &b`, `&a * 2.0`, `-&a`) returning `Result<Tensor>`.
#[derive(Clone)]
pub struct Tensor {
    ctx: Ctx,
    ty: TensorType,
    value: Value,
}

impl fmt::Debug for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Value::Device(_) => write!(f, "Tensor({}, eager)", self.ty),
            Value::Node(id) => write!(f, "Tensor({}, node {id})", self.ty),
        }
    }
}

impl Tensor {
    pub(crate) fn new(ctx: Ctx, ty: TensorType, value: Value) -> Tensor {
        Tensor { ctx, ty, value }
    }

    /// The context this tensor belongs to.
    pub fn ctx(&self) -> &Ctx {
        &self.ctx
    }

    /// The tensor's type (dtype + shape).
    pub fn ty(&self) -> &TensorType {
        &self.ty
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        self.ty.dtype
    }

    /// The extents, outermost first.
    pub fn dims(&self) -> &[usize] {
        self.ty.shape.dims()
    }

    /// Number of dimensions.
    pub fn rank(&self) -> usize {
        self.ty.shape.rank()
    }

    /// Number of elements.
    pub fn numel(&self) -> usize {
        self.ty.shape.numel()
    }

    /// The graph node (graph mode).
    pub fn node(&self) -> Option<NodeId> {
        match self.value {
            Value::Node(id) => Some(id),
            Value::Device(_) => None,
        }
    }

    /// The computed value (eager mode).
    pub fn device(&self) -> Option<&DeviceTensor> {
        match &self.value {
            Value::Device(d) => Some(d),
            Value::Node(_) => None,
        }
    }

    /// Copies the value to the host (eager mode; in graph mode values exist only once the
    /// compiled graph runs).
    pub fn to_host(&self) -> Result<HostTensor> {
        match (&self.value, self.ctx.backend()) {
            (Value::Device(d), Some(b)) => Ok(b.download(d)?),
            _ => Err(Error::Usage(format!(
                "tensor {} is symbolic in graph mode; run the compiled graph to get values",
                self.ty
            ))),
        }
    }

    /// The value as f32 elements, row-major (eager mode).
    pub fn to_vec_f32(&self) -> Result<Vec<f32>> {
        Ok(self.to_host()?.to_f32_vec())
    }

    /// Normalises a possibly negative `axis` of this tensor (`-1` is the last), for op `op`.
    pub(crate) fn axis(&self, axis: isize, op: &str) -> Result<usize> {
        normalize_axis(axis, self.rank(), op, self)
    }

    /// An error for op `op` on this tensor at the current module path.
    pub(crate) fn error(&self, op: &str, message: impl Into<String>) -> Error {
        op_error(op, &self.ctx.path(), message)
    }
}

/// Normalises `axis` into `0..rank` (negative counts from the end), naming `op` and `x`
/// in the error.
pub(crate) fn normalize_axis(axis: isize, rank: usize, op: &str, x: &Tensor) -> Result<usize> {
    let r = rank as isize;
    let a = if axis < 0 { axis + r } else { axis };
    if a < 0 || a >= r {
        return Err(x.error(
            op,
            format!("axis {axis} is out of range for operand {}", x.ty()),
        ));
    }
    Ok(a as usize)
}
