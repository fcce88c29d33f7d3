//! Text-to-video sampling with HunyuanVideo, as diffusers' `HunyuanVideoPipeline` and the
//! official `sample_video.py` do it: encode the prompt (Llama + CLIP), draw seeded noise,
//! denoise with the flow-matching Euler scheduler (embedded guidance, optional true CFG,
//! optional TeaCache), decode with the VAE.
//!
//! ```text
//! let mut t2v = TextToVideo::load(&model_dir, &runner, TextToVideoOptions::default())?;
//! let embeds = t2v.encode_prompts(&["a cat".into()])?;
//! let out = t2v.sample(&request, &embeds, None, &mut |_step| {})?;
//! ```

mod model_dir;
mod request;
mod text_to_video;

pub use model_dir::ModelDir;
pub use request::{SampleRequest, DEFAULT_NEGATIVE_PROMPT};
pub use text_to_video::{SampleOutput, TextToVideo, TextToVideoOptions, Timings};
