//! [`PromptEncoder`]: prompts to HunyuanVideo's text conditioning, as diffusers'
//! `HunyuanVideoPipeline.encode_prompt` computes it — the Llama hidden state (templated,
//! cropped) with its mask, and the pooled CLIP output.

use super::clip::{ClipTextEncoder, CLIP_INPUT_NAMES};
use super::config::{ClipTextConfig, LlamaConfig};
use super::llama::{LlamaOptions, LlamaTextEncoder, LLAMA_INPUT_NAMES};
use super::tokenizer::{PromptTemplate, TextTokenizer};
use super::weights::open_weights;
use hyv_frontend::{
    trace, DType, Error, HostTensor, Model, Result, Runner, Session, TensorData, TensorType,
    Weights,
};
use std::path::Path;
use std::rc::Rc;

/// The text conditioning of a batch of prompts.
#[derive(Debug, Clone)]
pub struct PromptEmbeds {
    /// The Llama hidden state, f32 `[B, max_sequence_length, D_llama]`.
    pub prompt_embeds: HostTensor,
    /// Its mask, i64 `[B, max_sequence_length]` (1 for prompt tokens, 0 for padding).
    pub prompt_mask: HostTensor,
    /// The pooled CLIP output, f32 `[B, D_clip]`.
    pub prompt_embeds_2: HostTensor,
}

/// Options of [`PromptEncoder`].
#[derive(Debug, Clone, PartialEq)]
pub struct PromptEncoderOptions {
    /// The Llama prompt template and crop.
    pub template: PromptTemplate,
    /// Llama tokens kept after the crop (the tokenizer's `max_length` is this plus
    /// `template.crop_start`).
    pub max_sequence_length: usize,
    /// CLIP tokenizer `max_length`.
    pub clip_max_length: usize,
    /// Which Llama hidden state: `hidden_states[-(skip + 1)]` (see [`LlamaOptions`]).
    pub hidden_state_skip_layer: usize,
    /// Compute dtype of both encoders (f32, bf16 or f16); the outputs are f32.
    pub dtype: DType,
}

impl Default for PromptEncoderOptions {
    /// HunyuanVideo's defaults: the video template (crop 95), 256 tokens, CLIP 77, skip 2,
    /// in f32.
    fn default() -> Self {
        PromptEncoderOptions {
            template: PromptTemplate::hunyuan_video(),
            max_sequence_length: 256,
            clip_max_length: 77,
            hidden_state_skip_layer: 2,
            dtype: DType::F32,
        }
    }
}

/// Both tokenizers and both text encoders, each encoder bound to its weights in a
/// [`Session`] (compiled once per input shape, weights uploaded once).
pub struct PromptEncoder {
    options: PromptEncoderOptions,
    tokenizer: TextTokenizer,
    tokenizer_2: TextTokenizer,
    text_encoder: Session,
    text_encoder_2: Session,
}

/// The error for a model folder `dir` that lacks `what`.
fn missing(dir: &Path, what: &str) -> Error {
    Error::Usage(format!("{}: missing {what}", dir.display()))
}

/// `dir/name`, which must be a folder.
fn subfolder(dir: &Path, name: &str, what: &str) -> Result<std::path::PathBuf> {
    let path = dir.join(name);
    if path.is_dir() {
        Ok(path)
    } else {
        Err(missing(dir, &format!("folder `{name}/` ({what})")))
    }
}

/// Checks the checkpoint of `dir` against everything `model` declares for `inputs` i64
/// `[1, len]` (a shapes-only trace), so a missing or mistyped tensor is reported at load
/// time with the folder it was looked for in.
fn check_checkpoint(
    model: &dyn Model,
    weights: &Weights,
    inputs: &[&str],
    len: usize,
    dir: &Path,
) -> Result<()> {
    let types: Vec<(String, TensorType)> = inputs
        .iter()
        .map(|n| (n.to_string(), TensorType::new(DType::I64, [1, len])))
        .collect();
    match trace(model, weights, &types) {
        Ok(_) => Ok(()),
        Err(Error::Weights(msg)) => Err(Error::Weights(format!("{}: {msg}", dir.display()))),
        Err(e) => Err(e),
    }
}

/// `dir/config.json`, which must exist.
fn config_file(dir: &Path) -> Result<std::path::PathBuf> {
    let path = dir.join("config.json");
    if path.is_file() {
        Ok(path)
    } else {
        Err(missing(
            dir,
            "`config.json` (the transformers model config)",
        ))
    }
}

