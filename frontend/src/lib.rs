//! `hyv-frontend`: the model DSL.
