//! Errors of the IR crate.

use thiserror::Error;

/// An error raised while building, checking or reading IR.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum IrError {
    /// An op was given operands it cannot take (wrong shapes, dtypes, arity or attributes).
    /// Names the op, the module path that created it and the operand types.
    #[error("{op} at `{path}`: {message}")]
    Op {
        /// Op mnemonic.
        op: String,
        /// Module path of the node (empty at the top level).
        path: String,
        /// What is wrong, with the expected and actual values.
        message: String,
    },
    /// The graph breaks an invariant (found by the verifier).
    #[error("invalid graph `{graph}`: node %{node}: {message}")]
    Verify {
        /// Graph name.
        graph: String,
        /// Offending node index.
        node: usize,
        /// What is wrong.
        message: String,
    },
    /// A text dump could not be parsed.
    #[error("line {line}: {message}")]
    Parse {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// Tensor data does not match its declared type.
    #[error("{0}")]
    Data(String),
}
