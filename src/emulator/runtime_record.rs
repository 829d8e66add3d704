//! A running `scale0 emulator` records its endpoint in the user's runtime directory, so
//! that one-shot `--demo` commands find it and all see one consistent world.

use std::path::{Path, PathBuf};

/// `$XDG_RUNTIME_DIR/scale0/emulator-endpoint`, or the same under the temp directory.
pub fn path() -> PathBuf {
    let base = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|p| p.is_dir())
        .unwrap_or_else(std::env::temp_dir);
    base.join("scale0").join("emulator-endpoint")
}

pub fn write(endpoint: &str) -> std::io::Result<PathBuf> {
    let path = path();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&path, format!("{endpoint}\n"))?;
    Ok(path)
}

/// The recorded endpoint, if any (whether it still answers is the caller's to check).
pub fn read() -> Option<String> {
    let text = std::fs::read_to_string(path()).ok()?;
    let endpoint = text.trim();
    endpoint
        .starts_with("http://127.0.0.1:")
        .then(|| endpoint.to_string())
}

/// Removes the record if it is still ours (another emulator may have replaced it).
pub fn remove(path: &Path, endpoint: &str) {
    if std::fs::read_to_string(path).is_ok_and(|t| t.trim() == endpoint) {
        let _ = std::fs::remove_file(path);
    }
}
