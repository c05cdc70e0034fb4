//! Open a file inside a container from the host, safely: the file name is
//! resolved with `openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)` relative
//! to the container's root as the host sees it, `/proc/INIT/root`.
//!
//! Every file in a container may be hostile.  With `RESOLVE_IN_ROOT`, `/`
//! and `..` stop at that root and absolute symlinks resolve from it, as if
//! the host had chrooted; with `RESOLVE_NO_MAGICLINKS`, `/proc/PID/root`,
//! `/proc/self/fd/N` and their like — which jump anywhere — are refused
//! (`ELOOP`).  The file is first opened `O_PATH` (opening a FIFO could
//! block, opening a device could have effects), checked to be a regular
//! file, then reopened for reading through `/proc/self/fd`, which opens the
//! very same inode.  Unix sockets (the guest Shepherd's) are connected to
//! the same way, through the `O_PATH` descriptor of their inode.

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::{OFlag, OpenHow, ResolveFlag};
use nix::sys::statfs::FUSE_SUPER_MAGIC;

use crate::error::{Context, Error, Result};

const OP: &str = "open in container";

/// `openat2(DIR, PATH, FLAGS, RESOLVE)`, retried on `EAGAIN` (a rename or
/// mount raced with a scoped resolution).
fn openat2(dir: &impl AsFd, path: &Path, flags: OFlag, resolve: ResolveFlag) -> io::Result<OwnedFd> {
    for _ in 0..16 {
        let how = OpenHow::new().flags(flags | OFlag::O_CLOEXEC).resolve(resolve);
        match nix::fcntl::openat2(dir.as_fd(), path, how) {
            Err(Errno::EAGAIN) => continue,
            opened => return opened.map_err(io::Error::from),
        }
    }
    Err(io::Error::from_raw_os_error(libc::EAGAIN))
}

/// Open PATH with `O_PATH`, resolved inside the directory ROOT as if ROOT
/// were `/`, magic links refused; OP names the operation in errors.
fn resolve_in_root(root: &impl AsFd, path: &str, op: &'static str) -> Result<File> {
    if path.is_empty() {
        return Err(Error::new(op, libc::ENOENT).detail("empty file name"));
    }
    let name = Path::new(path);
    let resolve = ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS;
    let opened = openat2(root, name, OFlag::O_PATH, resolve).map_err(|err| match err.raw_os_error() {
        Some(libc::ELOOP) => Error::new(op, libc::ELOOP)
            .path(name)
            .detail("too many symbolic links, or one that leads into /proc (refused)"),
        _ => Error::io(op, name, &err),
    })?;
    Ok(File::from(opened))
}

/// Open PATH for reading, resolved inside the directory ROOT as if ROOT
/// were `/`.  PATH must name a regular file.
pub fn open_in_root(root: &impl AsFd, path: &str) -> Result<File> {
    let name = Path::new(path);
    let file = resolve_in_root(root, path, OP)?;
    let meta = file.metadata().at(OP, name)?;
    let kind = meta.file_type();
    if kind.is_dir() {
        return Err(Error::new(OP, libc::EISDIR).path(name));
    }
    if !kind.is_file() {
        let what = if kind.is_fifo() {
            "a FIFO"
        } else if kind.is_socket() {
            "a socket"
        } else if kind.is_char_device() || kind.is_block_device() {
            "a device"
        } else {
            "not a regular file"
        };
        return Err(Error::new(OP, libc::EINVAL).path(name).detail(format!("is {what}, not a regular file")));
    }
    if nix::sys::statfs::fstatfs(&file).is_ok_and(|fs| fs.filesystem_type() == FUSE_SUPER_MAGIC) {
        return Err(Error::new(OP, libc::EOPNOTSUPP)
            .path(name)
            .detail("is on a FUSE file system, whose reads could block Shepherd"));
    }
    // Reopen the same inode for reading.  O_NONBLOCK is harmless on a
    // regular file and would protect against one swapped in (impossible).
    let proc = format!("/proc/self/fd/{}", file.as_raw_fd());
    let reopened = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOCTTY | libc::O_NONBLOCK)
        .open(&proc)
        .at(OP, name)?;
    Ok(reopened)
}

