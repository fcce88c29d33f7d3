//! `hyv-runtime`: what every backend implements ([`Backend`], [`Executable`]), device
//! tensors, and the compile pipeline that turns a traced graph into an executable.

mod backend;
pub mod binding;
mod eager;
mod error;
mod pipeline;
pub mod safetensors_io;
mod steps;

pub use backend::{Backend, CompileOptions, DeviceTensor, Executable, ParamMap};
pub use eager::{op_by_op_launches, run_op_by_op};
pub use error::{Error, Result};
pub use hyv_passes::PassLog;
pub use pipeline::{compile, BackendEvaluator, Compiled, PipelineOptions};
pub use safetensors_io::{read_safetensors, write_safetensors, SafetensorsFile, WeightStore};
pub use steps::{run_steps, run_steps_releasing};
