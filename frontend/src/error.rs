//! Errors of the DSL.

use hyv_ir::IrError;
use thiserror::Error;

/// Result with the frontend's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// An error raised by model code: a misused op, a failed backend call, mismatched weights.
#[derive(Debug, Error)]
pub enum Error {
    /// An op was given operands it cannot take. The message names the op, the module path
    /// and the operand types, identically in eager and graph mode.
    #[error(transparent)]
    Ir(#[from] IrError),
    /// The backend, the compile pipeline or file I/O failed.
    #[error(transparent)]
    Runtime(#[from] hyv_runtime::Error),
    /// The weights do not match what the model declares (missing, unexpected, wrong type).
    #[error("{0}")]
    Weights(String),
    /// The DSL was used in a way the current mode or context does not allow.
    #[error("{0}")]
    Usage(String),
}

/// The error for `op` at module `path`, in the same form as the IR's own op errors.
pub(crate) fn op_error(op: &str, path: &str, message: impl Into<String>) -> Error {
    Error::Ir(IrError::Op {
        op: op.into(),
        path: path.into(),
        message: message.into(),
    })
}
