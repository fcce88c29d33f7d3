//! Errors of the runtime and the backends.

use hyv_ir::IrError;
use thiserror::Error;

/// Result with the runtime's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// An error from compiling or running a graph, or from reading or writing tensors.
#[derive(Debug, Error)]
pub enum Error {
    /// The IR was rejected (bad shapes, invalid graph, parse error).
    #[error(transparent)]
    Ir(#[from] IrError),
    /// A pass failed or produced an invalid graph; names the stage and pass.
    #[error(transparent)]
    Pass(#[from] hyv_passes::PassError),
    /// A backend could not run an op or a graph; names the backend and the op/node.
    #[error("{backend} backend: {message}")]
    Backend {
        /// Backend name.
        backend: String,
        /// What failed, naming the op and module path where known.
        message: String,
    },
    /// A graph was run with wrong inputs or parameters (missing, extra, wrong type).
    #[error("{0}")]
    Binding(String),
    /// A file could not be read or written; names the file.
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: String,
        /// What is wrong with it.
        message: String,
    },
}
