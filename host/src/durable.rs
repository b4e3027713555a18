//! Files that must survive a crash: written aside and renamed, never half-written.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Replaces the file at `path` with `contents` atomically and durably: written aside, synced,
/// renamed, the directory synced.
pub fn save_atomically(path: &Path, contents: &[u8]) -> Result<()> {
    let mut aside = path.as_os_str().to_owned();
    aside.push(".new");
    let aside = PathBuf::from(aside);
    let mut file =
        File::create(&aside).with_context(|| format!("cannot write {}", aside.display()))?;
    file.write_all(contents)?;
    file.sync_data()?;
    fs::rename(&aside, path).with_context(|| format!("cannot write {}", path.display()))?;
    if let Some(dir) = path.parent().and_then(|d| File::open(d).ok()) {
        // The rename itself is durable only once the directory is synced.
        let _ = dir.sync_all();
    }
    Ok(())
}
