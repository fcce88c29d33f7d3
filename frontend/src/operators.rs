//! Operator overloading on tensor references: `&a + &b`, `&a - 2.0`, `&a * &b`, `&a / 2.0`,
//! `-&a`. Each yields `Result<Tensor>` (binary ops broadcast), so chains read
//! `(&(&a + &b)? * 0.5)?`.

use crate::{Result, Tensor};
use std::ops::{Add, Div, Mul, Neg, Sub};

macro_rules! binary_operator {
    ($trait:ident, $method:ident, $tensor_fn:ident, $scalar_fn:ident) => {
        impl $trait<&Tensor> for &Tensor {
            type Output = Result<Tensor>;
            fn $method(self, rhs: &Tensor) -> Result<Tensor> {
                self.$tensor_fn(rhs)
            }
        }
        impl $trait<f64> for &Tensor {
            type Output = Result<Tensor>;
            fn $method(self, rhs: f64) -> Result<Tensor> {
                self.$scalar_fn(rhs)
            }
        }
    };
}

binary_operator!(Add, add, add, add_scalar);
binary_operator!(Sub, sub, sub, sub_scalar);
binary_operator!(Mul, mul, mul, mul_scalar);
binary_operator!(Div, div, div, div_scalar);

impl Neg for &Tensor {
    type Output = Result<Tensor>;
    fn neg(self) -> Result<Tensor> {
        Tensor::neg(self)
    }
}
