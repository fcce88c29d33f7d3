//! `hyv-passes`: the pass manager and graph-to-graph passes.
