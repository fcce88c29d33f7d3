//! True classifier-free guidance (reference/hunyuanvideo_spec.md §4.2).

use hyv_frontend::HostTensor;

/// `uncond + scale·(cond − uncond)`, the true-CFG combination of both codebases, computed in
/// f32 (diffusers does it in the model dtype); the result is f32. Errors when the shapes
/// differ or a tensor is not float.
pub fn cfg_combine(
    cond: &HostTensor,
    uncond: &HostTensor,
    scale: f32,
) -> Result<HostTensor, String> {
    if cond.shape() != uncond.shape() || !cond.dtype().is_float() || !uncond.dtype().is_float() {
        return Err(format!(
            "cfg_combine: the conditional ({}) and unconditional ({}) velocities must be float tensors of one shape",
            cond.ty(),
            uncond.ty()
        ));
    }
    let c = cond.to_f32_vec();
    let values = uncond
        .to_f32_vec()
        .into_iter()
        .zip(c)
        .map(|(u, c)| u + scale * (c - u))
        .collect();
    HostTensor::from_f32(cond.shape().clone(), values).map_err(|e| e.to_string())
}
