//! The command's words and program: argz buffers as the C ABI passes them,
//! and the file names `execvp` would try, built before the relay forks (the
//! command's fork may not allocate).  Pure.

use std::ffi::{CStr, CString};

/// PATH used to find the program when ENVP has no `PATH=`.
pub const DEFAULT_PATH: &str = "/run/current-system/profile/bin:/run/current-system/profile/sbin:\
/usr/bin:/usr/sbin:/bin:/sbin";

/// Parse an argz buffer ("a\0b\0c\0"): NUL-terminated strings one after
/// the other, as `argz_create` makes them.  A final string without its NUL
/// is accepted.
pub fn parse_argz(buf: &[u8]) -> Vec<CString> {
    let buf = buf.strip_suffix(&[0]).unwrap_or(buf);
    if buf.is_empty() {
        return Vec::new();
    }
    buf.split(|&b| b == 0).map(|s| CString::new(s).expect("split on NUL leaves no NUL")).collect()
}

/// The file names to try for PROGRAM with the search path PATH, as
/// `execvp` does: PROGRAM itself if it contains a slash, else PROGRAM in
/// each directory of PATH (an empty entry meaning the current directory,
/// which is `/` for commands run here).
pub fn candidates(program: &CStr, path: &str) -> Vec<CString> {
    let bytes = program.to_bytes();
    if bytes.contains(&b'/') {
        return vec![program.to_owned()];
    }
    path.split(':')
        .map(|dir| {
            let dir = if dir.is_empty() { "." } else { dir.trim_end_matches('/') };
            let mut name = Vec::with_capacity(dir.len() + 1 + bytes.len());
            name.extend_from_slice(dir.as_bytes());
            name.push(b'/');
            name.extend_from_slice(bytes);
            CString::new(name).expect("no NUL in a CStr or a str split")
        })
        .collect()
}

/// The PATH in ENVP, or [`DEFAULT_PATH`].
pub(crate) fn search_path(envp: &[CString]) -> String {
    envp.iter()
        .find_map(|var| var.to_bytes().strip_prefix(b"PATH="))
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .unwrap_or_else(|| DEFAULT_PATH.to_string())
}
