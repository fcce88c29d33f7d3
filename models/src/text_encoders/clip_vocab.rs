//! CLIP tokenizer folders without a `tokenizer.json`: the fast tokenizer built from
//! `vocab.json` + `merges.txt` the way transformers does it.
//!
//! A diffusers HunyuanVideo download's `tokenizer_2/` saved from the slow `CLIPTokenizer`
//! holds only `vocab.json`, `merges.txt`, `special_tokens_map.json` and
//! `tokenizer_config.json`. transformers picks the class from `tokenizer_config.json`'s
//! `tokenizer_class` and, having no `tokenizer.json`, builds the `tokenizers` pipeline in
//! code (transformers 5.x `CLIPTokenizer.__init__`; before 5.0 `CLIPConverter` in
//! `convert_slow_tokenizer.py`):
//!
//! - model: `BPE(vocab, merges, continuing_subword_prefix="", end_of_word_suffix="</w>",
//!   fuse_unk=False, unk_token)`;
//! - normalizer: `Sequence[NFC, Replace(/\s+/, " "), Lowercase]`;
//! - pre-tokenizer: `Sequence[Split(CLIP regex, removed, invert), ByteLevel(add_prefix_space
//!   false)]` (`ByteLevel` keeps its default `trim_offsets` and `use_regex`, both true);
//! - post-processor: `RobertaProcessing((eos, eos_id), (bos, bos_id), trim_offsets=False,
//!   add_prefix_space=False)`, i.e. `bos $A eos` for one text;
//! - decoder: `ByteLevel`;
//! - added tokens: `tokenizer_config.json`'s `added_tokens_decoder` (with their `normalized`,
//!   `lstrip`, ... flags: openai/clip-vit-large-patch14 marks `<|startoftext|>` normalized, so
//!   it also matches after lowercasing), then the bos/eos/unk/pad tokens as special tokens.
//!
//! The split regex is transformers 5.x's, which also lists `<|startoftext|>` and
//! `<|endoftext|>` (`CLIPConverter`'s does not); `ByteLevel`'s own GPT-2 split re-splits those
//! pieces into `<|`, the word and `|>`, as the converter's regex does.
//!
//! Tested against transformers 5.x `CLIPTokenizer.from_pretrained` in
//! `tests/text_encoder_parity.rs` (fixture: tools/golden/make_clip_vocab_fixture.py).

use hyv_frontend::{Error, Result};
use serde_json::Value;
use std::path::Path;
use tokenizers::decoders::byte_level::ByteLevel as ByteLevelDecoder;
use tokenizers::models::bpe::BPE;
use tokenizers::normalizers::{Lowercase, Replace, Sequence as NormalizerSequence, NFC};
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::sequence::Sequence as PreTokenizerSequence;
use tokenizers::pre_tokenizers::split::{Split, SplitPattern};
use tokenizers::processors::roberta::RobertaProcessing;
use tokenizers::{AddedToken, SplitDelimiterBehavior, Tokenizer};

/// `tokenizer_class` values (in `tokenizer_config.json`) that name a CLIP tokenizer.
pub const CLIP_TOKENIZER_CLASSES: [&str; 2] = ["CLIPTokenizer", "CLIPTokenizerFast"];

/// The files of a slow CLIP tokenizer folder that [`build_clip_tokenizer`] reads
/// (`special_tokens_map.json` is optional).
pub const CLIP_VOCAB_FILES: [&str; 3] = ["vocab.json", "merges.txt", "tokenizer_config.json"];

/// transformers 5.x `CLIPTokenizer`'s pre-tokenizer split pattern.
pub const CLIP_SPLIT_PATTERN: &str =
    r"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+";

/// `CLIPTokenizer`'s defaults for the special tokens.
const DEFAULT_BOS: &str = "<|startoftext|>";
const DEFAULT_EOS: &str = "<|endoftext|>";

fn read_json(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Usage(format!("{}: cannot read: {e}", path.display())))?;
    serde_json::from_str(&text)
        .map_err(|e| Error::Usage(format!("{}: invalid JSON: {e}", path.display())))
}

/// The content of a special-token entry: a string or an `AddedToken` object.
fn token_content(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("content").and_then(Value::as_str).map(str::to_string),
        _ => None,
    }
}

/// The files of the slow CLIP layout missing from `dir`, or why `tokenizer_config.json` does
/// not name a CLIP tokenizer; empty when `dir` has that layout.
pub fn clip_vocab_missing(dir: &Path) -> Result<Vec<String>> {
    let mut missing: Vec<String> = CLIP_VOCAB_FILES
        .iter()
        .filter(|f| !dir.join(f).is_file())
        .map(|f| f.to_string())
        .collect();
    let config = dir.join("tokenizer_config.json");
    if config.is_file() {
        let class = read_json(&config)?
            .get("tokenizer_class")
            .and_then(Value::as_str)
            .map(str::to_string);
        if !class
            .as_deref()
            .is_some_and(|c| CLIP_TOKENIZER_CLASSES.contains(&c))
        {
            let found = class.map_or("none".to_string(), |c| format!("{c:?}"));
            missing.push(format!(
                "`tokenizer_class` CLIPTokenizer in tokenizer_config.json (found {found})"
            ));
        }
    }
    Ok(missing)
}

/// One special token (`bos_token`, ...) from `tokenizer_config.json`, else
/// `special_tokens_map.json`, else `default`.
fn special_token(config: &Value, map: Option<&Value>, key: &str, default: &str) -> String {
    config
        .get(key)
        .and_then(token_content)
        .or_else(|| map.and_then(|m| m.get(key)).and_then(token_content))
        .unwrap_or_else(|| default.to_string())
}

