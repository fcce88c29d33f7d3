//! Running a whole model on named inputs, in either mode, on any backend; and tracing it
//! into a graph (with or without weights).

use crate::{check_weights, Ctx, Error, Mode, Params, Result, Tensor, Weights};
use hyv_ir::{Graph, HostTensor, TensorType};
use hyv_runtime::{compile, Backend, Compiled, ParamMap, PassLog, PipelineOptions};
use std::sync::Arc;

/// A complete model the runner can execute: it builds its modules from `params` and maps
/// its inputs to its outputs. The same code runs in eager and graph mode.
pub trait Model {
    /// The model's name (the traced graph's name).
    fn name(&self) -> &str;

    /// Builds the modules under `params` and runs them on `inputs` (in the order the caller
    /// gave them), returning the outputs in order.
    fn forward(&self, params: &Params, inputs: &[Tensor]) -> Result<Vec<Tensor>>;
}

/// A [`Model`] made from a name and a closure, for tests and one-off programs.
pub struct FnModel<F> {
    name: String,
    forward: F,
}

impl<F> FnModel<F>
where
    F: Fn(&Params, &[Tensor]) -> Result<Vec<Tensor>>,
{
    /// A model called `name` whose forward is `forward`.
    pub fn new(name: impl Into<String>, forward: F) -> Self {
        FnModel {
            name: name.into(),
            forward,
        }
    }
}

impl<F> Model for FnModel<F>
where
    F: Fn(&Params, &[Tensor]) -> Result<Vec<Tensor>>,
{
    fn name(&self) -> &str {
        &self.name
    }

    fn forward(&self, params: &Params, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        (self.forward)(params, inputs)
    }
}

/// A traced model: its graph (outputs set) and its parameter tree.
pub struct Traced {
    /// The graph as traced, before any pass.
    pub graph: Graph,
    /// The parameters the model declared; [`Params::values`] gives their values unless
    /// traced with [`Weights::ShapesOnly`].
    pub params: Params,
}

/// Traces `model` in graph mode on inputs of the given names and types. With
/// [`Weights::Loaded`], the loaded tensors are checked strictly against the declared
/// parameters and every missing, unexpected or wrongly typed tensor is reported together.
pub fn trace(
    model: &dyn Model,
    weights: &Weights,
    inputs: &[(String, TensorType)],
) -> Result<Traced> {
    let ctx = Ctx::graph(model.name());
    let params = Params::new(&ctx, weights.clone());
    let xs = inputs
        .iter()
        .map(|(name, ty)| ctx.declare_input(name, ty.clone()))
        .collect::<Result<Vec<_>>>()?;
    let outputs = model.forward(&params, &xs)?;
    let graph = ctx.traced_graph(&outputs)?;
    if let Weights::Loaded(source) = weights {
        check_weights(&params.declared(), &**source)?;
    }
    Ok(Traced { graph, params })
}

/// The result of [`Runner::run`].
pub struct RunOutput {
    /// The model's outputs, in order, on the host.
    pub outputs: Vec<HostTensor>,
    /// Graph mode: the traced graph (before passes), for dumps.
    pub traced: Option<Graph>,
    /// Graph mode: the graph the backend compiled (after passes).
    pub compiled: Option<Graph>,
    /// Graph mode: what every pass did.
    pub pass_log: Option<PassLog>,
}

/// Runs models in one mode on one backend.
///
/// ```text
/// let runner = Runner::new(Mode::Graph, Arc::new(ReferenceBackend::new()));
/// let out = runner.run(&model, &Weights::Random { seed: 0 }, &[("x".into(), x)])?;
/// ```
pub struct Runner {
    mode: Mode,
    backend: Arc<dyn Backend>,
    pipeline: PipelineOptions,
}

impl Runner {
    /// A runner in `mode` on `backend` with default pipeline options.
    pub fn new(mode: Mode, backend: Arc<dyn Backend>) -> Runner {
        Runner {
            mode,
            backend,
            pipeline: PipelineOptions::default(),
        }
    }

    /// The same runner compiling graphs with `options` (dumps, threads, ...).
    pub fn with_pipeline(mut self, options: PipelineOptions) -> Runner {
        self.pipeline = options;
        self
    }

