//! `Conv`: N-d convolution with optional bias, like `torch.nn.Conv1d/2d/3d`.

use crate::{ConvOptions, Init, Module, Params, Result, Tensor};

/// An N-d convolution with weight `[out, in/groups, k...]` and optional bias `[out]`.
pub struct Conv {
    path: String,
    weight: Tensor,
    bias: Option<Tensor>,
    options: ConvOptions,
}

impl Conv {
    /// Declares `<p>.weight` `[out_channels, in_channels/groups, kernel...]` and, when
    /// `bias`, `<p>.bias` `[out_channels]`. The spatial rank is `kernel.len()` and must equal
    /// the length of every field of `options`.
    pub fn new(
        p: &Params,
        in_channels: usize,
        out_channels: usize,
        kernel: &[usize],
        options: ConvOptions,
        bias: bool,
    ) -> Result<Self> {
        let groups = options.groups.max(1);
        let mut shape = vec![out_channels, in_channels / groups];
        shape.extend_from_slice(kernel);
        let fan_in = (in_channels / groups) * kernel.iter().product::<usize>();
        let init = Init::Normal {
            std: 1.0 / (fan_in.max(1) as f64).sqrt(),
        };
        Ok(Conv {
            path: p.path().to_string(),
            weight: p.get("weight", &shape, init)?,
            bias: if bias {
                Some(p.get("bias", &[out_channels], init)?)
            } else {
                None
            },
            options,
        })
    }
}

impl Module for Conv {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let _scope = x.ctx().enter(&self.path);
        let y = x.conv(&self.weight, &self.options)?;
        match &self.bias {
            None => Ok(y),
            Some(b) => {
                // [O] → [1, O, 1, ...] so it broadcasts over batch and space.
                let mut dims = vec![1; y.rank()];
                dims[1] = b.numel();
                y.add(&b.reshape(dims)?)
            }
        }
    }
}
