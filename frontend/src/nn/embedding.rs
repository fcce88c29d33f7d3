//! `Embedding`: a lookup table, like `torch.nn.Embedding`.

use crate::{Init, Module, Params, Result, Tensor};

/// A table of `num` vectors of size `dim`; forward maps integer ids `[...]` to `[..., dim]`.
pub struct Embedding {
    path: String,
    weight: Tensor,
}

impl Embedding {
    /// Declares `<p>.weight` `[num, dim]` (random init: standard normal).
    pub fn new(p: &Params, num: usize, dim: usize) -> Result<Self> {
        Ok(Embedding {
            path: p.path().to_string(),
            weight: p.get("weight", &[num, dim], Init::Normal { std: 1.0 })?,
        })
    }
}

impl Module for Embedding {
    fn forward(&self, ids: &Tensor) -> Result<Tensor> {
        let _scope = ids.ctx().enter(&self.path);
        self.weight.gather(0, ids)
    }
}
