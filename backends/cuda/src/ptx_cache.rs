//! [`PtxCache`]: compiled PTX on disk, keyed by a hash of (source, options, NVRTC version).

use std::path::{Path, PathBuf};

/// A folder of `<kernel name>-<key>.ptx` files. Writes go to a temporary name and are
/// renamed, so a crash never leaves a truncated PTX under a real name; failures to read or
/// write only cost a recompilation.
#[derive(Debug, Clone)]
pub struct PtxCache {
    dir: Option<PathBuf>,
}

impl PtxCache {
    /// The cache in `$HYV_CACHE_DIR`, else `$XDG_CACHE_HOME/hyv/ptx`, else
    /// `~/.cache/hyv/ptx`; disabled when none of them is set.
    pub fn from_env() -> Self {
        let var = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let dir = var("HYV_CACHE_DIR")
            .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("hyv").join("ptx")))
            .or_else(|| var("HOME").map(|d| d.join(".cache").join("hyv").join("ptx")));
        PtxCache { dir }
    }

    /// A cache in `dir`.
    pub fn in_dir(dir: impl Into<PathBuf>) -> Self {
        PtxCache {
            dir: Some(dir.into()),
        }
    }

    /// No cache: every kernel compiles.
    pub fn disabled() -> Self {
        PtxCache { dir: None }
    }

    /// The folder, when the cache is enabled.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    fn path(&self, name: &str, key: u64) -> Option<PathBuf> {
        Some(self.dir.as_ref()?.join(format!("{name}-{key:016x}.ptx")))
    }

    /// The cached PTX of kernel `name` under `key`, if any.
    pub fn load(&self, name: &str, key: u64) -> Option<String> {
        std::fs::read_to_string(self.path(name, key)?).ok()
    }

    /// Caches `ptx` (best effort).
    pub fn store(&self, name: &str, key: u64, ptx: &str) {
        let (Some(dir), Some(path)) = (&self.dir, self.path(name, key)) else {
            return;
        };
        if std::fs::create_dir_all(dir).is_ok() {
            let _ = hyv_ir::write_atomic(&path, ptx.as_bytes());
        }
    }
}
