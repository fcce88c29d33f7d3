//! Opening a text encoder's checkpoint: a transformers model folder (`model.safetensors`,
//! or shards listed by `model.safetensors.index.json`), seen through the names the model
//! declares.

use hyv_frontend::{
    CastWeights, DType, Error, HostTensor, Result, SelectedWeights, TensorType, WeightSource,
    WeightStore, Weights,
};
use std::path::Path;
use std::rc::Rc;

/// A weight source whose tensor names starting with `from` are presented with `to` in its
/// place (`model.embed_tokens.weight` → `embed_tokens.weight` of a checkpoint saved from
/// `LlamaForCausalLM`; `embeddings.…` → `text_model.embeddings.…` of a `CLIPTextModel` saved
/// by transformers 5). Names not starting with `from` are hidden.
pub struct Reprefixed<S> {
    inner: S,
    from: String,
    to: String,
}

impl<S: WeightSource> Reprefixed<S> {
    /// `inner` with the name prefix `from` replaced by `to`.
    pub fn new(inner: S, from: &str, to: &str) -> Self {
        Reprefixed {
            inner,
            from: from.to_string(),
            to: to.to_string(),
        }
    }

    /// The checkpoint name of model name `name`, if it has the `to` prefix.
    fn inner_name(&self, name: &str) -> Option<String> {
        name.strip_prefix(&self.to)
            .map(|rest| format!("{}{rest}", self.from))
    }
}

impl<S: WeightSource> WeightSource for Reprefixed<S> {
    fn names(&self) -> Vec<String> {
        self.inner
            .names()
            .into_iter()
            .filter_map(|n| {
                n.strip_prefix(&self.from)
                    .map(|r| format!("{}{r}", self.to))
            })
            .collect()
    }

    fn tensor_type(&self, name: &str) -> Result<Option<TensorType>> {
        match self.inner_name(name) {
            Some(n) => self.inner.tensor_type(&n),
            None => Ok(None),
        }
    }

    fn load(&self, name: &str) -> Result<HostTensor> {
        match self.inner_name(name) {
            Some(n) => self.inner.load(&n),
            None => Err(Error::Weights(format!(
                "tensor `{name}` does not start with `{}`",
                self.to
            ))),
        }
    }
}

/// Opens the checkpoint in `dir` (see [`WeightStore::open`]) for a model that declares
/// parameters under `prefixes` only: other tensors (the layers a skipped-layer encoder never
/// runs, `lm_head.weight`, `text_projection.weight`) are ignored, while under the prefixes
/// loading is strict. Float tensors are presented as `dtype`.
///
/// When no checkpoint name falls under `prefixes`, the first of `renames` — `(from, to)`:
/// checkpoint prefix `from` read as `to` — under which some name does is applied.
pub fn open_weights(
    dir: &Path,
    prefixes: &[String],
    renames: &[(&str, &str)],
    dtype: DType,
) -> Result<Weights> {
    let store = WeightStore::open(dir)?;
    let prefixes: Vec<&str> = prefixes.iter().map(String::as_str).collect();
    let names = WeightSource::names(&store);
    let fits = |from: &str, to: &str| {
        names.iter().any(|n| {
            n.strip_prefix(from).is_some_and(|rest| {
                let renamed = format!("{to}{rest}");
                prefixes.iter().any(|p| renamed.starts_with(p))
            })
        })
    };
    let rename = if fits("", "") {
        None
    } else {
        renames.iter().find(|(from, to)| fits(from, to))
    };
    let source: Rc<dyn WeightSource> = match rename {
        Some((from, to)) => Rc::new(CastWeights::new(
            SelectedWeights::new(Reprefixed::new(store, from, to), &prefixes),
            dtype,
        )),
        None => Rc::new(CastWeights::new(
            SelectedWeights::new(store, &prefixes),
            dtype,
        )),
    };
    Ok(Weights::Loaded(source))
}