/// `AddedToken` from an `added_tokens_decoder` entry (transformers' defaults for missing
/// flags: not stripped, not single-word, normalized unless special).
fn added_token(entry: &Value, origin: &str) -> Result<AddedToken> {
    let content = token_content(entry)
        .ok_or_else(|| Error::Usage(format!("{origin}: added token without `content`")))?;
    let flag = |k: &str| entry.get(k).and_then(Value::as_bool);
    let special = flag("special").unwrap_or(false);
    Ok(AddedToken::from(content, special)
        .single_word(flag("single_word").unwrap_or(false))
        .lstrip(flag("lstrip").unwrap_or(false))
        .rstrip(flag("rstrip").unwrap_or(false))
        .normalized(flag("normalized").unwrap_or(!special)))
}

/// Builds the fast CLIP tokenizer of `dir` (a folder for which [`clip_vocab_missing`] is
/// empty) as transformers' `CLIPTokenizer.from_pretrained(dir)` does (see the module docs).
/// Padding and truncation are left unset.
pub fn build_clip_tokenizer(dir: &Path) -> Result<Tokenizer> {
    let config_path = dir.join("tokenizer_config.json");
    let config = read_json(&config_path)?;
    let map_path = dir.join("special_tokens_map.json");
    let map = if map_path.is_file() {
        Some(read_json(&map_path)?)
    } else {
        None
    };
    let bos = special_token(&config, map.as_ref(), "bos_token", DEFAULT_BOS);
    let eos = special_token(&config, map.as_ref(), "eos_token", DEFAULT_EOS);
    let unk = special_token(&config, map.as_ref(), "unk_token", DEFAULT_EOS);
    let pad = special_token(&config, map.as_ref(), "pad_token", DEFAULT_EOS);

    let (vocab_path, merges_path) = (dir.join("vocab.json"), dir.join("merges.txt"));
    let fail = |what: &str, e: &dyn std::fmt::Display| {
        Error::Usage(format!("{}: {what}: {e}", dir.display()))
    };
    let (vocab, merges) = BPE::read_file(
        &vocab_path.to_string_lossy(),
        &merges_path.to_string_lossy(),
    )
    .map_err(|e| fail("cannot read vocab.json / merges.txt", &e))?;
    let bpe = BPE::builder()
        .vocab_and_merges(vocab, merges)
        .continuing_subword_prefix(String::new())
        .end_of_word_suffix("</w>".to_string())
        .fuse_unk(false)
        .unk_token(unk.clone())
        .build()
        .map_err(|e| fail("cannot build the BPE model", &e))?;

    let mut tokenizer = Tokenizer::new(bpe);
    let replace = Replace::new(
        tokenizers::normalizers::replace::ReplacePattern::Regex(r"\s+".to_string()),
        " ",
    )
    .map_err(|e| fail("normalizer", &e))?;
    tokenizer.with_normalizer(Some(NormalizerSequence::new(vec![
        NFC.into(),
        replace.into(),
        Lowercase.into(),
    ])));
    let split = Split::new(
        SplitPattern::Regex(CLIP_SPLIT_PATTERN.to_string()),
        SplitDelimiterBehavior::Removed,
        true,
    )
    .map_err(|e| fail("pre-tokenizer", &e))?;
    tokenizer.with_pre_tokenizer(Some(PreTokenizerSequence::new(vec![
        split.into(),
        ByteLevel::new(false, true, true).into(),
    ])));
    tokenizer.with_decoder(Some(ByteLevelDecoder::default()));

    // transformers adds `added_tokens_decoder` first (in id order), then the special tokens.
    let origin = config_path.display().to_string();
    let mut declared: Vec<(u32, AddedToken)> = Vec::new();
    if let Some(entries) = config.get("added_tokens_decoder") {
        let entries = entries.as_object().ok_or_else(|| {
            Error::Usage(format!("{origin}: `added_tokens_decoder` is not an object"))
        })?;
        for (id, entry) in entries {
            let id: u32 = id.parse().map_err(|_| {
                Error::Usage(format!("{origin}: added token id {id:?} is not a number"))
            })?;
            declared.push((id, added_token(entry, &origin)?));
        }
    }
    declared.sort_by_key(|(id, _)| *id);
    for (_, token) in &declared {
        if token.special {
            tokenizer.add_special_tokens(std::slice::from_ref(token));
        } else {
            tokenizer.add_tokens(std::slice::from_ref(token));
        }
    }
    for (id, token) in &declared {
        if tokenizer.token_to_id(&token.content) != Some(*id) {
            return Err(Error::Usage(format!(
                "{origin}: added token {:?} has id {id} but the vocabulary gives {:?}",
                token.content,
                tokenizer.token_to_id(&token.content)
            )));
        }
    }
    let specials: Vec<AddedToken> = [&bos, &eos, &unk, &pad]
        .into_iter()
        .filter(|t| !declared.iter().any(|(_, d)| &d.content == *t))
        .map(|t| AddedToken::from(t.clone(), true).normalized(false))
        .collect();
    tokenizer.add_special_tokens(&specials);

    let id = |t: &str| {
        tokenizer.token_to_id(t).ok_or_else(|| {
            Error::Usage(format!(
                "{}: special token {t:?} is not in vocab.json",
                vocab_path.display()
            ))
        })
    };
    let (bos_id, eos_id) = (id(&bos)?, id(&eos)?);
    tokenizer.with_post_processor(Some(
        RobertaProcessing::new((eos, eos_id), (bos, bos_id))
            .trim_offsets(false)
            .add_prefix_space(false),
    ));
    Ok(tokenizer)
}