/// The root directory (`O_PATH`) of the container whose init has host PID
/// INIT.
fn container_root(init: i32, op: &'static str) -> Result<File> {
    if init <= 0 {
        return Err(Error::new(op, libc::EINVAL).detail(format!("invalid init PID {init}")));
    }
    let root_path = format!("/proc/{init}/root");
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_DIRECTORY)
        .open(&root_path)
        .at(op, &root_path)
}

/// Open PATH inside the root of the container whose init has host PID
/// INIT.
pub fn open_in_container(init: i32, path: &str) -> Result<File> {
    open_in_root(&container_root(init, OP)?, path)
}

const CONNECT: &str = "connect in container";

/// Connect to the Unix stream socket PATH, resolved inside the directory
/// ROOT as [`open_in_root`] resolves files: the socket's inode is opened
/// `O_PATH` first, checked to be a socket, and connected to through
/// `/proc/self/fd/N`, which names that very inode — never what a path
/// would lead to after a rename or a new symlink.  The socket returned is
/// non-blocking and close-on-exec; the connection is made at once or
/// refused (`EAGAIN` when the listener's backlog is full): it never waits.
pub fn connect_in_root(root: &impl AsFd, path: &str) -> Result<OwnedFd> {
    let name = Path::new(path);
    let file = resolve_in_root(root, path, CONNECT)?;
    let kind = file.metadata().at(CONNECT, name)?.file_type();
    if !kind.is_socket() {
        return Err(Error::new(CONNECT, libc::ENOTSOCK).path(name).detail("is not a socket"));
    }
    let proc = format!("/proc/self/fd/{}", file.as_raw_fd());
    let address = nix::sys::socket::UnixAddr::new(proc.as_str()).map_err(|e| Error::new(CONNECT, e as i32))?;
    let socket = nix::sys::socket::socket(
        nix::sys::socket::AddressFamily::Unix,
        nix::sys::socket::SockType::Stream,
        nix::sys::socket::SockFlag::SOCK_NONBLOCK | nix::sys::socket::SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(|e| Error::new(CONNECT, e as i32).path(name))?;
    nix::sys::socket::connect(socket.as_raw_fd(), &address).map_err(|e| Error::new(CONNECT, e as i32).path(name))?;
    Ok(socket)
}

/// Connect to the Unix socket PATH inside the root of the container whose
/// init has host PID INIT (see [`connect_in_root`]).
pub fn connect_in_container(init: i32, path: &str) -> Result<OwnedFd> {
    connect_in_root(&container_root(init, CONNECT)?, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::unix::fs::symlink;
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A fresh fixture root, a hostile container's file system:
    ///
    /// ```text
    /// etc/passwd          "inside passwd"
    /// var/log/messages    "inside log"
    /// abs      -> /etc/passwd              (absolute: must stay inside)
    /// up       -> ../../../../../../etc/passwd
    /// selfroot -> /proc/self/root/etc/passwd (magic link: refused)
    /// procdir  -> /proc                    (inside: no proc there)
    /// loop     -> loop
    /// dir/
    /// ```
    fn fixture() -> PathBuf {
        static N: AtomicUsize = AtomicUsize::new(0);
        let root = std::env::temp_dir().join(format!(
            "swh-inroot-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("etc")).unwrap();
        std::fs::create_dir_all(root.join("var/log")).unwrap();
        std::fs::create_dir_all(root.join("dir")).unwrap();
        std::fs::write(root.join("etc/passwd"), "inside passwd\n").unwrap();
        std::fs::write(root.join("var/log/messages"), "inside log\n").unwrap();
        symlink("/etc/passwd", root.join("abs")).unwrap();
        symlink("../../../../../../etc/passwd", root.join("up")).unwrap();
        symlink("/proc/self/root/etc/passwd", root.join("selfroot")).unwrap();
        symlink("/proc", root.join("procdir")).unwrap();
        symlink("loop", root.join("loop")).unwrap();
        root
    }

    fn read(root: &Path, path: &str) -> Result<String> {
        let dir = File::open(root).unwrap();
        let mut file = open_in_root(&dir, path)?;
        let mut text = String::new();
        file.read_to_string(&mut text).unwrap();
        Ok(text)
    }

    #[test]
    fn plain_files_open() {
        let root = fixture();
        assert_eq!(read(&root, "/var/log/messages").unwrap(), "inside log\n");
        assert_eq!(read(&root, "var/log/messages").unwrap(), "inside log\n");
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn symlinks_and_dotdot_stay_inside() {
        let root = fixture();
        for path in ["/abs", "/up", "/../../../etc/passwd", "/dir/../../../../etc/passwd", "../etc/passwd"] {
            assert_eq!(read(&root, path).unwrap(), "inside passwd\n", "{path}");
        }
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn proc_inside_the_root_is_the_roots() {
        let root = fixture();
        // The fixture has no /proc: /proc/self/root/… resolves inside it and
        // does not exist, whatever the host's /proc says.
        assert_eq!(read(&root, "/selfroot").unwrap_err().errno, libc::ENOENT);
        assert_eq!(read(&root, "/procdir/self/root/etc/passwd").unwrap_err().errno, libc::ENOENT);
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn magic_links_are_refused() {
        // With the real / as root, /proc is procfs: its magic links must be
        // refused, not followed.
        let err = read(Path::new("/"), "/proc/self/root/etc/passwd").unwrap_err();
        assert_eq!(err.errno, libc::ELOOP, "{err}");
        assert!(err.to_string().contains("/proc"), "{err}");
        let err = read(Path::new("/"), "/proc/self/cwd/x").unwrap_err();
        assert_eq!(err.errno, libc::ELOOP, "{err}");
    }

    #[test]
    fn clear_errors() {
        let root = fixture();
        assert_eq!(read(&root, "/nonexistent").unwrap_err().errno, libc::ENOENT);
        assert_eq!(read(&root, "").unwrap_err().errno, libc::ENOENT);
        let err = read(&root, "/dir").unwrap_err();
        assert_eq!(err.errno, libc::EISDIR);
        assert_eq!(err.to_string(), "open in container /dir: Is a directory");
        assert_eq!(read(&root, "/loop").unwrap_err().errno, libc::ELOOP);
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn fifos_are_refused_without_blocking() {
        let root = fixture();
        nix::unistd::mkfifo(&root.join("fifo"), nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
        let err = read(&root, "/fifo").unwrap_err();
        assert_eq!(err.errno, libc::EINVAL);
        assert!(err.to_string().contains("FIFO"), "{err}");
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn sockets_connect_inside_only() {
        use std::os::unix::net::UnixListener;
        let root = fixture();
        let outside = fixture();
        let _listener = UnixListener::bind(root.join("sock")).unwrap();
        let _host = UnixListener::bind(outside.join("host.sock")).unwrap();
        symlink("/sock", root.join("link")).unwrap();
        symlink(outside.join("host.sock"), root.join("out")).unwrap();
        let dir = File::open(&root).unwrap();
        assert!(connect_in_root(&dir, "/sock").is_ok());
        assert!(connect_in_root(&dir, "/link").is_ok());
        // An absolute link toward a host socket resolves inside the root.
        assert_eq!(connect_in_root(&dir, "/out").unwrap_err().errno, libc::ENOENT);
        let err = connect_in_root(&dir, "/etc/passwd").unwrap_err();
        assert_eq!(err.errno, libc::ENOTSOCK, "{err}");
        // Magic links are refused even when the root holds a /proc.
        let slash = File::open("/").unwrap();
        let magic = format!("/proc/self/root{}", outside.join("host.sock").display());
        let err = connect_in_root(&slash, &magic).unwrap_err();
        assert_eq!(err.errno, libc::ELOOP, "{err}");
        std::fs::remove_dir_all(root).unwrap();
        std::fs::remove_dir_all(outside).unwrap();
    }

    #[test]
    fn invalid_init() {
        assert_eq!(open_in_container(0, "/x").unwrap_err().errno, libc::EINVAL);
        assert_eq!(open_in_container(i32::MAX, "/x").unwrap_err().errno, libc::ENOENT);
    }
}
