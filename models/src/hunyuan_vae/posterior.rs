//! `DiagonalGaussian`: the encoder's posterior on the host, like diffusers'
//! `DiagonalGaussianDistribution` (reference/hunyuanvideo_spec.md §2.7).

use hyv_frontend::{randn_host, DType, Error, HostTensor, Result, TensorType};

/// The diagonal Gaussian of a `moments` tensor `[B, 2·L, ...]`: the first `L` channels are
/// the mean, the rest the log-variance. All three tensors are f32 `[B, L, ...]`.
#[derive(Debug, Clone, PartialEq)]
pub struct DiagonalGaussian {
    /// The mean.
    pub mean: HostTensor,
    /// The log-variance, clamped to [−30, 20].
    pub logvar: HostTensor,
    /// `exp(0.5 · logvar)`.
    pub std: HostTensor,
}

impl DiagonalGaussian {
    /// Splits float `moments` `[B, 2·L, ...]` along the channels (computed in f32).
    pub fn from_moments(moments: &HostTensor) -> Result<DiagonalGaussian> {
        let dims = moments.shape().dims();
        let ok = dims.len() >= 2 && dims[1].is_multiple_of(2) && moments.dtype().is_float();
        if !ok {
            return Err(Error::Usage(format!(
                "posterior: moments must be a float [B, 2·L, ...] tensor, got {}",
                moments.ty()
            )));
        }
        let values = moments.to_f32_vec();
        // Each batch row holds `2·half` values: the mean half, then the log-variance half.
        let half = dims[1] / 2 * dims[2..].iter().product::<usize>();
        let rows = || values.chunks(2 * half.max(1));
        let mean: Vec<f32> = rows().flat_map(|r| &r[..half]).copied().collect();
        let logvar: Vec<f32> = rows()
            .flat_map(|r| &r[half..])
            .map(|v| v.clamp(-30.0, 20.0))
            .collect();
        let std = logvar.iter().map(|v| (0.5 * v).exp()).collect();
        let mut shape = dims.to_vec();
        shape[1] /= 2;
        let tensor =
            |v: Vec<f32>| -> Result<HostTensor> { Ok(HostTensor::from_f32(shape.clone(), v)?) };
        Ok(DiagonalGaussian {
            mean: tensor(mean)?,
            logvar: tensor(logvar)?,
            std: tensor(std)?,
        })
    }

    /// The most likely latent: the mean (diffusers' `mode()`).
    pub fn mode(&self) -> HostTensor {
        self.mean.clone()
    }

    /// `mean + std · ε` with standard-normal ε from hyv's counter-based generator with
    /// `seed` ([`randn_host`]): the same values on every backend and machine (not the
    /// values of a torch generator).
    pub fn sample(&self, seed: u64) -> HostTensor {
        let ty = TensorType::new(DType::F32, self.mean.shape().clone());
        let eps = randn_host(&ty, seed, 1.0).to_f32_vec();
        let (mean, std) = (self.mean.to_f32_vec(), self.std.to_f32_vec());
        let values = mean
            .iter()
            .zip(&std)
            .zip(&eps)
            .map(|((m, s), e)| m + s * e)
            .collect();
        HostTensor::from_f32(ty.shape, values).expect("one value per element of the mean")
    }
}
