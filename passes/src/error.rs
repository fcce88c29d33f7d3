//! Errors of the pass manager.

use hyv_ir::IrError;
use std::path::PathBuf;
use thiserror::Error;

/// An error raised while running a pass pipeline. Names the stage and pass at fault.
#[derive(Debug, Error)]
pub enum PassError {
    /// The graph handed to the pipeline does not verify.
    #[error("the input graph is invalid: {0}")]
    Input(#[source] IrError),
    /// A pass returned an error.
    #[error("pass `{pass}` (stage `{stage}`) failed: {source}")]
    Failed {
        /// Stage name.
        stage: String,
        /// Pass name.
        pass: &'static str,
        /// The pass's error.
        #[source]
        source: IrError,
    },
    /// A pass produced a graph that does not verify or changed the calling convention.
    #[error("pass `{pass}` (stage `{stage}`) produced an invalid graph: {source}")]
    Invalid {
        /// Stage name.
        stage: String,
        /// Pass name.
        pass: &'static str,
        /// What is wrong with its output.
        #[source]
        source: IrError,
    },
    /// A dump file could not be written.
    #[error("cannot write graph dump {path}: {source}")]
    Dump {
        /// The file being written.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}
