//! Prompt-embedding files (`hyv text-encode` writes them, `hyv sample --text-embed-path` and
//! training read them): safetensors with the keys of mindone's `.npz` cache —
//! `prompt_embeds [L, D]` (f32, Llama hidden states after the template crop),
//! `prompt_mask [L]` (i64, 1 = token, 0 = padding; mindone stores uint8) and
//! `prompt_embeds_2 [D2]` (f32, CLIP pooled) — plus, for true CFG, the same three with a
//! `negative_` prefix. Readers also accept a leading batch dimension of 1.

use anyhow::{bail, Context, Result};
use hyv_ir::HostTensor;
use hyv_models::text_encoders::PromptEmbeds;
use hyv_runtime::{read_safetensors, write_safetensors};
use std::collections::BTreeMap;
use std::path::Path;

/// The tensor names of one prompt, without and with the `negative_` prefix.
const KEYS: [&str; 3] = ["prompt_embeds", "prompt_mask", "prompt_embeds_2"];

/// Row `row` of a batch of embeddings, as the unbatched tensors of the file format.
fn row_tensors(embeds: &PromptEmbeds, row: usize) -> Result<[HostTensor; 3]> {
    let unbatch = |t: &HostTensor| -> Result<HostTensor> {
        let one = t.slice_rows(row, row + 1)?;
        let dims = one.shape().dims()[1..].to_vec();
        Ok(one.reshape(dims)?)
    };
    Ok([
        unbatch(&embeds.prompt_embeds)?,
        unbatch(&embeds.prompt_mask)?,
        unbatch(&embeds.prompt_embeds_2)?,
    ])
}

/// Writes row `row` of `embeds` (and of `negative`, when given) to `path`, atomically.
pub fn write(
    path: &Path,
    embeds: &PromptEmbeds,
    row: usize,
    negative: Option<(&PromptEmbeds, usize)>,
) -> Result<()> {
    let mut named: Vec<(String, HostTensor)> = KEYS
        .iter()
        .map(|k| k.to_string())
        .zip(row_tensors(embeds, row)?)
        .collect();
    if let Some((neg, neg_row)) = negative {
        named.extend(
            KEYS.iter()
                .map(|k| format!("negative_{k}"))
                .zip(row_tensors(neg, neg_row)?),
        );
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    write_safetensors(path, named.iter().map(|(k, t)| (k.as_str(), t)))
        .with_context(|| format!("writing {}", path.display()))
}

/// Reads the prompt (and, with `negative`, the negative prompt) embeddings of `path` as
/// batches of one.
pub fn read(path: &Path, negative: bool) -> Result<(PromptEmbeds, Option<PromptEmbeds>)> {
    let mut tensors =
        read_safetensors(path).with_context(|| format!("reading {}", path.display()))?;
    let cond = take(&mut tensors, path, "")?;
    let neg = if negative {
        Some(take(&mut tensors, path, "negative_").context(
            "--cfg-scale > 1 needs negative_prompt_embeds, negative_prompt_mask and \
             negative_prompt_embeds_2 (`hyv text-encode --prompt ... --negative-prompt ...` \
             writes them)",
        )?)
    } else {
        None
    };
    Ok((cond, neg))
}

fn take(
    tensors: &mut BTreeMap<String, HostTensor>,
    path: &Path,
    prefix: &str,
) -> Result<PromptEmbeds> {
    let mut get = |key: &str, rank: usize| -> Result<HostTensor> {
        let name = format!("{prefix}{key}");
        let Some(t) = tensors.remove(&name) else {
            bail!("{}: no tensor `{name}`", path.display());
        };
        let dims = t.shape().dims().to_vec();
        if dims.len() == rank {
            let mut batched = vec![1];
            batched.extend(dims);
            Ok(t.reshape(batched)?)
        } else if dims.len() == rank + 1 && dims[0] == 1 {
            Ok(t)
        } else {
            bail!(
                "{}: `{name}` has shape {dims:?}; expected rank {rank} (or {} with a batch of 1)",
                path.display(),
                rank + 1
            )
        }
    };
    let embeds = PromptEmbeds {
        prompt_embeds: get(KEYS[0], 2)?.cast(hyv_ir::DType::F32),
        prompt_mask: get(KEYS[1], 1)?.cast(hyv_ir::DType::I64),
        prompt_embeds_2: get(KEYS[2], 1)?.cast(hyv_ir::DType::F32),
    };
    let (l, m) = (
        embeds.prompt_embeds.shape().dims()[1],
        embeds.prompt_mask.shape().dims()[1],
    );
    if l != m {
        bail!(
            "{}: `{prefix}prompt_embeds` has {l} tokens but `{prefix}prompt_mask` has {m}",
            path.display()
        );
    }
    Ok(embeds)
}
