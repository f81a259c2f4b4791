//! Saving generated media to files: the one place the SDK writes files.

use std::io;
use std::path::Path;

use blossom_core::api::Media;

/// Saves an [`Image`](blossom_core::api::Image) or [`Audio`](blossom_core::api::Audio) to a
/// file. In every adapter's prelude, so `image.save("apple.jpg")` reads as a method.
pub trait SaveMedia {
    /// Writes the bytes to `path` atomically: a temporary file beside it, then a rename, so
    /// a reader never sees half a file.
    ///
    /// # Errors
    /// Any IO error creating, writing or renaming the file.
    fn save(&self, path: impl AsRef<Path>) -> io::Result<()>;
}

impl SaveMedia for Media {
    fn save(&self, path: impl AsRef<Path>) -> io::Result<()> {
        write_atomically(path.as_ref(), &self.bytes)
    }
}

/// Writes `bytes` to a temporary file next to `path`, syncs it, then renames it into place.
///
/// # Errors
/// Any IO error; the temporary file is removed on failure.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write as _;
    let file_name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path has no file name"))?;
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(file_name);
    // Unique per process and per write, so concurrent saves of one path never share a file.
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    temp_name.push(format!(".{}.{n}.tmp", std::process::id()));
    let temp = path.with_file_name(temp_name);
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ignored = std::fs::remove_file(&temp);
    }
    result
}
