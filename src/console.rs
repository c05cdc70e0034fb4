//! A container's console log, bounded (issue #14).
//!
//! `swineherd-cgexec --log=FILE --log-size=BYTES` points the container
//! script's standard output and error at a pipe read by a logger process of
//! its own, forked before the script is exec'd: in the container's cgroup,
//! so the CPU and memory a flooding console costs are charged to the
//! container (and bounded by its `--cpus`), never to Shepherd.  The logger
//! appends to FILE; when FILE has reached BYTES it is renamed FILE.1, the
//! older generations shifted to FILE.2 … FILE.KEEP (`--log-keep=KEEP`,
//! default 1; the oldest is dropped) and a fresh FILE is started: the log
//! never takes much more than (KEEP + 1) × BYTES.  Generations are not
//! compressed.  It ends when every writer has closed the pipe (the
//! container is gone).

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::error::{Context, Result};

/// An append-only log file that rotates itself at a size limit.
pub struct RotatingLog {
    path: PathBuf,
    file: File,
    size: u64,
    limit: u64,
    keep: u32,
}

fn open_append(path: &Path) -> Result<File> {
    OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o640)
        .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
        .open(path)
        .at("open console log", path)
}

impl RotatingLog {
    /// Open PATH for appending (creating it); rotate at LIMIT bytes,
    /// keeping KEEP older generations (at least one).
    pub fn open(path: &Path, limit: u64, keep: u32) -> Result<Self> {
        let file = open_append(path)?;
        let size = file.metadata().at("open console log", path)?.len();
        Ok(RotatingLog { path: path.to_path_buf(), file, size, limit: limit.max(1), keep: keep.max(1) })
    }

    /// The name of generation N of PATH: PATH.N (PATH itself for 0).
    pub fn generation(path: &Path, n: u32) -> PathBuf {
        let mut name = path.as_os_str().to_owned();
        if n > 0 {
            name.push(format!(".{n}"));
        }
        PathBuf::from(name)
    }

    /// The name of the previous generation: PATH.1.
    pub fn previous(path: &Path) -> PathBuf {
        Self::generation(path, 1)
    }

    fn rotate(&mut self) -> Result<()> {
        // PATH.(KEEP-1) → PATH.KEEP (replacing it) … PATH.1 → PATH.2; a
        // generation missing (fewer rotations so far) is skipped.
        for n in (1..self.keep).rev() {
            let from = Self::generation(&self.path, n);
            match std::fs::rename(&from, Self::generation(&self.path, n + 1)) {
                Err(err) if err.kind() != io::ErrorKind::NotFound => {
                    return Err(crate::Error::io("rotate console log", &from, &err));
                }
                _ => {}
            }
        }
        std::fs::rename(&self.path, Self::previous(&self.path)).at("rotate console log", &self.path)?;
        self.file = open_append(&self.path)?;
        self.size = 0;
        Ok(())
    }

    /// Append DATA, rotating first if the file is full.
    pub fn write(&mut self, data: &[u8]) -> Result<()> {
        if self.size >= self.limit {
            self.rotate()?;
        }
        self.file.write_all(data).at("write console log", &self.path)?;
        self.size += data.len() as u64;
        Ok(())
    }
}

/// Copy INPUT to LOG until INPUT ends.  A write that fails (a full disk)
/// drops that chunk: the pipe is still drained, so the container never
/// blocks on its console.
pub fn copy(input: &mut impl Read, log: &mut RotatingLog) -> io::Result<()> {
    let mut buf = vec![0; 65536];
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        let _ = log.write(&buf[..n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An empty directory PREFIX-PID under the temporary directory, and the
    /// name of a log in it: (directory, log).
    fn fresh_log(prefix: &str) -> (PathBuf, PathBuf) {
        let dir = std::env::temp_dir().join(format!("{prefix}{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("c.log");
        (dir, path)
    }

    #[test]
    fn the_log_rotates_at_its_limit() {
        let (dir, path) = fresh_log("swh-console-");
        std::fs::write(&path, b"old\n").unwrap();
        let mut log = RotatingLog::open(&path, 1000, 1).unwrap();
        let data = vec![b'x'; 10_000];
        // Appended to what was there; a full file rotates at the next write.
        copy(&mut &data[..], &mut log).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 10_004);
        copy(&mut &data[..], &mut log).unwrap();
        let previous = std::fs::read(RotatingLog::previous(&path)).unwrap();
        assert_eq!(previous.len(), 10_004);
        assert!(previous.starts_with(b"old\n"));
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 10_000);
        // Many small writes: rotation keeps both files near the limit.
        let mut log = RotatingLog::open(&path, 1000, 1).unwrap();
        for _ in 0..1000 {
            log.write(b"0123456789\n").unwrap();
        }
        assert!(std::fs::metadata(&path).unwrap().len() <= 1000);
        assert!(std::fs::metadata(RotatingLog::previous(&path)).unwrap().len() <= 1011);
        assert!(!RotatingLog::generation(&path, 2).exists());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn generations_shift_and_the_oldest_goes() {
        let (dir, path) = fresh_log("swh-console-keep-");
        let mut log = RotatingLog::open(&path, 10, 3).unwrap();
        for chunk in [b"aaaaaaaaaa", b"bbbbbbbbbb", b"cccccccccc", b"dddddddddd", b"eeeeeeeeee"] {
            log.write(chunk).unwrap();
        }
        let read = |n| std::fs::read(RotatingLog::generation(&path, n)).unwrap();
        assert_eq!(read(0), b"eeeeeeeeee");
        assert_eq!(read(1), b"dddddddddd");
        assert_eq!(read(2), b"cccccccccc");
        assert_eq!(read(3), b"bbbbbbbbbb");
        assert!(!RotatingLog::generation(&path, 4).exists());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
