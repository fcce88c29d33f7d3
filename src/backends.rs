//! The backends this build of hyv offers, chosen by name with `--backend`.

use anyhow::{bail, Result};
use hyv_backend_reference::ReferenceBackend;
use hyv_runtime::Backend;
use std::sync::Arc;

/// Names accepted by `--backend`: `reference` (the oracle interpreter) and
/// `reference-primitives` (the same, but graph mode decomposes every composite op).
pub const BACKEND_NAMES: [&str; 2] = ["reference", "reference-primitives"];

/// The backend called `name`.
pub fn backend_by_name(name: &str) -> Result<Arc<dyn Backend>> {
    match name {
        "reference" => Ok(Arc::new(ReferenceBackend::new())),
        "reference-primitives" => Ok(Arc::new(ReferenceBackend::primitives_only())),
        other => bail!(
            "unknown backend `{other}` (this build has: {})",
            BACKEND_NAMES.join(", ")
        ),
    }
}
