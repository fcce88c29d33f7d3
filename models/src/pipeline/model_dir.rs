//! A HunyuanVideo model folder laid out like the Hugging Face diffusers repository
//! (`hunyuanvideo-community/HunyuanVideo`): `transformer/`, `vae/`, `scheduler/`,
//! `text_encoder/`, `tokenizer/`, `text_encoder_2/`, `tokenizer_2/`.

use hyv_frontend::{Error, Result};
use std::path::{Path, PathBuf};

/// A checked model folder.
#[derive(Debug, Clone)]
pub struct ModelDir {
    root: PathBuf,
}

impl ModelDir {
    /// Checks that `root` holds the sub-folders sampling needs (`transformer/` and `vae/`
    /// with their `config.json`, and the text encoders unless `with_text_encoders` is
    /// false), naming every one that is missing.
    pub fn open(root: &Path, with_text_encoders: bool) -> Result<ModelDir> {
        if !root.is_dir() {
            return Err(Error::Usage(format!(
                "model folder {}: no such folder (expected a diffusers HunyuanVideo folder with \
                 transformer/, vae/, text_encoder/, tokenizer/, text_encoder_2/, tokenizer_2/)",
                root.display()
            )));
        }
        // Tokenizer folders are only checked to exist here: which files they need
        // (`tokenizer.json`, or a slow CLIP tokenizer's `vocab.json` + `merges.txt`) is the
        // tokenizer loader's business, and its errors name what is missing.
        let mut needed = vec!["transformer/config.json", "vae/config.json"];
        if with_text_encoders {
            needed.extend([
                "text_encoder/config.json",
                "tokenizer/",
                "text_encoder_2/config.json",
                "tokenizer_2/",
            ]);
        }
        let missing: Vec<String> = needed
            .iter()
            .filter(|path| match path.strip_suffix('/') {
                Some(dir) => !root.join(dir).is_dir(),
                None => !root.join(path).is_file(),
            })
            .map(|path| path.to_string())
            .collect();
        if !missing.is_empty() {
            return Err(Error::Usage(format!(
                "model folder {}: missing {}",
                root.display(),
                missing.join(", ")
            )));
        }
        Ok(ModelDir {
            root: root.to_path_buf(),
        })
    }

    /// The folder itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `transformer/`.
    pub fn transformer(&self) -> PathBuf {
        self.root.join("transformer")
    }

    /// `vae/`.
    pub fn vae(&self) -> PathBuf {
        self.root.join("vae")
    }
}
