//! Official Tencent DiT names (`double_blocks.3.img_attn_qkv.weight`, ...) → diffusers names
//! (`transformer_blocks.3.attn.to_q.weight`, ...), following the diffusers conversion script:
//! fused q/k/v (and the single blocks' q/k/v/mlp) weights are split by rows, and the final
//! layer's modulation halves are swapped (official shift-first, diffusers scale-first).

use hyv_frontend::{Error, HostTensor, IrError, Result};
use std::collections::BTreeMap;

/// How one official tensor becomes diffusers tensors.
enum Rule {
    /// Same tensor, new name.
    Rename(String),
    /// Rows split into equal parts, one per name (fused q/k/v).
    SplitEqual(Vec<String>),
    /// Single-block `linear1`: rows `[q | k | v | mlp]`; q, k and v have `hidden` rows each.
    SplitQkvMlp(String),
    /// Rows' two halves swapped (final layer modulation).
    SwapHalves(String),
}

/// Converts an official DiT state dict to diffusers names. Every tensor must be known
/// (unknown names are listed in the error); a `module.` prefix from DeepSpeed wrappers is
/// stripped. `hidden` (the model width) comes from the single blocks' `linear2`.
pub fn convert_transformer(
    official: BTreeMap<String, HostTensor>,
) -> Result<BTreeMap<String, HostTensor>> {
    let official: BTreeMap<String, HostTensor> = official
        .into_iter()
        .map(|(k, v)| {
            (
                k.strip_prefix("module.").map(str::to_string).unwrap_or(k),
                v,
            )
        })
        .collect();
    let hidden = official
        .iter()
        .find(|(k, _)| k.starts_with("single_blocks.") && k.ends_with(".linear2.weight"))
        .map(|(_, t)| t.shape().dims()[0]);
    let mut out = BTreeMap::new();
    let mut unknown = Vec::new();
    for (key, tensor) in official {
        let Some((stem, leaf)) = key.rsplit_once('.') else {
            unknown.push(key);
            continue;
        };
        let Some(rule) = rule_for(stem) else {
            unknown.push(key);
            continue;
        };
        let named = |base: &str| format!("{base}.{leaf}");
        let ctx = |e: IrError| Error::Weights(format!("official tensor `{key}`: {e}"));
        match rule {
            Rule::Rename(base) => {
                out.insert(named(&base), tensor);
            }
            Rule::SplitEqual(bases) => {
                let rows = tensor.shape().dims().first().copied().unwrap_or(0);
                if !rows.is_multiple_of(bases.len()) {
                    return Err(Error::Weights(format!(
                        "official tensor `{key}` {}: {rows} rows do not split into {} parts",
                        tensor.ty(),
                        bases.len()
                    )));
                }
                let part = rows / bases.len();
                for (i, base) in bases.iter().enumerate() {
                    let t = tensor.slice_rows(i * part, (i + 1) * part).map_err(ctx)?;
                    out.insert(named(base), t);
                }
            }
            Rule::SplitQkvMlp(block) => {
                let h = hidden.ok_or_else(|| {
                    Error::Weights(format!(
                        "official tensor `{key}`: cannot split without the single blocks' linear2 weight (model width)"
                    ))
                })?;
                let rows = tensor.shape().dims().first().copied().unwrap_or(0);
                if rows <= 3 * h {
                    return Err(Error::Weights(format!(
                        "official tensor `{key}` {}: expected more than 3×{h} rows (q, k, v, mlp)",
                        tensor.ty()
                    )));
                }
                let parts = [
                    ("attn.to_q", 0, h),
                    ("attn.to_k", h, 2 * h),
                    ("attn.to_v", 2 * h, 3 * h),
                    ("proj_mlp", 3 * h, rows),
                ];
                for (name, a, b) in parts {
                    let t = tensor.slice_rows(a, b).map_err(ctx)?;
                    out.insert(named(&format!("{block}.{name}")), t);
                }
            }
            Rule::SwapHalves(base) => {
                let rows = tensor.shape().dims().first().copied().unwrap_or(0);
                if !rows.is_multiple_of(2) {
                    return Err(Error::Weights(format!(
                        "official tensor `{key}` {}: odd row count cannot hold shift and scale halves",
                        tensor.ty()
                    )));
                }
                let (shift, scale) = (
                    tensor.slice_rows(0, rows / 2).map_err(ctx)?,
                    tensor.slice_rows(rows / 2, rows).map_err(ctx)?,
                );
                let swapped = HostTensor::concat_rows(&[scale, shift]).map_err(ctx)?;
                out.insert(named(&base), swapped);
            }
        }
    }
    if !unknown.is_empty() {
        return Err(Error::Weights(format!(
            "{} tensors are not part of the official HunyuanVideo DiT: {}",
            unknown.len(),
            unknown.join(", ")
        )));
    }
    Ok(out)
}

