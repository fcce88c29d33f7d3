//! Official Tencent VAE checkpoints → the diffusers layout. The two use the same tensor
//! names (diffusers' conversion script has an empty rename table and loads strictly,
//! reference/hunyuanvideo_spec.md §2.10); the official file may however prefix every key
//! with `vae.` (stripped by the official `load_vae`) or a DeepSpeed `module.`.

use hyv_frontend::{Error, HostTensor, Result};
use std::collections::BTreeMap;

/// The top-level modules of `AutoencoderKLHunyuanVideo`.
const VAE_MODULES: [&str; 4] = ["encoder.", "decoder.", "quant_conv.", "post_quant_conv."];

/// Converts an official VAE state dict to diffusers names: strips the `module.` and `vae.`
/// prefixes and checks that every tensor belongs to the VAE (unknown names are listed in
/// the error, e.g. a transformer checkpoint given by mistake).
pub fn convert_vae(official: BTreeMap<String, HostTensor>) -> Result<BTreeMap<String, HostTensor>> {
    let mut out = BTreeMap::new();
    let mut unknown = Vec::new();
    for (key, tensor) in official {
        let name = key.strip_prefix("module.").unwrap_or(&key);
        let name = name.strip_prefix("vae.").unwrap_or(name);
        if VAE_MODULES.iter().any(|m| name.starts_with(m)) {
            out.insert(name.to_string(), tensor);
        } else {
            unknown.push(key);
        }
    }
    if !unknown.is_empty() {
        let shown: Vec<_> = unknown.iter().take(8).map(String::as_str).collect();
        return Err(Error::Weights(format!(
            "{} tensors are not VAE tensors (expected names under {}): {}{}",
            unknown.len(),
            VAE_MODULES.join(", "),
            shown.join(", "),
            if unknown.len() > shown.len() {
                ", ..."
            } else {
                ""
            }
        )));
    }
    Ok(out)
}
