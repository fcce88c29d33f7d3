//! An example MLP block: `x + fc2(gelu_tanh(fc1(norm(x))))`, the pre-norm residual
//! feed-forward of a transformer.

use super::Example;
use hyv_frontend::nn::{LayerNorm, Linear};
use hyv_frontend::{randn_host, DType, Model, Module, Params, Result, Tensor, TensorType};

/// Sizes of [`Mlp`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MlpConfig {
    /// Model width (input and output features).
    pub dim: usize,
    /// Hidden features.
    pub hidden: usize,
}

/// A pre-norm residual MLP with parameters `norm.{weight,bias}`, `fc1.{weight,bias}` and
/// `fc2.{weight,bias}`.
pub struct Mlp {
    path: String,
    norm: LayerNorm,
    fc1: Linear,
    fc2: Linear,
}

impl Mlp {
    /// Declares the parameters under `p`.
    pub fn new(p: &Params, cfg: MlpConfig) -> Result<Self> {
        Ok(Mlp {
            path: p.path().to_string(),
            norm: LayerNorm::new(&p.sub("norm"), cfg.dim, 1e-6, true)?,
            fc1: Linear::new(&p.sub("fc1"), cfg.dim, cfg.hidden, true)?,
            fc2: Linear::new(&p.sub("fc2"), cfg.hidden, cfg.dim, true)?,
        })
    }
}

impl Module for Mlp {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let _scope = x.ctx().enter(&self.path);
        let h = self.fc1.forward(&self.norm.forward(x)?)?.gelu_tanh()?;
        x + &self.fc2.forward(&h)?
    }
}

/// [`Mlp`] as a runnable model named `mlp`, parameters at the root, input `x [..., dim]`.
pub struct MlpExample(pub MlpConfig);

impl Model for MlpExample {
    fn name(&self) -> &str {
        "mlp"
    }

    fn forward(&self, params: &Params, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        let mlp = Mlp::new(params, self.0)?;
        inputs.iter().map(|x| mlp.forward(x)).collect()
    }
}

/// The registry entry: width 16, hidden 64, input `x f32[2,8,16]`.
pub(super) fn example() -> Example {
    let cfg = MlpConfig {
        dim: 16,
        hidden: 64,
    };
    Example {
        name: "mlp",
        description: "pre-norm residual MLP: layer norm, fc1, gelu(tanh), fc2",
        model: Box::new(MlpExample(cfg)),
        inputs: vec![("x".into(), TensorType::new(DType::F32, [2, 8, cfg.dim]))],
        sample: |inputs, seed| {
            inputs
                .iter()
                .enumerate()
                .map(|(i, (n, ty))| (n.clone(), randn_host(ty, seed + i as u64, 1.0)))
                .collect()
        },
    }
}
