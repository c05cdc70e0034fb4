//! `peek`'s scan: the last line of a file that matches a regular
//! expression, with a cost bounded whatever the file and the pattern.
//!
//! The file is a container's, hence hostile; so may the pattern be (it
//! comes from whoever may run `herd`).  So:
//!
//! - Patterns are compiled by the `regex` crate, whose matching time is
//!   linear in the input (no backtracking; backreferences and look-around
//!   are refused at compile time with the crate's message), with bounded
//!   compiled and lazy-DFA sizes ([`COMPILED_LIMIT`], [`DFA_LIMIT`]).
//! - Lines longer than [`Limits::max_line`] are skipped, and every read
//!   counts against [`Limits::budget`]: a sparse 4 EiB file ends with
//!   [`Outcome::OverBudget`], not after hours.
//! - A caller-supplied `check` runs between chunks, so that the scan stops
//!   as soon as whatever it works for (a container, a client) is gone.
//!
//! The scan runs in `swineherd-peek`, a short-lived process of its own,
//! never in Shepherd (see `scheme/swineherd/exec.scm`).

use std::io::{self, Read, Seek, SeekFrom};

use memchr::{memchr, memrchr};
use regex::bytes::{Regex, RegexBuilder};

use crate::error::{Error, Result};

/// Upper bound on the size of a compiled pattern, in bytes.
const COMPILED_LIMIT: usize = 1 << 20;
/// Upper bound on the lazy DFA's cache, in bytes.
const DFA_LIMIT: usize = 4 << 20;

/// How much one scan may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Lines longer than this many bytes (newline excluded) are skipped.
    pub max_line: usize,
    /// Bytes read at most; past them the scan ends with
    /// [`Outcome::OverBudget`].
    pub budget: u64,
    /// Bytes per read.
    pub chunk: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_line: 65536, budget: 256 << 20, chunk: 65536 }
    }
}

/// What a scan found.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The last matching line, without its newline.
    Found(Vec<u8>),
    /// No line matches.
    NoMatch,
    /// The budget ran out before a matching line was found.
    OverBudget,
}

/// Compile PATTERN, or explain why it is refused.
pub fn compile(pattern: &str) -> Result<Regex> {
    RegexBuilder::new(pattern).size_limit(COMPILED_LIMIT).dfa_size_limit(DFA_LIMIT).build().map_err(|err| {
        let text = match err {
            // The crate's text shows the pattern with a caret under the
            // fault, then "error: WHAT": keep WHAT, one line for herd.
            regex::Error::Syntax(text) => match text.rsplit_once("error: ") {
                Some((_, what)) => format!(
                    "{what}; peek uses the syntax of Rust's regex crate, which matches in linear time: \
no backreferences, no look-around"
                ),
                None => text,
            },
            regex::Error::CompiledTooBig(limit) => {
                format!("the compiled pattern would exceed {limit} bytes; use a simpler one")
            }
            other => other.to_string(),
        };
        Error::new("compile regular expression", libc::EINVAL).detail(text)
    })
}

/// The state of a scan: the pattern, the limits, what was read.
struct Scan<'a> {
    regex: &'a Regex,
    limits: Limits,
    read: u64,
}

impl Scan<'_> {
    fn matches(&self, line: &[u8]) -> bool {
        line.len() <= self.limits.max_line && self.regex.is_match(line)
    }

    /// Count N more bytes read; false once the budget is spent.
    fn spend(&mut self, n: usize) -> bool {
        self.read += n as u64;
        self.read <= self.limits.budget
    }
}

fn io_error(err: io::Error) -> Error {
    Error::new("read", err.raw_os_error().unwrap_or(libc::EIO))
}

