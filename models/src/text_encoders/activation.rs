//! The activations of transformers' `ACT2FN` that Llama and CLIP configs name.

use hyv_frontend::{Result, Tensor};

/// A `hidden_act` of a transformers config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// `silu` / `swish`: `x · sigmoid(x)` (real Llama).
    Silu,
    /// `gelu`: the exact erf GELU (`nn.functional.gelu`).
    Gelu,
    /// `gelu_new` / `gelu_pytorch_tanh`: the tanh approximation.
    GeluTanh,
    /// `quick_gelu`: `x · sigmoid(1.702 x)` (real CLIP).
    QuickGelu,
}

/// The `hidden_act` names [`Activation::parse`] accepts.
pub const ACTIVATION_NAMES: &[&str] = &[
    "silu",
    "swish",
    "gelu",
    "gelu_new",
    "gelu_pytorch_tanh",
    "quick_gelu",
];

impl Activation {
    /// The activation transformers' `ACT2FN[name]` is; an error lists the supported names.
    pub fn parse(name: &str) -> std::result::Result<Self, String> {
        match name {
            "silu" | "swish" => Ok(Activation::Silu),
            "gelu" => Ok(Activation::Gelu),
            "gelu_new" | "gelu_pytorch_tanh" => Ok(Activation::GeluTanh),
            "quick_gelu" => Ok(Activation::QuickGelu),
            _ => Err(format!(
                "unsupported activation {name:?} (supported: {})",
                ACTIVATION_NAMES.join(", ")
            )),
        }
    }

    /// Applies the activation to `x`.
    pub fn apply(self, x: &Tensor) -> Result<Tensor> {
        match self {
            Activation::Silu => x.silu(),
            Activation::Gelu => x.gelu(),
            Activation::GeluTanh => x.gelu_tanh(),
            Activation::QuickGelu => x.mul(&x.mul_scalar(1.702)?.sigmoid()?),
        }
    }
}
