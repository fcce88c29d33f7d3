//! Small example models and their registry.

mod attention_block;
mod mlp;

pub use attention_block::{AttentionBlock, AttentionBlockConfig, AttentionExample};
pub use mlp::{Mlp, MlpConfig, MlpExample};

use hyv_frontend::{Error, HostTensor, Model, Result, TensorType};

/// Names accepted by [`example`].
pub const EXAMPLE_NAMES: [&str; 2] = ["mlp", "attention"];

/// Draws input values of the given names and types with a seed.
type SampleFn = fn(&[(String, TensorType)], u64) -> Vec<(String, HostTensor)>;

/// An example model with its default inputs.
pub struct Example {
    /// Registry name (`mlp`, `attention`).
    pub name: &'static str,
    /// One line saying what it is.
    pub description: &'static str,
    /// The model.
    pub model: Box<dyn Model>,
    /// Default inputs: name and type, in the order `forward` takes them.
    pub inputs: Vec<(String, TensorType)>,
    sample: SampleFn,
}

impl Example {
    /// Deterministic input values of the default types, drawn with `seed`.
    pub fn sample_inputs(&self, seed: u64) -> Vec<(String, HostTensor)> {
        (self.sample)(&self.inputs, seed)
    }
}

/// The example called `name` with its default configuration.
pub fn example(name: &str) -> Result<Example> {
    match name {
        "mlp" => Ok(mlp::example()),
        "attention" => Ok(attention_block::example()),
        _ => Err(Error::Usage(format!(
            "unknown example `{name}` (available: {})",
            EXAMPLE_NAMES.join(", ")
        ))),
    }
}
