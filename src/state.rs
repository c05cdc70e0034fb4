//! Durable records: a file replaced atomically, so that a crash at any
//! moment leaves either the old or the new content, never a torn one.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::error::{Context, Error, Result};

/// Replace PATH with DATA: write a temporary file in the same directory,
/// fsync it, rename it over PATH, then fsync the directory so that the
/// rename itself is durable.
pub fn write_atomically(path: &Path, data: &[u8]) -> Result<()> {
    const OP: &str = "write record";
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(Error::new(OP, libc::EINVAL).path(path).detail("no directory"));
    };
    let tmp = dir.join(format!(".{}.tmp-{}", name.to_string_lossy(), std::process::id()));
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
            .open(&tmp)
            .at(OP, &tmp)?;
        file.write_all(data).at(OP, &tmp)?;
        file.sync_all().at("fsync record", &tmp)?;
        fs::rename(&tmp, path).at("rename record", path)?;
        File::open(dir).and_then(|d| d.sync_all()).at("fsync directory", dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_content_and_leaves_no_temporary() {
        let dir = std::env::temp_dir().join(format!("swh-state-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("web.scm");
        write_atomically(&path, b"(old)").unwrap();
        write_atomically(&path, b"(new)").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "(new)");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1, "no temporary file left");
        let err = write_atomically(&dir.join("missing/x"), b"").unwrap_err();
        assert_eq!(err.errno, libc::ENOENT);
        fs::remove_dir_all(dir).unwrap();
    }
}