/// Scan the first SIZE bytes of FILE backwards, CHUNK bytes at a time, so
/// that the last lines are looked at first.  CHECK runs before each read.
/// A file that has fewer bytes than SIZE by the time they are read is an
/// error ("the file shrank while it was read").
pub fn last_match_backward<F: Read + Seek>(
    file: &mut F,
    size: u64,
    regex: &Regex,
    limits: Limits,
    check: &mut dyn FnMut() -> Result<()>,
) -> Result<Outcome> {
    let mut scan = Scan { regex, limits, read: 0 };
    // CARRY: the start of the file's part after the current chunk, up to
    // its first newline: a line whose beginning is still unread.  SKIP: that
    // line is already too long, and its bytes are not kept.
    let mut carry: Vec<u8> = Vec::new();
    let mut skip = false;
    let mut end = size;
    let mut last_of_file = true;
    let mut buf = Vec::new();
    loop {
        check()?;
        let start = end.saturating_sub(limits.chunk as u64);
        let n = (end - start) as usize;
        if !scan.spend(n) {
            return Ok(Outcome::OverBudget);
        }
        buf.clear();
        buf.resize(n, 0);
        file.seek(SeekFrom::Start(start)).map_err(io_error)?;
        read_exact_or_shrank(file, &mut buf)?;
        buf.extend_from_slice(&carry);
        // Complete lines: after each newline of BUF, last first.
        let mut line_end = buf.len();
        while let Some(newline) = memrchr(b'\n', &buf[..line_end]) {
            let line = &buf[newline + 1..line_end];
            let is_tail = line_end == buf.len();
            // What follows the file's last newline is a line only if it is
            // not empty; the tail of a skipped line is none.
            let counts = !(is_tail && (skip || (last_of_file && line.is_empty())));
            if counts && scan.matches(line) {
                return Ok(Outcome::Found(line.to_vec()));
            }
            if is_tail {
                skip = false;
            }
            line_end = newline;
        }
        let head_is_tail = line_end == buf.len();
        last_of_file = false;
        if start == 0 {
            let head = &buf[..line_end];
            let counts = !(head_is_tail && (skip || (size == end && head.is_empty())));
            if counts && scan.matches(head) {
                return Ok(Outcome::Found(head.to_vec()));
            }
            return Ok(Outcome::NoMatch);
        }
        skip = (head_is_tail && skip) || line_end > limits.max_line;
        carry.clear();
        if !skip {
            carry.extend_from_slice(&buf[..line_end]);
        }
        end = start;
    }
}

fn read_exact_or_shrank<F: Read>(file: &mut F, buf: &mut [u8]) -> Result<()> {
    file.read_exact(buf).map_err(|err| match err.kind() {
        io::ErrorKind::UnexpectedEof => Error::new("read", libc::EIO).detail("the file shrank while it was read"),
        _ => io_error(err),
    })
}

