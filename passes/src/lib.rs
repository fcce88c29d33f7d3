//! `hyv-passes`: the pass manager and graph-to-graph passes.
//!
//! A [`Pass`] takes a graph and returns a graph plus a [`PassReport`]. Every pass rebuilds
//! its output with a [`Rewriter`] (node by node, with an old → new id map). The
//! [`PassManager`] runs named stages of passes, verifies the graph after every pass and can
//! dump one numbered text file per stage.
//!
//! Passes: [`Dce`], [`Cse`], [`Fold`] (constant folding through a caller-supplied
//! [`ConstEvaluator`]), [`Simplify`] (algebraic identities), [`Decompose`] (composites the
//! backend does not claim → primitives), [`Canonicalize`] (simplify, fold, CSE and DCE to
//! a fixed point; built by [`canonicalize`]) and [`Fuse`] (fusion groups for backends that
//! run them as single kernels). Module [`fused`] holds the backend-neutral program of a
//! fusion group that such backends compile.

#![warn(missing_docs)]

mod canonicalize;
mod cse;
mod dce;
mod decompose;
mod error;
mod fold;
pub mod fused;
mod fusion;
mod manager;
mod pass;
mod remat;
mod rewriter;
mod simplify;

pub use canonicalize::{canonicalize, Canonicalize};
pub use cse::Cse;
pub use dce::Dce;
pub use decompose::Decompose;
pub use error::PassError;
pub use fold::{ConstEvaluator, Fold, DEFAULT_FOLD_LIMIT};
pub use fusion::Fuse;
pub use manager::{PassLog, PassManager};
pub use pass::{Pass, PassReport};
pub use rewriter::Rewriter;
pub use simplify::Simplify;
