//! Helpers shared by the frontend tests: run a closure as a model in both modes on the
//! reference backend.

#![allow(dead_code)]

use hyv_backend_reference::ReferenceBackend;
use hyv_frontend::{FnModel, HostTensor, Mode, Params, Result, RunOutput, Runner, Tensor, Weights};
use std::sync::Arc;

/// Runs `f` on `inputs` in `mode` on the reference backend with random weights (seed 7).
pub fn run<F>(mode: Mode, inputs: &[(&str, HostTensor)], f: F) -> Result<RunOutput>
where
    F: Fn(&Params, &[Tensor]) -> Result<Vec<Tensor>>,
{
    let inputs: Vec<(String, HostTensor)> = inputs
        .iter()
        .map(|(n, v)| (n.to_string(), v.clone()))
        .collect();
    Runner::new(mode, Arc::new(ReferenceBackend::new())).run(
        &FnModel::new("test", f),
        &Weights::Random { seed: 7 },
        &inputs,
    )
}

/// The outputs of `f` in both modes, checked to agree, as f64 vectors with their shapes.
pub fn both<F>(inputs: &[(&str, HostTensor)], f: F) -> Vec<(Vec<usize>, Vec<f64>)>
where
    F: Fn(&Params, &[Tensor]) -> Result<Vec<Tensor>>,
{
    let eager = run(Mode::Eager, inputs, &f).unwrap().outputs;
    let graph = run(Mode::Graph, inputs, &f).unwrap().outputs;
    assert_eq!(eager, graph, "eager and graph mode disagree");
    eager
        .iter()
        .map(|t| (t.shape().dims().to_vec(), t.to_f64_vec()))
        .collect()
}

/// An f32 host tensor.
pub fn f32s(shape: &[usize], values: &[f32]) -> HostTensor {
    HostTensor::from_f32(shape.to_vec(), values.to_vec()).unwrap()
}
