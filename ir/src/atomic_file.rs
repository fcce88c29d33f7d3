//! Writing files so that a crash never leaves a half-written file under the real name.

use std::fs;
use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` atomically: the data goes to a hidden temporary file in the same
/// directory (created if missing), is flushed to disk, and is then renamed over `path`.
/// On failure the temporary file is removed and `path` is untouched.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let file_name = path
        .file_name()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file path"))?;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    if let Some(dir) = dir {
        fs::create_dir_all(dir)?;
    }
    let tmp = path.with_file_name(format!(
        ".{}.{}.tmp",
        file_name.to_string_lossy(),
        std::process::id()
    ));
    let written = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if written.is_err() {
        // Best effort: the temporary file is garbage either way.
        let _ = fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_creates_directories_and_leaves_no_temporary() {
        let dir = std::env::temp_dir().join(format!("hyv-atomic-{}", std::process::id()));
        let path = dir.join("sub").join("a.txt");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(dir.join("sub"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "temporary left behind: {names:?}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn failure_leaves_target_untouched() {
        let dir = std::env::temp_dir().join(format!("hyv-atomic-fail-{}", std::process::id()));
        fs::create_dir_all(dir.join("target_is_dir")).unwrap();
        // Renaming a file over a non-empty directory fails.
        fs::write(dir.join("target_is_dir").join("x"), b"keep").unwrap();
        assert!(write_atomic(&dir.join("target_is_dir"), b"data").is_err());
        assert_eq!(
            fs::read(dir.join("target_is_dir").join("x")).unwrap(),
            b"keep"
        );
        assert_eq!(
            fs::read_dir(&dir).unwrap().count(),
            1,
            "temporary left behind"
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
