//! Reading the fields of a transformers `config.json` one by one, so that every error names
//! the file and the field.

use hyv_frontend::{Error, Result};
use serde_json::{Map, Value};
use std::path::Path;

/// The fields of one JSON object, with the file (or nested object) they came from.
pub(crate) struct Fields<'a> {
    origin: String,
    map: &'a Map<String, Value>,
}

/// Reads `path` as a JSON object.
pub(crate) fn read_object(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Usage(format!("{}: cannot read config: {e}", path.display())))?;
    parse_object(&text, &path.display().to_string())
}

/// Parses `text` as a JSON object; `origin` names it in errors.
pub(crate) fn parse_object(text: &str, origin: &str) -> Result<Value> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| Error::Usage(format!("{origin}: invalid JSON: {e}")))?;
    if !value.is_object() {
        return Err(Error::Usage(format!("{origin}: expected a JSON object")));
    }
    Ok(value)
}

impl<'a> Fields<'a> {
    /// The fields of `value` (an object), `origin` naming it in errors.
    pub(crate) fn new(value: &'a Value, origin: impl Into<String>) -> Result<Self> {
        let origin = origin.into();
        let map = value
            .as_object()
            .ok_or_else(|| Error::Usage(format!("{origin}: expected a JSON object")))?;
        Ok(Fields { origin, map })
    }

    /// The error for `field`.
    pub(crate) fn error(&self, field: &str, message: impl std::fmt::Display) -> Error {
        Error::Usage(format!("{}: field `{field}`: {message}", self.origin))
    }

    /// The value of `field`, `None` when absent or `null`.
    pub(crate) fn get(&self, field: &str) -> Option<&'a Value> {
        self.map.get(field).filter(|v| !v.is_null())
    }

    /// A nested object.
    pub(crate) fn object(&self, field: &str) -> Result<Option<Fields<'a>>> {
        match self.get(field) {
            None => Ok(None),
            Some(v) if v.is_object() => Ok(Some(Fields::new(
                v,
                format!("{} (field `{field}`)", self.origin),
            )?)),
            Some(v) => Err(self.error(field, format!("expected an object, got {v}"))),
        }
    }

    /// An optional positive integer.
    pub(crate) fn opt_positive(&self, field: &str) -> Result<Option<usize>> {
        match self.get(field) {
            None => Ok(None),
            Some(v) => match v.as_u64() {
                Some(n) if n > 0 => Ok(Some(n as usize)),
                _ => Err(self.error(field, format!("expected a positive integer, got {v}"))),
            },
        }
    }

    /// A positive integer, `default` when absent.
    pub(crate) fn positive(&self, field: &str, default: usize) -> Result<usize> {
        Ok(self.opt_positive(field)?.unwrap_or(default))
    }

    /// An optional integer (may be negative or zero).
    pub(crate) fn opt_int(&self, field: &str) -> Result<Option<i64>> {
        match self.get(field) {
            None => Ok(None),
            Some(v) => v
                .as_i64()
                .map(Some)
                .ok_or_else(|| self.error(field, format!("expected an integer, got {v}"))),
        }
    }

    /// An optional positive finite number.
    pub(crate) fn opt_positive_f64(&self, field: &str) -> Result<Option<f64>> {
        match self.get(field) {
            None => Ok(None),
            Some(v) => match v.as_f64() {
                Some(x) if x.is_finite() && x > 0.0 => Ok(Some(x)),
                _ => Err(self.error(field, format!("expected a positive number, got {v}"))),
            },
        }
    }

    /// A positive finite number, `default` when absent.
    pub(crate) fn positive_f64(&self, field: &str, default: f64) -> Result<f64> {
        Ok(self.opt_positive_f64(field)?.unwrap_or(default))
    }

    /// A boolean, `default` when absent.
    pub(crate) fn bool(&self, field: &str, default: bool) -> Result<bool> {
        match self.get(field) {
            None => Ok(default),
            Some(v) => v
                .as_bool()
                .ok_or_else(|| self.error(field, format!("expected true or false, got {v}"))),
        }
    }

    /// A string, `default` when absent.
    pub(crate) fn string(&self, field: &str, default: &str) -> Result<String> {
        match self.get(field) {
            None => Ok(default.to_string()),
            Some(v) => v
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| self.error(field, format!("expected a string, got {v}"))),
        }
    }
}
