//! `hyv text-encode`: the prompt-embedding cache for training and sampling, like mindone's
//! `scripts/run_text_encoder.py`: one safetensors file per caption (see
//! [`prompt_embeds`](crate::commands::prompt_embeds) for the tensors), mirroring the
//! dataset's video paths, plus `empty_string_text_embeddings.safetensors` for caption
//! dropout.
//!
//! Decisions: a file already present is skipped (re-runs resume); a row with an empty
//! caption or a bad path is reported and skipped, and the command exits non-zero at the end
//! if any row failed; a caption given as a JSON list uses its first element.

use crate::backends::backend_by_name;
use crate::commands::files::{csv_column, BatchReport};
use crate::commands::prompt_embeds;
use crate::commands::text_encoder_args::TextEncoderArgs;
use crate::progress::bar;
use anyhow::{bail, Context, Result};
use hyv_frontend::{Mode, Runner};
use hyv_models::text_encoders::PromptEncoder;
use std::path::{Path, PathBuf};

/// The file of the empty prompt, used for caption dropout in training.
pub const EMPTY_STRING_FILE: &str = "empty_string_text_embeddings.safetensors";

/// Arguments of `hyv text-encode`.
#[derive(clap::Args, Debug)]
pub struct TextEncodeArgs {
    /// A CSV (with a header) or JSON (a list of objects) naming videos and captions.
    #[arg(long, value_name = "FILE", required_unless_present = "prompt")]
    pub data_file_path: Option<PathBuf>,
    /// Encode one prompt into `<first 16 words joined by '-'>.safetensors`.
    #[arg(long, conflicts_with = "data_file_path")]
    pub prompt: Option<String>,
    /// With --prompt: also encode this negative prompt into the same file
    /// (`negative_prompt_embeds`, ...), for `hyv sample --text-embed-path ... --cfg-scale`.
    #[arg(long, requires = "prompt")]
    pub negative_prompt: Option<String>,
    /// Folder the embeddings go to.
    #[arg(long, value_name = "DIR")]
    pub output_path: PathBuf,
    /// Column of the video paths (the output names mirror them).
    #[arg(long, default_value = "video")]
    pub file_column: String,
    /// Column of the captions.
    #[arg(long, default_value = "caption")]
    pub caption_column: String,
    /// Captions encoded per model call.
    #[arg(long, default_value_t = 1)]
    pub batch_size: usize,
    /// A model folder with text_encoder/, tokenizer/, text_encoder_2/, tokenizer_2/ (the
    /// Hugging Face diffusers HunyuanVideo layout).
    #[arg(long, value_name = "DIR")]
    pub model_dir: PathBuf,
    /// Backend: `reference`, `reference-primitives`, `cpu` or `cuda[:N]`.
    #[arg(long, default_value = "cpu")]
    pub backend: String,
    /// Execution mode.
    #[arg(long, default_value = "graph")]
    pub mode: Mode,
    #[command(flatten)]
    pub text: TextEncoderArgs,
}

/// One caption to encode and where its embeddings go.
struct Item {
    caption: String,
    out: PathBuf,
}

/// `--prompt` with `--negative-prompt`: both into one file.
fn encode_with_negative(args: &TextEncodeArgs, prompt: &str, negative: &str) -> Result<()> {
    let out = args.output_path.join(prompt_file_name(prompt));
    let encoder = load(args)?;
    // One prompt per call, as `sample` encodes them, so cached and direct runs agree bit
    // for bit (a batch of two may round differently).
    let embeds = encoder.encode(&[prompt.to_string()])?;
    let negative = encoder.encode(&[negative.to_string()])?;
    prompt_embeds::write(&out, &embeds, 0, Some((&negative, 0)))?;
    println!("{}", out.display());
    Ok(())
}

/// Runs `hyv text-encode`.
pub fn run(args: TextEncodeArgs) -> Result<()> {
    if args.batch_size == 0 {
        bail!("--batch-size must be at least 1");
    }
    if let (Some(prompt), Some(negative)) = (&args.prompt, &args.negative_prompt) {
        return encode_with_negative(&args, prompt, negative);
    }
    let mut report = BatchReport::default();
    let mut items = Vec::new();
    match (&args.prompt, &args.data_file_path) {
        (Some(prompt), _) => items.push(Item {
            caption: prompt.clone(),
            out: args.output_path.join(prompt_file_name(prompt)),
        }),
        (None, Some(file)) => {
            items.push(Item {
                caption: String::new(),
                out: args.output_path.join(EMPTY_STRING_FILE),
            });
            for row in captions(file, &args.file_column, &args.caption_column)? {
                match row {
                    Ok((video, caption)) => items.push(Item {
                        caption,
                        out: args.output_path.join(video.with_extension("safetensors")),
                    }),
                    Err(e) => report.fail(file, &e, &indicatif::ProgressBar::hidden()),
                }
            }
        }
        (None, None) => bail!("give --data-file-path or --prompt"),
    }
    let todo: Vec<Item> = items
        .into_iter()
        .filter(|item| {
            let done = item.out.is_file();
            report.skipped += usize::from(done);
            !done
        })
        .collect();
    let encoder = load(&args)?;
    let progress = bar(todo.len(), "text-encode");
    for batch in todo.chunks(args.batch_size) {
        let captions: Vec<String> = batch.iter().map(|i| i.caption.clone()).collect();
        let written = progress.suspend(|| -> Result<()> {
            let embeds = encoder.encode(&captions)?;
            for (row, item) in batch.iter().enumerate() {
                prompt_embeds::write(&item.out, &embeds, row, None)?;
                println!("{}", item.out.display());
            }
            Ok(())
        });
        match written {
            Ok(()) => report.done += batch.len(),
            Err(e) => {
                for item in batch {
                    report.fail(&item.out, &e, &progress);
                }
            }
        }
        progress.inc(batch.len() as u64);
    }
    progress.finish_and_clear();
    report.finish("text-encode")
}

