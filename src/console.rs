//! A container's console log, bounded (issue #14).
//!
//! `swineherd-cgexec --log=FILE --log-size=BYTES` points the container
//! script's standard output and error at a pipe read by a logger process of
//! its own, forked before the script is exec'd: in the container's cgroup,
//! so the CPU and memory a flooding console costs are charged to the
//! container (and bounded by its `--cpus`), never to Shepherd.  The logger
//! appends to FILE; when FILE has reached BYTES it is renamed FILE.1 and
//! a fresh FILE is started.  Older generations are gzip'd (issue #23):
//! FILE.1 becomes FILE.2.gz, the older ones shift up to FILE.KEEP.gz
//! (`--log-keep=KEEP`, default 1; the oldest is dropped).  FILE.1 stays
//! plain, so that `tail` reads on into it.  The compression runs in a child
//! of the logger (in the same cgroup: the container pays for it), so the
//! console is read on meanwhile; the logger waits for it only at the next
//! rotation, or at its end.  It ends when every writer has closed the pipe
//! (the container is gone).

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use flate2::Compression;

use crate::error::{Context, Result};

/// An append-only log file that rotates itself at a size limit.
pub struct RotatingLog {
    path: PathBuf,
    file: File,
    size: u64,
    limit: u64,
    keep: u32,
    /// The child compressing a generation, if any.
    compressor: Option<libc::pid_t>,
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
        Ok(RotatingLog {
            path: path.to_path_buf(),
            file,
            size,
            limit: limit.max(1),
            keep: keep.max(1),
            compressor: None,
        })
    }

    /// The name of generation N of PATH: PATH itself for 0, PATH.1 (plain),
    /// then PATH.N.gz.
    pub fn generation(path: &Path, n: u32) -> PathBuf {
        match n {
            0 => path.to_path_buf(),
            1 => Self::suffixed(path, ".1"),
            n => Self::suffixed(path, &format!(".{n}.gz")),
        }
    }

    fn suffixed(path: &Path, suffix: &str) -> PathBuf {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    }

    /// The name of the previous generation: PATH.1.
    pub fn previous(path: &Path) -> PathBuf {
        Self::generation(path, 1)
    }

    fn rename_if_there(from: &Path, to: &Path) -> Result<()> {
        match std::fs::rename(from, to) {
            Err(err) if err.kind() != io::ErrorKind::NotFound => {
                Err(crate::Error::io("rotate console log", from, &err))
            }
            _ => Ok(()),
        }
    }

    fn rotate(&mut self) -> Result<()> {
        self.wait_for_compressor();
        // PATH.(KEEP-1).gz → PATH.KEEP.gz (replacing it) … PATH.2.gz →
        // PATH.3.gz; a generation missing (fewer rotations so far) is
        // skipped.  PATH.1 → PATH.2, compressed below into PATH.2.gz.
        for n in (2..self.keep).rev() {
            Self::rename_if_there(&Self::generation(&self.path, n), &Self::generation(&self.path, n + 1))?;
        }
        let uncompressed = Self::suffixed(&self.path, ".2");
        if self.keep > 1 {
            Self::rename_if_there(&Self::previous(&self.path), &uncompressed)?;
        }
        std::fs::rename(&self.path, Self::previous(&self.path)).at("rotate console log", &self.path)?;
        self.file = open_append(&self.path)?;
        self.size = 0;
        if self.keep > 1 && uncompressed.exists() {
            self.compressor = start_compressor(&uncompressed, &Self::generation(&self.path, 2));
        }
        Ok(())
    }

    /// Wait for the child compressing a generation, if there is one.
    pub fn wait_for_compressor(&mut self) {
        if let Some(pid) = self.compressor.take() {
            let mut status = 0;
            // SAFETY: PID is our child; STATUS is a valid out-parameter.
            while unsafe { libc::waitpid(pid, &mut status, 0) } < 0
                && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted
            {}
        }
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

/// Copy INPUT to LOG until INPUT ends, then wait for the compression of
/// a generation if one runs.  A write that fails (a full disk) drops that
/// chunk: the pipe is still drained, so the container never blocks on its
/// console.
pub fn copy(input: &mut impl Read, log: &mut RotatingLog) -> io::Result<()> {
    let mut buf = vec![0; 65536];
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => {
                log.wait_for_compressor();
                return Ok(());
            }
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => {
                log.wait_for_compressor();
                return Err(err);
            }
        };
        let _ = log.write(&buf[..n]);
    }
}

/// Compress FROM into TO, gzip'd: through TO.part, renamed when complete;
/// FROM is then removed.
pub fn compress(from: &Path, to: &Path) -> Result<()> {
    let part = RotatingLog::suffixed(to, ".part");
    let mut input = File::open(from).at("open console log", from)?;
    let output = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o640)
        .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
        .open(&part)
        .at("open compressed console log", &part)?;
    let mut encoder = GzEncoder::new(output, Compression::fast());
    io::copy(&mut input, &mut encoder).at("compress console log", from)?;
    encoder.finish().at("compress console log", &part)?;
    std::fs::rename(&part, to).at("rename compressed console log", &part)?;
    std::fs::remove_file(from).at("remove compressed console log", from)
}

/// Fork a child that compresses FROM into TO (see `compress`), at a lower
/// priority; return its PID, or None (FROM left plain) if fork fails.
fn start_compressor(from: &Path, to: &Path) -> Option<libc::pid_t> {
    // SAFETY: the logger is single-threaded (a child of swineherd-cgexec,
    // never of Shepherd), so the child may allocate; it only compresses.
    match unsafe { libc::fork() } {
        -1 => None,
        0 => {
            // SAFETY: plain nice(2) with an integer.
            unsafe { libc::nice(10) };
            let code = i32::from(compress(from, to).is_err());
            // SAFETY: _exit ends the child without running the parent's
            // atexit handlers or flushing its buffers twice.
            unsafe { libc::_exit(code) }
        }
        pid => Some(pid),
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
    fn generations_shift_gzipd_and_the_oldest_goes() {
        let (dir, path) = fresh_log("swh-console-keep-");
        let mut log = RotatingLog::open(&path, 10, 3).unwrap();
        for chunk in [b"aaaaaaaaaa", b"bbbbbbbbbb", b"cccccccccc", b"dddddddddd", b"eeeeeeeeee"] {
            log.write(chunk).unwrap();
        }
        log.wait_for_compressor();
        let read = |n| std::fs::read(RotatingLog::generation(&path, n)).unwrap();
        let unzip = |n| {
            let mut text = Vec::new();
            flate2::read::GzDecoder::new(&read(n)[..]).read_to_end(&mut text).unwrap();
            text
        };
        assert_eq!(read(0), b"eeeeeeeeee");
        assert_eq!(read(1), b"dddddddddd");
        assert_eq!(unzip(2), b"cccccccccc");
        assert_eq!(unzip(3), b"bbbbbbbbbb");
        assert_eq!(RotatingLog::generation(&path, 3), dir.join("c.log.3.gz"));
        assert!(!RotatingLog::generation(&path, 4).exists());
        // Nothing plain or partial is left beside them.
        let mut names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        names.sort();
        assert_eq!(names, ["c.log", "c.log.1", "c.log.2.gz", "c.log.3.gz"]);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
