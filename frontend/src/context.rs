//! The context every tensor belongs to: the mode, the backend (eager) or the graph being
//! traced (graph), and the stack of module scopes that names every node.

use crate::error::op_error;
use crate::tensor::Value;
use crate::{Error, Mode, Result, Tensor};
use hyv_ir::{infer, Graph, HostTensor, IrError, Node, NodeId, Op, TensorType};
use hyv_runtime::{Backend, DeviceTensor};
use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;
use std::sync::Arc;

/// Where ops go: straight to a backend, or into a graph.
enum Engine {
    Eager(Arc<dyn Backend>),
    Graph(RefCell<Graph>),
}

struct Inner {
    engine: Engine,
    /// Absolute module paths entered with [`Ctx::enter`]; the last one names new nodes.
    scopes: RefCell<Vec<String>>,
}

/// The DSL context: eager (ops run on a backend as they are called) or graph (ops are
/// recorded into a [`Graph`]). Cheap to clone; clones share the same state. Tensors remember
/// their context, so model code only needs one to create inputs, constants and parameters.
#[derive(Clone)]
pub struct Ctx {
    inner: Rc<Inner>,
}

impl fmt::Debug for Ctx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ctx({}, path `{}`)", self.mode(), self.path())
    }
}

/// Leaves the module scope entered by [`Ctx::enter`] when dropped.
#[must_use = "the scope ends when this guard is dropped"]
pub struct ScopeGuard {
    ctx: Ctx,
}

impl Drop for ScopeGuard {
    fn drop(&mut self) {
        self.ctx.inner.scopes.borrow_mut().pop();
    }
}

impl Ctx {
    /// An eager context: every op runs on `backend` as it is called.
    pub fn eager(backend: Arc<dyn Backend>) -> Ctx {
        Self::with_engine(Engine::Eager(backend))
    }

    /// A graph context tracing into a new graph called `name`.
    pub fn graph(name: impl Into<String>) -> Ctx {
        Self::with_engine(Engine::Graph(RefCell::new(Graph::new(name))))
    }

    fn with_engine(engine: Engine) -> Ctx {
        Ctx {
            inner: Rc::new(Inner {
                engine,
                scopes: RefCell::new(Vec::new()),
            }),
        }
    }

    /// The mode of this context.
    pub fn mode(&self) -> Mode {
        match self.inner.engine {
            Engine::Eager(_) => Mode::Eager,
            Engine::Graph(_) => Mode::Graph,
        }
    }

    /// The module path new nodes are attributed to (empty at the top level).
    pub fn path(&self) -> String {
        self.inner
            .scopes
            .borrow()
            .last()
            .cloned()
            .unwrap_or_default()
    }

    /// Enters the module at absolute path `path` (e.g. `transformer_blocks.3.attn`) until
    /// the returned guard is dropped. Modules call this at the top of their forward:
    /// `let _scope = x.ctx().enter(&self.path);`.
    pub fn enter(&self, path: &str) -> ScopeGuard {
        self.inner.scopes.borrow_mut().push(path.to_string());
        ScopeGuard { ctx: self.clone() }
    }

    /// Whether `other` is this very context (not just one of the same mode).
    pub fn same(&self, other: &Ctx) -> bool {
        Rc::ptr_eq(&self.inner, &other.inner)
    }

    /// The backend of an eager context.
    pub fn backend(&self) -> Option<&Arc<dyn Backend>> {
        match &self.inner.engine {
            Engine::Eager(b) => Some(b),
            Engine::Graph(_) => None,
        }
    }

    /// A copy of the graph traced so far, with `outputs` as its ordered outputs (graph
    /// mode only).
    pub fn traced_graph(&self, outputs: &[Tensor]) -> Result<Graph> {
        let Engine::Graph(graph) = &self.inner.engine else {
            return Err(Error::Usage(
                "eager mode records no graph; trace in graph mode".into(),
            ));
        };
        let ids = outputs
            .iter()
            .map(|t| self.node_of(t, "output"))
            .collect::<Result<Vec<_>>>()?;
        let mut g = graph.borrow().clone();
        g.set_outputs(ids);
        Ok(g)
    }