    /// The runner's mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Runs `model` on the named `inputs` with `weights` and returns its outputs. Eager mode
    /// executes op by op; graph mode traces, compiles through the pass pipeline and runs
    /// the executable with the uploaded weights.
    pub fn run(
        &self,
        model: &dyn Model,
        weights: &Weights,
        inputs: &[(String, HostTensor)],
    ) -> Result<RunOutput> {
        match self.mode {
            Mode::Eager => self.run_eager(model, weights, inputs),
            Mode::Graph => self.run_graph(model, weights, inputs),
        }
    }

    fn run_eager(
        &self,
        model: &dyn Model,
        weights: &Weights,
        inputs: &[(String, HostTensor)],
    ) -> Result<RunOutput> {
        if let Weights::Loaded(_) = weights {
            // A shapes-only trace reports every weight mismatch at once, before any compute.
            trace(model, weights, &input_types(inputs))?;
        }
        Ok(RunOutput {
            outputs: self.eager_outputs(model, weights, inputs)?,
            traced: None,
            compiled: None,
            pass_log: None,
        })
    }

    /// Eager mode without the up-front weight check: runs `model` op by op.
    pub(crate) fn eager_outputs(
        &self,
        model: &dyn Model,
        weights: &Weights,
        inputs: &[(String, HostTensor)],
    ) -> Result<Vec<HostTensor>> {
        let ctx = Ctx::eager(self.backend.clone());
        let params = Params::new(&ctx, weights.clone());
        let xs = inputs
            .iter()
            .map(|(name, value)| ctx.input(name, value))
            .collect::<Result<Vec<_>>>()?;
        model
            .forward(&params, &xs)?
            .iter()
            .map(Tensor::to_host)
            .collect()
    }

    fn run_graph(
        &self,
        model: &dyn Model,
        weights: &Weights,
        inputs: &[(String, HostTensor)],
    ) -> Result<RunOutput> {
        let (traced, compiled) = self.trace_and_compile(model, weights, &input_types(inputs))?;
        let params = self.upload_params(&traced)?;
        let outputs = self.execute(&compiled, &params, inputs)?;
        Ok(RunOutput {
            outputs,
            traced: Some(traced.graph),
            compiled: Some(compiled.graph),
            pass_log: Some(compiled.log),
        })
    }

    /// Graph mode, first half: traces `model` on inputs of the given types and compiles it.
    pub(crate) fn trace_and_compile(
        &self,
        model: &dyn Model,
        weights: &Weights,
        types: &[(String, TensorType)],
    ) -> Result<(Traced, Compiled)> {
        let traced = trace(model, weights, types)?;
        let compiled = compile(&traced.graph, &self.backend, &self.pipeline)?;
        Ok((traced, compiled))
    }

    /// Uploads the values of every parameter `traced` declared.
    pub(crate) fn upload_params(&self, traced: &Traced) -> Result<ParamMap> {
        let mut params = ParamMap::new();
        for (name, value) in traced.params.values()? {
            params.insert(name, self.backend.upload(&value)?);
        }
        Ok(params)
    }

    /// Graph mode, second half: runs a compiled executable on `inputs` and downloads its
    /// outputs. Inputs are fed by name in the compiled graph's order (passes may drop
    /// unused ones).
    pub(crate) fn execute(
        &self,
        compiled: &Compiled,
        params: &ParamMap,
        inputs: &[(String, HostTensor)],
    ) -> Result<Vec<HostTensor>> {
        let feeds = compiled
            .graph
            .input_names()
            .into_iter()
            .map(|name| {
                let (_, value) = inputs.iter().find(|(n, _)| n == name).ok_or_else(|| {
                    Error::Usage(format!("compiled graph wants input `{name}`, not given"))
                })?;
                Ok(self.backend.upload(value)?)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(compiled
            .executable
            .run(&feeds, params)?
            .iter()
            .map(|t| self.backend.download(t))
            .collect::<hyv_runtime::Result<Vec<_>>>()?)
    }
}

/// The names and types of `inputs`, the signature a model is traced for.
pub(crate) fn input_types(inputs: &[(String, HostTensor)]) -> Vec<(String, TensorType)> {
    inputs
        .iter()
        .map(|(n, v)| (n.clone(), v.ty().clone()))
        .collect()
}
