//! Walking media folders and mirroring their trees, for the batch commands (`vae
//! reconstruct --input-dir`, `vae cache`, `eval`).

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// Every video or image file under `root` (recursively), as paths relative to `root`,
/// sorted so batch jobs are reproducible. Hidden files and folders are skipped.
pub fn media_files(root: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    walk(root, Path::new(""), &mut found)?;
    found.sort();
    Ok(found)
}

fn walk(root: &Path, rel: &Path, found: &mut Vec<PathBuf>) -> Result<()> {
    let dir = root.join(rel);
    let entries =
        std::fs::read_dir(&dir).with_context(|| format!("cannot list {}", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let rel_path = rel.join(&name);
        let kind = entry
            .file_type()
            .with_context(|| format!("cannot stat {}", entry.path().display()))?;
        if kind.is_dir() {
            walk(root, &rel_path, found)?;
        } else if hyv_media::is_video_path(&rel_path) || hyv_media::is_image_path(&rel_path) {
            found.push(rel_path);
        }
    }
    Ok(())
}

/// Counts the failures of a batch job, which reports each bad item and goes on.
#[derive(Default)]
pub struct BatchReport {
    /// Items done.
    pub done: usize,
    /// Items skipped because their output already existed.
    pub skipped: usize,
    /// Items that failed, with their errors.
    pub failed: Vec<(PathBuf, String)>,
}

impl BatchReport {
    /// Records a failure and prints it at once (above any progress bar).
    pub fn fail(&mut self, item: &Path, error: &anyhow::Error, bar: &indicatif::ProgressBar) {
        // `println` on a hidden bar prints nothing; suspend the bar and use stderr instead.
        bar.suspend(|| eprintln!("hyv: skipping {}: {error:#}", item.display()));
        self.failed.push((item.to_path_buf(), format!("{error:#}")));
    }

    /// Prints the summary; an error when any item failed, so scripts notice.
    pub fn finish(self, what: &str) -> Result<()> {
        println!(
            "{what}: {} done, {} already done (skipped), {} failed",
            self.done,
            self.skipped,
            self.failed.len()
        );
        if self.failed.is_empty() {
            return Ok(());
        }
        let list: Vec<String> = self
            .failed
            .iter()
            .map(|(p, e)| format!("{}: {e}", p.display()))
            .collect();
        anyhow::bail!(
            "{} of {} items failed:\n  {}",
            self.failed.len(),
            self.done + self.skipped + self.failed.len(),
            list.join("\n  ")
        )
    }
}

/// The index of the column `name` in a CSV's `headers`, or an error naming the file and
/// listing the columns it has.
pub fn csv_column(path: &Path, headers: &csv::StringRecord, name: &str) -> Result<usize> {
    headers.iter().position(|h| h == name).with_context(|| {
        format!(
            "{}: no `{name}` column (columns: {})",
            path.display(),
            headers.iter().collect::<Vec<_>>().join(", ")
        )
    })
}