impl PromptEncoder {
    /// Loads the encoders of `model_dir`, laid out like the Hugging Face diffusers
    /// HunyuanVideo repository: `text_encoder/` (config.json + `*.safetensors`, possibly
    /// sharded with `model.safetensors.index.json`), `tokenizer/` (tokenizer.json),
    /// `text_encoder_2/`, `tokenizer_2/`. `runner` makes the runner of each session.
    /// Errors name the missing folder, file or tensor (the checkpoints are checked against
    /// the models here, before any encoding).
    pub fn load(
        model_dir: &Path,
        runner: impl Fn() -> Runner,
        options: PromptEncoderOptions,
    ) -> Result<PromptEncoder> {
        if !model_dir.is_dir() {
            return Err(Error::Usage(format!(
                "{}: model folder not found (expected text_encoder/, tokenizer/, text_encoder_2/, tokenizer_2/)",
                model_dir.display()
            )));
        }
        if options.max_sequence_length == 0 || options.clip_max_length == 0 {
            return Err(Error::Usage(
                "max_sequence_length and clip_max_length must be positive".into(),
            ));
        }
        let llama_dir = subfolder(model_dir, "text_encoder", "the Llama text encoder")?;
        let clip_dir = subfolder(model_dir, "text_encoder_2", "the CLIP text encoder")?;
        let tokenizer =
            TextTokenizer::from_dir(&subfolder(model_dir, "tokenizer", "the Llama tokenizer")?)?;
        let tokenizer_2 =
            TextTokenizer::from_dir(&subfolder(model_dir, "tokenizer_2", "the CLIP tokenizer")?)?;

        let llama = LlamaTextEncoder::new(
            LlamaConfig::from_json_file(config_file(&llama_dir)?)?,
            LlamaOptions {
                hidden_state_skip_layer: options.hidden_state_skip_layer,
                dtype: options.dtype,
            },
        )?;
        let llama_weights = open_weights(
            &llama_dir,
            &llama.weight_prefixes(),
            LlamaTextEncoder::WEIGHT_RENAMES,
            options.dtype,
        )?;
        let clip = ClipTextEncoder::new(
            ClipTextConfig::from_json_file(config_file(&clip_dir)?)?,
            options.dtype,
        )?;
        let clip_weights = open_weights(
            &clip_dir,
            &clip.weight_prefixes(),
            ClipTextEncoder::WEIGHT_RENAMES,
            options.dtype,
        )?;
        let llama_len = options.max_sequence_length + options.template.crop_start;
        check_checkpoint(
            &llama,
            &llama_weights,
            LLAMA_INPUT_NAMES,
            llama_len,
            &llama_dir,
        )?;
        let clip_len = options.clip_max_length;
        check_checkpoint(
            &clip,
            &clip_weights,
            &CLIP_INPUT_NAMES[..1],
            clip_len,
            &clip_dir,
        )?;
        Ok(PromptEncoder {
            text_encoder: Session::new(runner(), Rc::new(llama), llama_weights),
            text_encoder_2: Session::new(runner(), Rc::new(clip), clip_weights),
            tokenizer,
            tokenizer_2,
            options,
        })
    }

    /// The options.
    pub fn options(&self) -> &PromptEncoderOptions {
        &self.options
    }

    /// Encodes `prompts` (at least one): the Llama path tokenises the templated prompts to
    /// `max_sequence_length + crop_start` tokens, runs the encoder with the mask and crops
    /// the first `crop_start` positions of the hidden state and mask; the CLIP path
    /// tokenises the plain prompts to `clip_max_length` tokens and pools (no mask, as
    /// diffusers).
    pub fn encode(&self, prompts: &[String]) -> Result<PromptEmbeds> {
        if prompts.is_empty() {
            return Err(Error::Usage("no prompts to encode".into()));
        }
        let o = &self.options;
        let crop = o.template.crop_start;
        let templated = prompts
            .iter()
            .map(|p| o.template.apply(p))
            .collect::<Result<Vec<_>>>()?;
        let (ids, mask) = self
            .tokenizer
            .encode(&templated, o.max_sequence_length + crop)?;
        let hidden = self.text_encoder.run(&[
            ("input_ids".into(), ids),
            ("attention_mask".into(), mask.clone()),
        ])?;
        let hidden = hidden
            .into_iter()
            .next()
            .ok_or_else(|| Error::Usage("the Llama text encoder returned no output".into()))?;
        let (ids_2, _) = self.tokenizer_2.encode(prompts, o.clip_max_length)?;
        let clip = self.text_encoder_2.run(&[("input_ids".into(), ids_2)])?;
        let pooled = clip.into_iter().nth(1).ok_or_else(|| {
            Error::Usage("the CLIP text encoder returned no pooled output".into())
        })?;
        Ok(PromptEmbeds {
            prompt_embeds: crop_positions(&hidden, crop)?,
            prompt_mask: crop_positions(&mask, crop)?,
            prompt_embeds_2: pooled,
        })
    }
}

/// `x[:, crop:]` of a host tensor `[B, L, ...]` (f32 or i64).
fn crop_positions(x: &HostTensor, crop: usize) -> Result<HostTensor> {
    let dims = x.shape().dims().to_vec();
    let (b, l) = (dims[0], dims[1]);
    let row: usize = dims[2..].iter().product();
    let keep = l - crop;
    let mut shape = dims.clone();
    shape[1] = keep;
    let pick = |i: usize| (i / keep) * l * row + crop * row + (i % keep) * row;
    let data = match x.data() {
        TensorData::F32(v) => TensorData::F32(
            (0..b * keep)
                .flat_map(|i| v[pick(i)..pick(i) + row].iter().copied())
                .collect(),
        ),
        TensorData::I64(v) => TensorData::I64(
            (0..b * keep)
                .flat_map(|i| v[pick(i)..pick(i) + row].iter().copied())
                .collect(),
        ),
        other => {
            return Err(Error::Usage(format!(
                "cannot crop a {} tensor",
                other.dtype()
            )))
        }
    };
    Ok(HostTensor::new(shape, data)?)
}