/// Loads both text encoders on the chosen backend.
fn load(args: &TextEncodeArgs) -> Result<PromptEncoder> {
    let backend = backend_by_name(&args.backend)?;
    let mode = args.mode;
    Ok(PromptEncoder::load(
        &args.model_dir,
        move || Runner::new(mode, backend.clone()),
        args.text.options(),
    )?)
}

/// `--prompt` output name: its first 16 words joined by `-`, `/` removed (as the reference).
fn prompt_file_name(prompt: &str) -> String {
    let words: Vec<String> = prompt
        .split_whitespace()
        .take(16)
        .map(|w| w.replace('/', ""))
        .collect();
    let stem = words.join("-");
    if stem.is_empty() {
        EMPTY_STRING_FILE.to_string()
    } else {
        format!("{stem}.safetensors")
    }
}

/// The (video path, caption) of every row of a CSV or JSON file; a bad row is an `Err`
/// naming its line or index, so the job reports it and goes on.
fn captions(
    path: &Path,
    file_column: &str,
    caption_column: &str,
) -> Result<Vec<Result<(PathBuf, String)>>> {
    if path.extension().is_some_and(|e| e == "json") {
        json_captions(path, file_column, caption_column)
    } else {
        csv_captions(path, file_column, caption_column)
    }
}

fn csv_captions(
    path: &Path,
    file_column: &str,
    caption_column: &str,
) -> Result<Vec<Result<(PathBuf, String)>>> {
    let mut reader = csv::Reader::from_path(path)
        .with_context(|| format!("cannot read the CSV {}", path.display()))?;
    let headers = reader
        .headers()
        .with_context(|| format!("{}: cannot read the header", path.display()))?
        .clone();
    let file_index = csv_column(path, &headers, file_column)?;
    let caption_index = csv_column(path, &headers, caption_column)?;
    Ok(reader
        .records()
        .enumerate()
        .map(|(i, record)| {
            let line = i + 2;
            let record = record.with_context(|| format!("{}:{line}: bad row", path.display()))?;
            let field = |index: usize| record.get(index).map(str::trim).unwrap_or("");
            row(field(file_index), field(caption_index))
                .with_context(|| format!("{}:{line}", path.display()))
        })
        .collect())
}

fn json_captions(
    path: &Path,
    file_column: &str,
    caption_column: &str,
) -> Result<Vec<Result<(PathBuf, String)>>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{}: not valid JSON", path.display()))?;
    let Some(rows) = value.as_array() else {
        bail!("{}: expected a JSON list of objects", path.display());
    };
    Ok(rows
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let get = |key: &str| match item.get(key) {
                Some(serde_json::Value::String(s)) => s.trim().to_string(),
                Some(serde_json::Value::Array(a)) => a
                    .first()
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .trim()
                    .to_string(),
                _ => String::new(),
            };
            row(&get(file_column), &get(caption_column))
                .with_context(|| format!("{}: item {i}", path.display()))
        })
        .collect())
}

/// Checks one row: a video path and a non-empty caption.
fn row(video: &str, caption: &str) -> Result<(PathBuf, String)> {
    if video.is_empty() {
        bail!("empty video path");
    }
    if caption.is_empty() {
        bail!("empty caption for {video}");
    }
    let video = PathBuf::from(video);
    if video.is_absolute() || video.components().any(|c| c.as_os_str() == "..") {
        bail!(
            "video path {} must be relative and stay inside the dataset",
            video.display()
        );
    }
    Ok((video, caption.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_names_take_sixteen_words_without_slashes() {
        assert_eq!(
            prompt_file_name("a cat/dog  runs"),
            "a-catdog-runs.safetensors"
        );
        let long = (0..20).map(|i| i.to_string()).collect::<Vec<_>>().join(" ");
        assert_eq!(
            prompt_file_name(&long),
            "0-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15.safetensors"
        );
        assert_eq!(prompt_file_name("  "), EMPTY_STRING_FILE);
    }

    #[test]
    fn rows_need_a_relative_path_and_a_caption() {
        assert!(row("clips/a.b.mp4", "a cat").is_ok());
        assert!(row("", "a cat").is_err());
        assert!(row("a.mp4", "").is_err());
        assert!(row("/abs/a.mp4", "x").is_err());
        assert!(row("../a.mp4", "x").is_err());
    }
}
