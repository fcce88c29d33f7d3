//! `hyv-frontend`: the model DSL.
//!
//! Model code is written once against [`Tensor`], [`Params`] and the building blocks in
//! [`nn`], and runs in either [`Mode`]:
//!
//! * **eager** — a [`Ctx::eager`] context executes every op on a backend as it is called;
//! * **graph** — a [`Ctx::graph`] context records every op into a [`Graph`], which
//!   [`Runner`] compiles through the runtime's pass pipeline and runs.
//!
//! Output types are inferred by the IR in both modes, so a misused op gives the same error
//! either way, naming the op, the module path and the operand types, e.g.
//! ``matmul at `mlp.fc1`: lhs f32[2,3] and rhs f32[4,5]: contraction extents differ (3 vs 4)``.
//! Binary ops broadcast like numpy (the frontend inserts `reshape` + `broadcast`); axes may
//! be negative.
//!
//! ```text
//! struct Mlp;
//! impl Model for Mlp {
//!     fn name(&self) -> &str { "mlp" }
//!     fn forward(&self, p: &Params, x: &[Tensor]) -> Result<Vec<Tensor>> {
//!         let fc1 = Linear::new(&p.sub("fc1"), 16, 64, true)?;
//!         let fc2 = Linear::new(&p.sub("fc2"), 64, 16, true)?;
//!         Ok(vec![(&x[0] + &fc2.forward(&fc1.forward(&x[0])?.gelu_tanh()?)?)?])
//!     }
//! }
//! let runner = Runner::new(Mode::Graph, backend);
//! let out = runner.run(&Mlp, &Weights::Random { seed: 0 }, &[("x".into(), x)])?;
//! ```

mod cast_weights;
mod context;
mod error;
mod mode;
mod module;
pub mod nn;
mod operators;
mod ops;
mod params;
mod runner;
mod session;
mod tensor;
mod weight_prefix;
mod weights;

pub use cast_weights::CastWeights;
pub use context::{Ctx, ScopeGuard};
pub use error::{Error, Result};
pub use mode::Mode;
pub use module::Module;
pub use ops::{concat, randn_host, AttentionOptions, ConvOptions, ReshapeDims};
pub use params::Params;
pub use runner::{trace, FnModel, Model, RunOutput, Runner, Traced};
pub use session::Session;
pub use tensor::Tensor;
pub use weight_prefix::SelectedWeights;
pub use weights::{check_weights, Init, WeightSource, Weights};

/// IR and runtime types model code and callers need, re-exported so that models depend on
/// the frontend only.
pub use hyv_ir::{DType, Graph, HostTensor, IrError, PadMode, Shape, TensorData, TensorType};
pub use hyv_runtime::{write_safetensors, Backend, PipelineOptions, WeightStore};
