//! Reading a diffusers `config.json` into a model's configuration struct: parse with serde,
//! then the struct's own validation, every error naming the file (or `config` for text).

use hyv_frontend::{Error, Result};
use serde::de::DeserializeOwned;
use std::path::Path;

/// Parses `text` as a `what` configuration (e.g. "VAE") and validates it; `origin` names
/// the source in errors.
pub(crate) fn parse<T: DeserializeOwned>(
    text: &str,
    origin: &str,
    what: &str,
    validate: impl Fn(&T) -> std::result::Result<(), String>,
) -> Result<T> {
    let cfg: T = serde_json::from_str(text)
        .map_err(|e| Error::Usage(format!("{origin}: invalid {what} config: {e}")))?;
    validate(&cfg).map_err(|e| Error::Usage(format!("{origin}: {e}")))?;
    Ok(cfg)
}

/// Reads the file at `path` and [`parse`]s it.
pub(crate) fn read<T: DeserializeOwned>(
    path: &Path,
    what: &str,
    validate: impl Fn(&T) -> std::result::Result<(), String>,
) -> Result<T> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Usage(format!("{}: cannot read config: {e}", path.display())))?;
    parse(&text, &path.display().to_string(), what, validate)
}
