//! Hierarchical parameter names (`transformer_blocks.0.attn.to_q.weight`) and their
//! resolution to tensors.

use crate::weights::random_value;
use crate::{Ctx, Error, Init, Mode, Result, Tensor, WeightSource, Weights};
use hyv_ir::{DType, HostTensor, TensorType};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt::Display;
use std::rc::Rc;

/// One declared parameter.
struct Declared {
    ty: TensorType,
    init: Init,
    tensor: Tensor,
}

struct Shared {
    ctx: Ctx,
    weights: Weights,
    declared: RefCell<BTreeMap<String, Declared>>,
}

/// A position in the parameter tree. `p.sub("transformer_blocks").sub(0).sub("attn")`
/// names `transformer_blocks.0.attn`, and `get("weight", ..)` under it declares
/// `transformer_blocks.0.attn.weight`. Clones and sub-trees share one record of every
/// declared parameter and the weights; the default dtype is per handle.
#[derive(Clone)]
pub struct Params {
    prefix: String,
    /// Default dtype of parameters declared through this handle (see [`Params::in_dtype`]).
    dtype: DType,
    shared: Rc<Shared>,
}

impl Params {
    /// The root of a parameter tree in `ctx`, resolving against `weights`, with f32
    /// parameters.
    pub fn new(ctx: &Ctx, weights: Weights) -> Params {
        Self::with_dtype(ctx, weights, DType::F32)
    }

    /// The root of a parameter tree whose parameters have `dtype` by default.
    pub fn with_dtype(ctx: &Ctx, weights: Weights, dtype: DType) -> Params {
        Params {
            prefix: String::new(),
            dtype,
            shared: Rc::new(Shared {
                ctx: ctx.clone(),
                weights,
                declared: RefCell::new(BTreeMap::new()),
            }),
        }
    }

    /// The sub-tree `name` (a field name, or a list index).
    pub fn sub(&self, name: impl Display) -> Params {
        Params {
            prefix: self.name_of(&name.to_string()),
            dtype: self.dtype,
            shared: self.shared.clone(),
        }
    }

    /// The same sub-tree (sharing every declared parameter and the weights) whose
    /// parameters have `dtype` by default, and so do its sub-trees. A model run in bf16
    /// calls `params.in_dtype(DType::BF16)` once at its root, whatever the caller chose.
    pub fn in_dtype(&self, dtype: DType) -> Params {
        Params {
            prefix: self.prefix.clone(),
            dtype,
            shared: self.shared.clone(),
        }
    }

    /// The path of this sub-tree (empty at the root); modules use it as their scope.
    pub fn path(&self) -> &str {
        &self.prefix
    }

    /// The full name of `leaf` under this sub-tree.
    pub fn name_of(&self, leaf: &str) -> String {
        if self.prefix.is_empty() {
            leaf.to_string()
        } else {
            format!("{}.{leaf}", self.prefix)
        }
    }

    /// The context parameters are created in.
    pub fn ctx(&self) -> &Ctx {
        &self.shared.ctx
    }

    /// The default parameter dtype.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// Declares parameter `leaf` of `shape` (default dtype) and returns it; `init` is used
    /// under random weights. Loaded weights must hold it with exactly this type.
    /// Declaring the same name twice returns the same tensor if the types agree.
    pub fn get(&self, leaf: &str, shape: &[usize], init: Init) -> Result<Tensor> {
        self.get_typed(leaf, TensorType::new(self.dtype(), shape.to_vec()), init)
    }

    /// Like [`Params::get`] with an explicit type.
    pub fn get_typed(&self, leaf: &str, ty: TensorType, init: Init) -> Result<Tensor> {
        let name = self.name_of(leaf);
        if let Some(d) = self.shared.declared.borrow().get(&name) {
            if d.ty != ty {
                return Err(Error::Weights(format!(
                    "parameter `{name}` declared as {} and again as {ty}",
                    d.ty
                )));
            }
            return Ok(d.tensor.clone());
        }
        let ctx = self.ctx();
        // Graph mode resolves values only when binding (see `values`), so that a trace
        // can report every mismatch of loaded weights at once (`check_weights`).
        let value = match ctx.mode() {
            Mode::Graph => None,
            Mode::Eager => Some(self.value_of(&name, &ty, init)?),
        };
        let tensor = {
            let _scope = ctx.enter(&self.prefix);
            ctx.parameter(&name, ty.clone(), value.as_ref())?
        };
        self.shared.declared.borrow_mut().insert(
            name,
            Declared {
                ty,
                init,
                tensor: tensor.clone(),
            },
        );
        Ok(tensor)
    }

    /// Every parameter declared so far in this tree, by full name, with its type.
    pub fn declared(&self) -> Vec<(String, TensorType)> {
        self.shared
            .declared
            .borrow()
            .iter()
            .map(|(n, d)| (n.clone(), d.ty.clone()))
            .collect()
    }

    /// The host values of every declared parameter (to bind to a compiled graph): loaded
    /// or randomly initialised; an error under [`Weights::ShapesOnly`].
    pub fn values(&self) -> Result<BTreeMap<String, HostTensor>> {
        self.shared
            .declared
            .borrow()
            .iter()
            .map(|(n, d)| Ok((n.clone(), self.value_of(n, &d.ty, d.init)?)))
            .collect()
    }

    fn value_of(&self, name: &str, ty: &TensorType, init: Init) -> Result<HostTensor> {
        match &self.shared.weights {
            Weights::Loaded(src) => {
                self.check_loaded(name, ty, &**src)?;
                src.load(name)
            }
            Weights::Random { seed } => Ok(random_value(*seed, name, ty, init)),
            Weights::ShapesOnly => Err(Error::Weights(format!(
                "parameter `{name}` ({ty}) has no value: the model was built with shapes only"
            ))),
        }
    }

    fn check_loaded(&self, name: &str, ty: &TensorType, src: &dyn WeightSource) -> Result<()> {
        match src.tensor_type(name)? {
            Some(got) if &got == ty => Ok(()),
            Some(got) => Err(Error::Weights(format!(
                "parameter `{name}`: expected {ty}, got {got}"
            ))),
            None => Err(Error::Weights(format!(
                "parameter `{name}` (expected {ty}) is missing from the weights"
            ))),
        }
    }
}
