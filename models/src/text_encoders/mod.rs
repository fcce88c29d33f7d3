//! HunyuanVideo's text encoders (reference/hunyuanvideo_spec.md §3): the Llama language
//! model whose hidden state conditions the DiT, and CLIP-L whose pooled output does, with
//! the tokenisers and prompt template of diffusers' `HunyuanVideoPipeline.encode_prompt`.
//!
//! Both models mirror transformers (`LlamaModel`, `CLIPTextModel`): parameter paths are the
//! checkpoint keys and configs come from transformers' `config.json`.
//!
//! ```text
//! let encoder = PromptEncoder::load(model_dir, || Runner::new(Mode::Graph, backend.clone()),
//!                                   PromptEncoderOptions::default())?;
//! let embeds = encoder.encode(&["a cat walks on the grass".to_string()])?;
//! // embeds.prompt_embeds [1, 256, 4096], prompt_mask [1, 256], prompt_embeds_2 [1, 768]
//! ```

mod activation;
mod clip;
mod clip_vocab;
mod config;
mod json;
mod llama;
mod prompt;
mod rope;
mod tokenizer;
mod weights;

pub use activation::{Activation, ACTIVATION_NAMES};
pub use clip::{ClipTextEncoder, CLIP_INPUT_NAMES, CLIP_OUTPUT_NAMES};
pub use clip_vocab::{
    build_clip_tokenizer, clip_vocab_missing, CLIP_SPLIT_PATTERN, CLIP_TOKENIZER_CLASSES,
    CLIP_VOCAB_FILES,
};
pub use config::{ClipTextConfig, LlamaConfig, RopeScaling};
pub use llama::{LlamaOptions, LlamaTextEncoder, LLAMA_INPUT_NAMES};
pub use prompt::{PromptEmbeds, PromptEncoder, PromptEncoderOptions};
pub use rope::{inv_freq, rope_tables};
pub use tokenizer::{
    PromptTemplate, TextTokenizer, HUNYUAN_VIDEO_CROP_START, HUNYUAN_VIDEO_TEMPLATE,
};
pub use weights::{open_weights, Reprefixed};
