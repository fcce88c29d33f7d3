//! `hyv-models`: model definitions written in the hyv DSL.
