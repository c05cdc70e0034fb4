//! The error type shared by every primitive: what was being done, on which
//! path or object, and the errno underneath.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// A failed operation.  It keeps the kernel's errno so that the Scheme side
/// can raise a `system-error` its callers can match on (`ENOENT`, `EEXIST`,
/// `EBUSY`…), and enough context for a human to act on the message.
#[derive(Debug)]
pub struct Error {
    /// The operation, e.g. `"read"` or `"find container init"`.
    pub op: &'static str,
    /// The file or object the operation was about, if any.
    pub path: Option<PathBuf>,
    /// A positive errno value.
    pub errno: i32,
    /// Extra explanation; when absent, `strerror(errno)` is used.
    pub detail: Option<String>,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An error with errno ERRNO during OP.
    pub fn new(op: &'static str, errno: i32) -> Self {
        Error { op, path: None, errno, detail: None }
    }

    /// Attach the PATH the operation was about.
    pub fn path(mut self, path: impl AsRef<Path>) -> Self {
        self.path = Some(path.as_ref().to_path_buf());
        self
    }

    /// Replace the `strerror` text with DETAIL.
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// An error from an `io::Error` during OP on PATH.
    pub fn io(op: &'static str, path: impl AsRef<Path>, err: &io::Error) -> Self {
        Error::new(op, err.raw_os_error().unwrap_or(libc::EIO)).path(path)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.op)?;
        if let Some(path) = &self.path {
            write!(f, " {}", path.display())?;
        }
        match &self.detail {
            Some(detail) => write!(f, ": {detail}"),
            None => write!(f, ": {}", strerror(self.errno)),
        }
    }
}

impl std::error::Error for Error {}

/// The C library's text for ERRNO, without Rust's " (os error N)" suffix.
pub fn strerror(errno: i32) -> String {
    let text = io::Error::from_raw_os_error(errno).to_string();
    match text.rfind(" (os error ") {
        Some(end) => text[..end].to_string(),
        None => text,
    }
}

/// Attach an operation and a path to an `io::Result`, in one line at the
/// call site: `fs::read(&p).at("read", &p)?`.
pub trait Context<T> {
    fn at(self, op: &'static str, path: impl AsRef<Path>) -> Result<T>;
}

impl<T> Context<T> for io::Result<T> {
    fn at(self, op: &'static str, path: impl AsRef<Path>) -> Result<T> {
        self.map_err(|err| Error::io(op, path, &err))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_names_operation_path_and_errno() {
        let err = Error::new("read", libc::ENOENT).path("/proc/1/status");
        assert_eq!(err.to_string(), "read /proc/1/status: No such file or directory");
    }

    #[test]
    fn detail_replaces_strerror() {
        let err = Error::new("find container init", libc::ESRCH).detail("not started yet");
        assert_eq!(err.to_string(), "find container init: not started yet");
        assert_eq!(err.errno, libc::ESRCH);
    }

    #[test]
    fn context_keeps_the_kernel_errno() {
        let err = std::fs::read("/nonexistent/x").at("read", "/nonexistent/x").unwrap_err();
        assert_eq!(err.errno, libc::ENOENT);
        assert!(err.to_string().starts_with("read /nonexistent/x: "));
    }
}
