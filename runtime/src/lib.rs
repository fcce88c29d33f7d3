//! `hyv-runtime`: what every backend implements ([`Backend`], [`Executable`]), device
//! tensors, and the compile pipeline that turns a traced graph into an executable.

mod backend;
pub mod binding;
mod eager;
mod error;
mod pipeline;

pub use backend::{Backend, CompileOptions, DeviceTensor, Executable, ParamMap};
pub use eager::run_op_by_op;
pub use error::{Error, Result};
pub use pipeline::{compile, Compiled, PipelineOptions};
