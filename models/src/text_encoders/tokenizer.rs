//! Tokenisation as transformers' fast tokenizers do it with `padding="max_length"`,
//! `truncation=True` and right padding: the `tokenizers` crate on a model folder's
//! `tokenizer.json` (or, for a slow CLIP tokenizer folder without one, the fast tokenizer
//! transformers builds from `vocab.json` + `merges.txt`: see `clip_vocab.rs`), the pad token
//! from `tokenizer_config.json` (or `special_tokens_map.json`); and HunyuanVideo's prompt
//! template.

use super::clip_vocab::{build_clip_tokenizer, clip_vocab_missing};
use hyv_frontend::{Error, HostTensor, Result, TensorData};
use serde_json::Value;
use std::path::{Path, PathBuf};
use tokenizers::{
    PaddingDirection, PaddingParams, PaddingStrategy, Tokenizer, TruncationDirection,
    TruncationParams, TruncationStrategy,
};

/// HunyuanVideo's video prompt template (reference/hunyuanvideo_spec.md §3.1); the user
/// prompt replaces `{}`.
pub const HUNYUAN_VIDEO_TEMPLATE: &str = "<|start_header_id|>system<|end_header_id|>\n\nDescribe the video by detailing the following aspects: 1. The main content and theme of the video.2. The color, shape, size, texture, quantity, text, and spatial relationships of the objects.3. Actions, events, behaviors temporal relationships, physical movement changes of the objects.4. background environment, light, style and atmosphere.5. camera angles, movements, and transitions used in the video:<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n{}<|eot_id|>";

/// Tokens of [`HUNYUAN_VIDEO_TEMPLATE`]'s prefix (with BOS) under the Llama-3 tokenizer,
/// dropped after encoding.
pub const HUNYUAN_VIDEO_CROP_START: usize = 95;

/// A prompt template: the text around the user prompt and how many leading token positions
/// to drop after encoding (diffusers' `{"template": ..., "crop_start": ...}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptTemplate {
    /// The template, with exactly one `{}` where the prompt goes.
    pub template: String,
    /// Leading token positions dropped from the encoder output and mask.
    pub crop_start: usize,
}

impl PromptTemplate {
    /// HunyuanVideo's video template, crop 95.
    pub fn hunyuan_video() -> Self {
        PromptTemplate {
            template: HUNYUAN_VIDEO_TEMPLATE.to_string(),
            crop_start: HUNYUAN_VIDEO_CROP_START,
        }
    }

    /// No template: `{}`, crop 0.
    pub fn none() -> Self {
        PromptTemplate {
            template: "{}".to_string(),
            crop_start: 0,
        }
    }

    /// `template` with `{}` replaced by `prompt` (Python's `template.format(prompt)`);
    /// errors unless the template holds exactly one `{}`.
    pub fn apply(&self, prompt: &str) -> Result<String> {
        match self.template.split_once("{}") {
            Some((before, after)) if !after.contains("{}") => {
                Ok(format!("{before}{prompt}{after}"))
            }
            _ => Err(Error::Usage(format!(
                "prompt template must contain exactly one `{{}}`, got {:?}",
                self.template
            ))),
        }
    }
}

/// A fast tokenizer loaded from a transformers tokenizer folder.
#[derive(Clone)]
pub struct TextTokenizer {
    dir: PathBuf,
    tokenizer: Tokenizer,
    pad_token: String,
    pad_id: u32,
}

/// The content of a special-token entry: a string or an `AddedToken` object.
fn token_content(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("content").and_then(Value::as_str).map(str::to_string),
        _ => None,
    }
}

/// `pad_token` of the JSON file `path`, if the file exists and names one.
fn pad_token_in(path: &Path) -> Result<Option<String>> {
    if !path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Usage(format!("{}: cannot read: {e}", path.display())))?;
    let json: Value = serde_json::from_str(&text)
        .map_err(|e| Error::Usage(format!("{}: invalid JSON: {e}", path.display())))?;
    Ok(json.get("pad_token").and_then(token_content))
}

