//! Tensors made from nothing: constants, fills, ranges and seeded normal samples.

use crate::{Ctx, Result, Tensor};
use hyv_ir::{random, DType, HostTensor, Op, Shape, TensorType};

impl Ctx {
    /// A constant tensor (stored in the graph in graph mode).
    pub fn constant(&self, value: &HostTensor) -> Result<Tensor> {
        self.apply(
            Op::Constant {
                value: value.clone(),
            },
            &[],
        )
    }

    /// A tensor of `shape` and `dtype` filled with `value`.
    pub fn full(&self, shape: &[usize], dtype: DType, value: f64) -> Result<Tensor> {
        let one = self.constant(&HostTensor::full(
            &TensorType::new(dtype, vec![1; shape.len()]),
            value,
        ))?;
        one.broadcast_to(shape)
    }

    /// `[0, 1, ..., n-1]` as `dtype`, like `torch.arange(n)`.
    pub fn arange(&self, n: usize, dtype: DType) -> Result<Tensor> {
        self.iota(&[n], 0, dtype)
    }

    /// A tensor of `shape` whose elements are their index along `axis`.
    pub fn iota(&self, shape: &[usize], axis: usize, dtype: DType) -> Result<Tensor> {
        self.apply(
            Op::Iota {
                shape: Shape::new(shape.to_vec()),
                axis,
                dtype,
            },
            &[],
        )
    }

    /// Standard-normal samples from the counter-based generator with `seed`, identical on
    /// every backend and in both modes (element `i` is sample `i` of the stream).
    pub fn randn(&self, shape: &[usize], dtype: DType, seed: u64) -> Result<Tensor> {
        self.apply(
            Op::RandomNormal {
                shape: Shape::new(shape.to_vec()),
                dtype,
                seed,
                offset: 0,
            },
            &[],
        )
    }
}

/// Host tensor of `ty` filled with the same samples as [`Ctx::randn`] with `seed`, times
/// `std` (for example inputs and random weights).
pub fn randn_host(ty: &TensorType, seed: u64, std: f64) -> HostTensor {
    let values = (0..ty.shape.numel() as u64)
        .map(|i| random::normal_sample(seed, i) * std)
        .collect();
    HostTensor::from_f64(ty, values).expect("one value per element of `ty`")
}