/// The rule for an official module path (the key without `.weight`/`.bias`).
fn rule_for(stem: &str) -> Option<Rule> {
    let rename = |s: &str| Some(Rule::Rename(s.to_string()));
    let fixed = match stem {
        "img_in.proj" => return rename("x_embedder.proj"),
        "time_in.mlp.0" => return rename("time_text_embed.timestep_embedder.linear_1"),
        "time_in.mlp.2" => return rename("time_text_embed.timestep_embedder.linear_2"),
        "guidance_in.mlp.0" => return rename("time_text_embed.guidance_embedder.linear_1"),
        "guidance_in.mlp.2" => return rename("time_text_embed.guidance_embedder.linear_2"),
        "vector_in.in_layer" => return rename("time_text_embed.text_embedder.linear_1"),
        "vector_in.out_layer" => return rename("time_text_embed.text_embedder.linear_2"),
        "txt_in.input_embedder" => return rename("context_embedder.proj_in"),
        "txt_in.t_embedder.mlp.0" => {
            return rename("context_embedder.time_text_embed.timestep_embedder.linear_1")
        }
        "txt_in.t_embedder.mlp.2" => {
            return rename("context_embedder.time_text_embed.timestep_embedder.linear_2")
        }
        "txt_in.c_embedder.linear_1" => {
            return rename("context_embedder.time_text_embed.text_embedder.linear_1")
        }
        "txt_in.c_embedder.linear_2" => {
            return rename("context_embedder.time_text_embed.text_embedder.linear_2")
        }
        "final_layer.adaLN_modulation.1" => {
            return Some(Rule::SwapHalves("norm_out.linear".into()))
        }
        "final_layer.linear" => return rename("proj_out"),
        other => other,
    };
    if let Some((i, rest)) = indexed(fixed, "txt_in.individual_token_refiner.blocks.") {
        let base = format!("context_embedder.token_refiner.refiner_blocks.{i}");
        let sub = match rest {
            "norm1" => "norm1",
            "norm2" => "norm2",
            "self_attn_proj" => "attn.to_out.0",
            "mlp.fc1" => "ff.net.0.proj",
            "mlp.fc2" => "ff.net.2",
            "adaLN_modulation.1" => "norm_out.linear",
            "self_attn_qkv" => {
                return Some(split_qkv(&base, ["attn.to_q", "attn.to_k", "attn.to_v"]))
            }
            _ => return None,
        };
        return Some(Rule::Rename(format!("{base}.{sub}")));
    }
    if let Some((i, rest)) = indexed(fixed, "double_blocks.") {
        let base = format!("transformer_blocks.{i}");
        let sub = match rest {
            "img_mod.linear" => "norm1.linear",
            "txt_mod.linear" => "norm1_context.linear",
            "img_attn_q_norm" => "attn.norm_q",
            "img_attn_k_norm" => "attn.norm_k",
            "txt_attn_q_norm" => "attn.norm_added_q",
            "txt_attn_k_norm" => "attn.norm_added_k",
            "img_attn_proj" => "attn.to_out.0",
            "txt_attn_proj" => "attn.to_add_out",
            "img_mlp.fc1" => "ff.net.0.proj",
            "img_mlp.fc2" => "ff.net.2",
            "txt_mlp.fc1" => "ff_context.net.0.proj",
            "txt_mlp.fc2" => "ff_context.net.2",
            "img_attn_qkv" => {
                return Some(split_qkv(&base, ["attn.to_q", "attn.to_k", "attn.to_v"]))
            }
            "txt_attn_qkv" => {
                return Some(split_qkv(
                    &base,
                    ["attn.add_q_proj", "attn.add_k_proj", "attn.add_v_proj"],
                ))
            }
            _ => return None,
        };
        return Some(Rule::Rename(format!("{base}.{sub}")));
    }
    if let Some((i, rest)) = indexed(fixed, "single_blocks.") {
        let base = format!("single_transformer_blocks.{i}");
        let sub = match rest {
            "q_norm" => "attn.norm_q",
            "k_norm" => "attn.norm_k",
            "modulation.linear" => "norm.linear",
            "linear2" => "proj_out",
            "linear1" => return Some(Rule::SplitQkvMlp(base)),
            _ => return None,
        };
        return Some(Rule::Rename(format!("{base}.{sub}")));
    }
    None
}

fn split_qkv(base: &str, names: [&str; 3]) -> Rule {
    Rule::SplitEqual(names.iter().map(|n| format!("{base}.{n}")).collect())
}

/// Splits `prefix{i}.{rest}` into `(i, rest)`.
fn indexed<'a>(stem: &'a str, prefix: &str) -> Option<(usize, &'a str)> {
    let (i, rest) = stem.strip_prefix(prefix)?.split_once('.')?;
    Some((i.parse().ok()?, rest))
}