impl TextTokenizer {
    /// Loads `dir/tokenizer.json` (or, without it, a slow CLIP tokenizer's `vocab.json` +
    /// `merges.txt` when `tokenizer_config.json` names `CLIPTokenizer`, built as transformers
    /// does: [`build_clip_tokenizer`]), with the pad token named by
    /// `dir/tokenizer_config.json` or `dir/special_tokens_map.json`. Errors name the missing
    /// folder or files, or say that no pad token is defined (transformers cannot pad to
    /// `max_length` without one).
    pub fn from_dir(dir: &Path) -> Result<Self> {
        if !dir.is_dir() {
            return Err(Error::Usage(format!(
                "{}: tokenizer folder not found (expected a folder with tokenizer.json)",
                dir.display()
            )));
        }
        let file = dir.join("tokenizer.json");
        let tokenizer = if file.is_file() {
            Tokenizer::from_file(&file).map_err(|e| {
                Error::Usage(format!("{}: cannot load tokenizer: {e}", file.display()))
            })?
        } else {
            let missing = clip_vocab_missing(dir)?;
            if !missing.is_empty() {
                return Err(Error::Usage(format!(
                    "{}: missing tokenizer file (expected a Hugging Face fast tokenizer \
                     `tokenizer.json`, or a slow CLIP tokenizer's vocab.json + merges.txt + \
                     tokenizer_config.json naming CLIPTokenizer; this folder lacks {})",
                    file.display(),
                    missing.join(", ")
                )));
            }
            build_clip_tokenizer(dir)?
        };
        let mut pad_token = None;
        for name in ["tokenizer_config.json", "special_tokens_map.json"] {
            if pad_token.is_none() {
                pad_token = pad_token_in(&dir.join(name))?;
            }
        }
        let pad_token = pad_token.ok_or_else(|| {
            Error::Usage(format!(
                "{}: no `pad_token` in tokenizer_config.json or special_tokens_map.json (needed to pad to max_length)",
                dir.display()
            ))
        })?;
        let pad_id = tokenizer.token_to_id(&pad_token).ok_or_else(|| {
            Error::Usage(format!(
                "{}: pad token {pad_token:?} is not in the vocabulary",
                dir.display()
            ))
        })?;
        Ok(TextTokenizer {
            dir: dir.to_path_buf(),
            tokenizer,
            pad_token,
            pad_id,
        })
    }

    /// Tokenises `texts` like `tokenizer(texts, padding="max_length", max_length=max_length,
    /// truncation=True)` (special tokens added, longest-first truncation, right padding):
    /// `(input_ids, attention_mask)`, both i64 `[texts.len(), max_length]`.
    pub fn encode(&self, texts: &[String], max_length: usize) -> Result<(HostTensor, HostTensor)> {
        let mut tokenizer = self.tokenizer.clone();
        let fail = |e: &dyn std::fmt::Display| {
            Error::Usage(format!("tokenizer {}: {e}", self.dir.display()))
        };
        tokenizer
            .with_truncation(Some(TruncationParams {
                direction: TruncationDirection::Right,
                max_length,
                strategy: TruncationStrategy::LongestFirst,
                stride: 0,
            }))
            .map_err(|e| fail(&e))?;
        tokenizer.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::Fixed(max_length),
            direction: PaddingDirection::Right,
            pad_to_multiple_of: None,
            pad_id: self.pad_id,
            pad_type_id: 0,
            pad_token: self.pad_token.clone(),
        }));
        let inputs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let encodings = tokenizer.encode_batch(inputs, true).map_err(|e| fail(&e))?;
        let mut ids = Vec::with_capacity(texts.len() * max_length);
        let mut mask = Vec::with_capacity(texts.len() * max_length);
        for e in &encodings {
            if e.get_ids().len() != max_length {
                return Err(fail(&format!(
                    "encoded to {} tokens, expected {max_length}",
                    e.get_ids().len()
                )));
            }
            ids.extend(e.get_ids().iter().map(|&i| i as i64));
            mask.extend(e.get_attention_mask().iter().map(|&m| m as i64));
        }
        let shape = [texts.len(), max_length];
        Ok((
            HostTensor::new(shape, TensorData::I64(ids))?,
            HostTensor::new(shape, TensorData::I64(mask))?,
        ))
    }
}
