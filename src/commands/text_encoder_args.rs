//! Options of the text encoders, shared by `hyv sample` and `hyv text-encode`.

use hyv_ir::DType;
use hyv_models::text_encoders::{PromptEncoderOptions, PromptTemplate};

/// Which prompt template wraps the prompt before the Llama encoder.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum TemplateChoice {
    /// HunyuanVideo's video template (`dit-llm-encode-video`), cropped at 95 tokens.
    Video,
    /// The prompt as is (no template, no crop).
    None,
}

/// Text-encoder options.
#[derive(clap::Args, Debug, Clone)]
pub struct TextEncoderArgs {
    /// Prompt template of the Llama encoder.
    #[arg(long, value_enum, default_value = "video")]
    pub prompt_template: TemplateChoice,
    /// Leading template tokens dropped after encoding (default: the template's own, 95 for
    /// the video template).
    #[arg(long)]
    pub crop_start: Option<usize>,
    /// Llama tokens kept after the crop (prompt + padding); the tokenizer's max length is
    /// this plus the crop.
    #[arg(long, default_value_t = 256)]
    pub text_len: usize,
    /// CLIP tokens (CLIP-L: 77).
    #[arg(long, default_value_t = 77)]
    pub text_len_2: usize,
    /// Use the Llama hidden state this many layers before the last (2: hidden_states[-3]).
    #[arg(long, default_value_t = 2)]
    pub hidden_state_skip_layer: usize,
    /// Compute dtype of both text encoders (the reference uses fp16).
    #[arg(long, default_value = "f32")]
    pub text_encoder_dtype: DType,
}

impl TextEncoderArgs {
    /// The prompt-encoder options these arguments ask for.
    pub fn options(&self) -> PromptEncoderOptions {
        let mut template = match self.prompt_template {
            TemplateChoice::Video => PromptTemplate::hunyuan_video(),
            TemplateChoice::None => PromptTemplate::none(),
        };
        if let Some(crop) = self.crop_start {
            template.crop_start = crop;
        }
        PromptEncoderOptions {
            template,
            max_sequence_length: self.text_len,
            clip_max_length: self.text_len_2,
            hidden_state_skip_layer: self.hidden_state_skip_layer,
            dtype: self.text_encoder_dtype,
        }
    }
}
