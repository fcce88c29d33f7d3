//! A model bound to its weights on one runner, for running it many times: VAE tiles,
//! sampling steps, batch jobs.
//!
//! [`Runner::run`] is one-shot: in graph mode it traces, compiles and uploads the weights on
//! every call. A [`Session`] keeps, per input signature (names, dtypes and shapes), the
//! compiled executable, and uploads the weights once for all signatures — the compile cache
//! of DESIGN.md "Runtime". Eager mode checks the weights once and then runs op by op.

use crate::runner::input_types;
use crate::{trace, Model, Result, Runner, Weights};
use hyv_ir::{HostTensor, TensorType};
use hyv_runtime::{Compiled, ParamMap};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

/// An input signature: the names and types a model was traced for.
type Signature = Vec<(String, TensorType)>;

/// A model, its weights and a runner, with graph mode's compiled executables cached by
/// input signature and the weights uploaded once.
///
/// ```text
/// let session = Session::new(runner, Rc::new(decoder), weights);
/// for tile in tiles { let out = session.run(&[("latent".into(), tile)])?; }
/// ```
pub struct Session {
    runner: Runner,
    model: Rc<dyn Model>,
    weights: Weights,
    compiled: RefCell<HashMap<Signature, Rc<Compiled>>>,
    params: RefCell<Option<Rc<ParamMap>>>,
    weights_checked: Cell<bool>,
}

impl Session {
    /// A session running `model` with `weights` on `runner`'s backend, in its mode.
    pub fn new(runner: Runner, model: Rc<dyn Model>, weights: Weights) -> Session {
        Session {
            runner,
            model,
            weights,
            compiled: RefCell::new(HashMap::new()),
            params: RefCell::new(None),
            weights_checked: Cell::new(false),
        }
    }

    /// The runner this session runs on.
    pub fn runner(&self) -> &Runner {
        &self.runner
    }

    /// How many distinct input signatures have been compiled so far (graph mode).
    pub fn compilations(&self) -> usize {
        self.compiled.borrow().len()
    }

    /// Runs the model on the named `inputs` and returns its outputs on the host. The first
    /// call with a new signature compiles (graph mode); later calls reuse the executable.
    pub fn run(&self, inputs: &[(String, HostTensor)]) -> Result<Vec<HostTensor>> {
        let signature = input_types(inputs);
        match self.runner.mode() {
            crate::Mode::Eager => {
                if !self.weights_checked.get() {
                    if let Weights::Loaded(_) = self.weights {
                        trace(&*self.model, &self.weights, &signature)?;
                    }
                    self.weights_checked.set(true);
                }
                self.runner
                    .eager_outputs(&*self.model, &self.weights, inputs)
            }
            crate::Mode::Graph => {
                let compiled = self.compiled_for(signature)?;
                let params = self.params.borrow().clone().expect("set by compiled_for");
                self.runner.execute(&compiled, &params, inputs)
            }
        }
    }

    /// The executable for `signature`, compiling it (and uploading the weights the first
    /// time) when it is not cached yet.
    fn compiled_for(&self, signature: Signature) -> Result<Rc<Compiled>> {
        if let Some(c) = self.compiled.borrow().get(&signature) {
            return Ok(c.clone());
        }
        let (traced, compiled) =
            self.runner
                .trace_and_compile(&*self.model, &self.weights, &signature)?;
        if self.params.borrow().is_none() {
            *self.params.borrow_mut() = Some(Rc::new(self.runner.upload_params(&traced)?));
        }
        let compiled = Rc::new(compiled);
        self.compiled
            .borrow_mut()
            .insert(signature, compiled.clone());
        Ok(compiled)
    }
}
