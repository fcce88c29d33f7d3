//! `hyv-runtime`: what every backend implements ([`Backend`], [`Executable`]), device
//! tensors, and the compile pipeline that turns a traced graph into an executable.

mod backend;
mod error;

pub use backend::{Backend, CompileOptions, DeviceTensor, Executable, ParamMap};
pub use error::{Error, Result};
