//! The flow-matching Euler scheduler of HunyuanVideo (reference/hunyuanvideo_spec.md §4.1).

use hyv_frontend::HostTensor;

/// FlowMatch Euler (diffusers `FlowMatchEulerDiscreteScheduler` with `shift`, as
/// `HunyuanVideoPipeline` sets it up / official `FlowMatchDiscreteScheduler` with
/// `--flow-reverse`).
///
/// Base sigmas `σ_i = 1 − i/N` (i = 0..=N), shifted by the SD3 time shift
/// `σ'_i = s·σ_i / (1 + (s − 1)·σ_i)`; the terminal `σ'_N = 0`. The model is fed
/// `t_i = 1000·σ'_i` and the Euler update is `x ← x + (σ'_{i+1} − σ'_i)·v`.
///
/// Without `flow_reverse` the sequence is the official scheduler's `1 − σ'` (rising from 0
/// to 1, timesteps `1000·(1 − σ'_i)`), which the official code builds when `--flow-reverse`
/// is not passed; it is kept for parity with that code, not because it samples well.
///
/// The sigmas are computed in f64; diffusers computes them in f32, which agrees to about
/// 1e-7 relative (tests/fixtures/scheduler).
#[derive(Debug, Clone, PartialEq)]
pub struct FlowMatchEulerScheduler {
    sigmas: Vec<f64>,
    shift: f64,
    flow_reverse: bool,
}

impl FlowMatchEulerScheduler {
    /// A schedule of `num_steps` Euler steps with time `shift` (7.0 is the HunyuanVideo
    /// default); errors for 0 steps and for a shift that is not a positive finite number.
    pub fn new(num_steps: usize, shift: f64, flow_reverse: bool) -> Result<Self, String> {
        if num_steps == 0 {
            return Err("the scheduler needs at least 1 step, got 0".into());
        }
        if !(shift.is_finite() && shift > 0.0) {
            return Err(format!(
                "the flow shift must be a positive number, got {shift}"
            ));
        }
        let n = num_steps as f64;
        let sigmas = (0..=num_steps)
            .map(|i| {
                let s = 1.0 - i as f64 / n;
                let shifted = shift * s / (1.0 + (shift - 1.0) * s);
                if flow_reverse {
                    shifted
                } else {
                    1.0 - shifted
                }
            })
            .collect();
        Ok(FlowMatchEulerScheduler {
            sigmas,
            shift,
            flow_reverse,
        })
    }

    /// The `N + 1` sigmas, the terminal one included: from 1 down to 0 with `flow_reverse`,
    /// the reversed sequence `1 − σ'` (0 up to 1) without it, as the official code.
    pub fn sigmas(&self) -> &[f64] {
        &self.sigmas
    }

    /// The `N` model timesteps `1000·σ_i`, i = 0..N, as fed to the transformer.
    pub fn timesteps(&self) -> Vec<f32> {
        self.sigmas[..self.num_steps()]
            .iter()
            .map(|s| (1000.0 * s) as f32)
            .collect()
    }

    /// The number of Euler steps `N`.
    pub fn num_steps(&self) -> usize {
        self.sigmas.len() - 1
    }

    /// The time shift `s`.
    pub fn shift(&self) -> f64 {
        self.shift
    }

    /// Whether the sigmas run from 1 to 0 (the official `--flow-reverse`, diffusers).
    pub fn flow_reverse(&self) -> bool {
        self.flow_reverse
    }

    /// Euler step `i`: `sample + (σ_{i+1} − σ_i)·velocity`, computed in f32 as both reference
    /// schedulers do (`dt` is the difference of the f32-rounded sigmas); the result is f32
    /// whatever the inputs' float dtypes (the official pipeline keeps f32 latents; diffusers
    /// would cast back to the model dtype). Errors for `i >= N` and mismatched shapes.
    pub fn step(
        &self,
        i: usize,
        sample: &HostTensor,
        velocity: &HostTensor,
    ) -> Result<HostTensor, String> {
        if i >= self.num_steps() {
            return Err(format!(
                "step index {i} is out of range for a {}-step schedule",
                self.num_steps()
            ));
        }
        if sample.shape() != velocity.shape() {
            return Err(format!(
                "scheduler step: the sample is {} but the velocity is {}",
                sample.ty(),
                velocity.ty()
            ));
        }
        if !sample.dtype().is_float() || !velocity.dtype().is_float() {
            return Err(format!(
                "scheduler step: float tensors expected, got sample {} and velocity {}",
                sample.ty(),
                velocity.ty()
            ));
        }
        let dt = self.sigmas[i + 1] as f32 - self.sigmas[i] as f32;
        let v = velocity.to_f32_vec();
        let x: Vec<f32> = sample
            .to_f32_vec()
            .into_iter()
            .zip(v)
            .map(|(x, v)| x + dt * v)
            .collect();
        HostTensor::from_f32(sample.shape().clone(), x).map_err(|e| e.to_string())
    }
}