    /// A graph input named `name` holding `value`: uploaded in eager mode, an `input` node
    /// of the value's type in graph mode (the value is fed when the graph runs).
    pub fn input(&self, name: &str, value: &HostTensor) -> Result<Tensor> {
        match &self.inner.engine {
            Engine::Eager(b) => Ok(self.wrap_device(b.upload(value)?)),
            Engine::Graph(_) => self.declare_input(name, value.ty().clone()),
        }
    }

    /// A graph input known only by its type (graph mode only: eager mode needs data).
    pub fn declare_input(&self, name: &str, ty: TensorType) -> Result<Tensor> {
        self.source_node(Op::Input { name: name.into() }, name, ty)
    }

    /// A named weight: uploaded from `value` in eager mode (which then requires it), a
    /// `parameter` node of type `ty` in graph mode.
    pub(crate) fn parameter(
        &self,
        name: &str,
        ty: TensorType,
        value: Option<&HostTensor>,
    ) -> Result<Tensor> {
        match &self.inner.engine {
            Engine::Eager(b) => {
                let value = value.ok_or_else(|| {
                    Error::Weights(format!(
                        "parameter `{name}` ({ty}) has no value: eager mode needs loaded or \
                         random weights, not shapes only"
                    ))
                })?;
                Ok(self.wrap_device(b.upload(value)?))
            }
            Engine::Graph(_) => self.source_node(Op::Parameter { name: name.into() }, name, ty),
        }
    }

    /// Appends an `input` or `parameter` node named `name`, which carries its own type.
    fn source_node(&self, op: Op, name: &str, ty: TensorType) -> Result<Tensor> {
        let kind = op.name();
        let Engine::Graph(graph) = &self.inner.engine else {
            return Err(Error::Usage(format!(
                "{kind} `{name}`: declaring a {kind} by its type alone needs graph mode"
            )));
        };
        let path = self.path();
        let mut g = graph.borrow_mut();
        if g.nodes().iter().any(|n| n.op == op) {
            return Err(op_error(kind, &path, format!("`{name}` is declared twice")));
        }
        let id = g.push(Node {
            op,
            inputs: Vec::new(),
            ty: ty.clone(),
            path,
        });
        drop(g);
        Ok(Tensor::new(self.clone(), ty, Value::Node(id)))
    }

    /// Applies `op` to `inputs`: infers the output type (the same error text in both
    /// modes), then executes it (eager) or records it (graph) at the current module path.
    pub fn apply(&self, op: Op, inputs: &[&Tensor]) -> Result<Tensor> {
        let path = self.path();
        for t in inputs {
            if !self.same(t.ctx()) {
                return Err(op_error(
                    op.name(),
                    &path,
                    format!("operand {} belongs to another context", t.ty()),
                ));
            }
        }
        match &self.inner.engine {
            Engine::Eager(backend) => {
                let tys: Vec<&TensorType> = inputs.iter().map(|t| t.ty()).collect();
                let ty = infer::infer(&op, &tys).map_err(|message| IrError::Op {
                    op: op.name().into(),
                    path: path.clone(),
                    message,
                })?;
                let devs = inputs
                    .iter()
                    .map(|t| t.device())
                    .collect::<Option<Vec<&DeviceTensor>>>()
                    .expect("tensors of an eager context hold device values");
                let out = backend.execute(&op, &ty, &devs, &path)?;
                Ok(Tensor::new(self.clone(), ty, Value::Device(out)))
            }
            Engine::Graph(graph) => {
                let ids = inputs
                    .iter()
                    .map(|t| t.node().expect("tensors of a graph context hold nodes"))
                    .collect::<Vec<NodeId>>();
                let mut g = graph.borrow_mut();
                let id = g.add(op, &ids, path)?;
                let ty = g.ty(id).clone();
                Ok(Tensor::new(self.clone(), ty, Value::Node(id)))
            }
        }
    }

    fn wrap_device(&self, value: DeviceTensor) -> Tensor {
        Tensor::new(self.clone(), value.ty().clone(), Value::Device(value))
    }

    fn node_of(&self, t: &Tensor, what: &str) -> Result<NodeId> {
        match t.node() {
            Some(id) if self.same(t.ctx()) => Ok(id),
            _ => Err(Error::Usage(format!(
                "{what} {} does not belong to this graph context",
                t.ty()
            ))),
        }
    }
}