/// Scan FILE forwards to its end, keeping the last matching line: for files
/// whose size says nothing of their contents (`/proc`, `/sys`).  CHECK runs
/// before each read.
pub fn last_match_forward<F: Read>(
    file: &mut F,
    regex: &Regex,
    limits: Limits,
    check: &mut dyn FnMut() -> Result<()>,
) -> Result<Outcome> {
    let mut scan = Scan { regex, limits, read: 0 };
    let mut found: Option<Vec<u8>> = None;
    // LINE: the current line's bytes so far, unless SKIP (it is too long).
    let mut line: Vec<u8> = Vec::new();
    let mut skip = false;
    let mut buf = vec![0; limits.chunk];
    loop {
        check()?;
        let n = match file.read(&mut buf) {
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(io_error(err)),
        };
        if n == 0 {
            break;
        }
        if !scan.spend(n) {
            return Ok(Outcome::OverBudget);
        }
        let mut rest = &buf[..n];
        while !rest.is_empty() {
            let (part, complete) = match memchr(b'\n', rest) {
                Some(i) => (&rest[..i], Some(i + 1)),
                None => (rest, None),
            };
            if !skip {
                if line.len() + part.len() > limits.max_line {
                    skip = true;
                    line.clear();
                } else {
                    line.extend_from_slice(part);
                }
            }
            match complete {
                Some(i) => {
                    if !skip && scan.matches(&line) {
                        found = Some(std::mem::take(&mut line));
                    }
                    line.clear();
                    skip = false;
                    rest = &rest[i..];
                }
                None => rest = &[],
            }
        }
    }
    if !skip && !line.is_empty() && scan.matches(&line) {
        found = Some(line);
    }
    Ok(found.map_or(Outcome::NoMatch, Outcome::Found))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn limits(max_line: usize, chunk: usize) -> Limits {
        Limits { max_line, budget: u64::MAX, chunk }
    }

    fn backward(text: &[u8], pattern: &str, l: Limits) -> Outcome {
        let re = compile(pattern).unwrap();
        last_match_backward(&mut Cursor::new(text), text.len() as u64, &re, l, &mut || Ok(())).unwrap()
    }

    fn forward(text: &[u8], pattern: &str, l: Limits) -> Outcome {
        let re = compile(pattern).unwrap();
        last_match_forward(&mut Cursor::new(text), &re, l, &mut || Ok(())).unwrap()
    }

    /// The obvious answer: split into lines, keep the last that matches.
    fn reference(text: &[u8], pattern: &str, max_line: usize) -> Outcome {
        let re = compile(pattern).unwrap();
        let mut lines: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
        if lines.last().is_some_and(|l| l.is_empty()) {
            lines.pop();
        }
        lines
            .into_iter()
            .rev()
            .find(|l| l.len() <= max_line && re.is_match(l))
            .map_or(Outcome::NoMatch, |l| Outcome::Found(l.to_vec()))
    }

    #[test]
    fn finds_the_last_matching_line() {
        let text = b"one 1\ntwo 2\nthree 3\nfour\n";
        for scan in [backward, forward] {
            assert_eq!(scan(text, "[0-9]$", Limits::default()), Outcome::Found(b"three 3".to_vec()));
            assert_eq!(scan(text, "^one", Limits::default()), Outcome::Found(b"one 1".to_vec()));
            assert_eq!(scan(text, "zzz", Limits::default()), Outcome::NoMatch);
            assert_eq!(
                scan(b"no newline at end", "end$", Limits::default()),
                Outcome::Found(b"no newline at end".to_vec())
            );
            assert_eq!(scan(b"", "^$", Limits::default()), Outcome::NoMatch);
            assert_eq!(scan(b"a\n\nb\n", "^$", Limits::default()), Outcome::Found(b"".to_vec()));
        }
    }

    #[test]
    fn agrees_with_the_obvious_scan() {
        // Pseudo-random files of short and long lines, scanned with small
        // chunks so that lines straddle chunks in every way.
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..3000 {
            let len = (next() % 60) as usize;
            let text: Vec<u8> = (0..len).map(|_| b"ab\n\n"[(next() % 4) as usize]).collect();
            let max_line = 1 + (next() % 8) as usize;
            let chunk = 1 + (next() % 9) as usize;
            for pattern in ["a", "^b", "ab$", "^$", "^a*$", "."] {
                let want = reference(&text, pattern, max_line);
                let text_str = String::from_utf8_lossy(&text);
                assert_eq!(
                    backward(&text, pattern, limits(max_line, chunk)),
                    want,
                    "{text_str:?} {pattern} {max_line} {chunk}"
                );
                assert_eq!(
                    forward(&text, pattern, limits(max_line, chunk)),
                    want,
                    "{text_str:?} {pattern} {max_line} {chunk}"
                );
            }
        }
    }

    #[test]
    fn long_lines_are_skipped() {
        let mut text = vec![b'a'; 100];
        text.extend_from_slice(b"\nshort a\n");
        text.extend(vec![b'a'; 100]);
        text.push(b'\n');
        for scan in [backward, forward] {
            assert_eq!(scan(&text, "a", limits(10, 16)), Outcome::Found(b"short a".to_vec()));
        }
    }

    #[test]
    fn the_budget_ends_the_scan() {
        let text = vec![b'x'; 1 << 16];
        let l = Limits { max_line: 100, budget: 4096, chunk: 1024 };
        assert_eq!(backward(&text, "y", l), Outcome::OverBudget);
        assert_eq!(forward(&text, "y", l), Outcome::OverBudget);
    }

    #[test]
    fn check_stops_the_scan() {
        let re = compile("y").unwrap();
        let text = vec![b'x'; 4096];
        let mut calls = 0;
        let mut check = || {
            calls += 1;
            if calls > 2 {
                Err(Error::new("scan", libc::ESRCH))
            } else {
                Ok(())
            }
        };
        let err = last_match_backward(&mut Cursor::new(&text), 4096, &re, limits(100, 16), &mut check).unwrap_err();
        assert_eq!(err.errno, libc::ESRCH);
    }

    #[test]
    fn a_shrunk_file_is_an_error() {
        let re = compile("a").unwrap();
        let err =
            last_match_backward(&mut Cursor::new(b"abc\n"), 100, &re, Limits::default(), &mut || Ok(())).unwrap_err();
        assert!(err.to_string().contains("shrank"), "{err}");
    }

    #[test]
    fn backtracking_patterns_are_refused_or_linear() {
        let err = compile(r"(a*)*\1$").unwrap_err();
        assert!(err.to_string().contains("backreferences are not supported"), "{err}");
        // The patterns that took Guile seconds on 60 KB lines end at once
        // (scenario 14 times them in Shepherd; a backtracking engine would
        // hang here).
        let line = vec![b'a'; 60000];
        assert!(matches!(forward(&line, "(a+)+$", limits(1 << 20, 1 << 16)), Outcome::Found(_)));
        for pattern in ["(a*)*b$", "[0-9]+$", " +$"] {
            assert_eq!(forward(&line, pattern, limits(1 << 20, 1 << 16)), Outcome::NoMatch);
        }
        let err = compile("(((a{100}){100}){100})").unwrap_err();
        assert!(err.to_string().contains("exceed"), "{err}");
    }
}
