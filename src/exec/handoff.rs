//! What Shepherd hands exec's relay, `swineherd-relay`, across its
//! `execve`: descriptor numbers and flags in its first argument, the
//! command in the others, the command's environment as its own.
//!
//! Shepherd opens everything (see [`super::spawn_in`]) and starts the relay
//! with [`crate::spawn`]; the relay rebuilds the [`Plan`] here — the
//! program's candidate file names, the seccomp filter — in its own small
//! address space, where the command's fork copies next to nothing.

use std::ffi::{c_char, c_int, CStr, CString};
use std::os::fd::RawFd;

use super::{candidates, search_path, Plan};
use crate::error::{Error, Result};

/// The relay's instructions, besides the command and its environment.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Handoff {
    /// (namespace fd, CLONE_NEW* type, index in NAMESPACE_ORDER), in order.
    pub namespaces: Vec<(RawFd, c_int, usize)>,
    pub root: Option<RawFd>,
    /// In a container: become its uid/gid 0, under its seccomp filter.
    pub container: bool,
    pub set_groups: bool,
    /// stdin, stdout, stderr, exec_r, exec_w, report.
    pub pipes: [RawFd; 6],
    pub cgroup_procs: Vec<RawFd>,
    pub timeout_ms: u64,
}

const TAG: &str = "swineherd-relay/1";

fn list<T: ToString>(items: impl Iterator<Item = T>) -> String {
    items.map(|i| i.to_string()).collect::<Vec<_>>().join(",")
}

impl Handoff {
    /// Every descriptor the relay needs, sorted, without duplicates.
    pub fn keep(&self) -> Vec<RawFd> {
        let mut keep: Vec<RawFd> = self.namespaces.iter().map(|&(fd, _, _)| fd).collect();
        keep.extend(self.root);
        keep.extend(&self.cgroup_procs);
        keep.extend(self.pipes);
        keep.sort_unstable();
        keep.dedup();
        keep
    }

    /// One argument: `TAG ns=FD:TYPE:INDEX,… root=FD container=0|1
    /// groups=0|1 pipes=FD,… cgroup=FD,… timeout=MS`.
    pub fn encode(&self) -> String {
        let ns = list(self.namespaces.iter().map(|(fd, t, i)| format!("{fd}:{t}:{i}")));
        format!(
            "{TAG} ns={ns} root={} container={} groups={} pipes={} cgroup={} timeout={}",
            self.root.unwrap_or(-1),
            self.container as u8,
            self.set_groups as u8,
            list(self.pipes.iter()),
            list(self.cgroup_procs.iter()),
            self.timeout_ms
        )
    }

    /// The inverse of [`Handoff::encode`].
    pub fn decode(text: &str) -> Result<Handoff> {
        let bad = |what: &str| {
            Error::new("read the relay's instructions", libc::EINVAL)
                .detail(format!("{what} in {text:?}: swineherd-relay is started by libswineherd only"))
        };
        let mut words = text.split(' ');
        if words.next() != Some(TAG) {
            return Err(bad("no tag"));
        }
        let int = |s: &str| s.parse::<i64>().map_err(|_| bad("not a number"));
        let ints = |s: &str| -> Result<Vec<i64>> { s.split(',').filter(|s| !s.is_empty()).map(int).collect() };
        let mut h = Handoff::default();
        for word in words {
            let (key, value) = word.split_once('=').ok_or_else(|| bad("no '='"))?;
            match key {
                "ns" => {
                    for item in value.split(',').filter(|s| !s.is_empty()) {
                        let v = item.split(':').map(int).collect::<Result<Vec<_>>>()?;
                        let [fd, t, i] = v[..] else { return Err(bad("a namespace not FD:TYPE:INDEX")) };
                        h.namespaces.push((fd as RawFd, t as c_int, i as usize));
                    }
                }
                "root" => h.root = Some(int(value)? as RawFd).filter(|&fd| fd >= 0),
                "container" => h.container = int(value)? != 0,
                "groups" => h.set_groups = int(value)? != 0,
                "pipes" => {
                    let v = ints(value)?;
                    h.pipes = std::array::from_fn(|i| v.get(i).copied().unwrap_or(-1) as RawFd);
                    if v.len() != 6 {
                        return Err(bad("not six pipes"));
                    }
                }
                "cgroup" => h.cgroup_procs = ints(value)?.into_iter().map(|fd| fd as RawFd).collect(),
                "timeout" => h.timeout_ms = int(value)?.max(0) as u64,
                _ => return Err(bad("an unknown key")),
            }
        }
        Ok(h)
    }
}

/// The relay's [`Plan`] for H, the command ARGV (whose strings must outlive
/// it) and the environment ENVP.
pub(crate) fn plan(h: &Handoff, argv: &[CString], envp: &[&CStr], programs: &[CString]) -> Plan {
    let nul = |v: &mut dyn Iterator<Item = *const c_char>| -> Vec<*const c_char> {
        v.chain(std::iter::once(std::ptr::null())).collect()
    };
    let [stdin, stdout, stderr, exec_r, exec_w, report] = h.pipes;
    Plan {
        namespaces: h.namespaces.clone(),
        root: h.root,
        set_ids: h.container,
        set_groups: h.set_groups,
        stdin,
        stdout,
        stderr,
        exec_r,
        exec_w,
        report,
        cgroup_procs: h.cgroup_procs.clone(),
        keep: h.keep(),
        timeout_ms: h.timeout_ms,
        programs: nul(&mut programs.iter().map(|s| s.as_ptr())),
        argv: nul(&mut argv.iter().map(|s| s.as_ptr())),
        envp: nul(&mut envp.iter().map(|s| s.as_ptr())),
        filter: if h.container { crate::seccomp::container_filter() } else { Vec::new() },
    }
}

/// The environment this process was started with, as C strings.
fn environment() -> Vec<&'static CStr> {
    extern "C" {
        static environ: *const *const c_char;
    }
    let mut vars = Vec::new();
    // SAFETY: `environ` is the NULL-terminated array execve gave this
    // process, which nothing here changes.
    unsafe {
        let mut at = environ;
        while !at.is_null() && !(*at).is_null() {
            vars.push(CStr::from_ptr(*at));
            at = at.add(1);
        }
    }
    vars
}

/// `swineherd-relay`'s whole work: read the instructions in ARGS (its
/// arguments after its name), run the relay (see [`super::child`]), never
/// return.  A relay started by hand only says that it is not to be.
pub fn relay_main(args: Vec<CString>) -> ! {
    let Some((first, argv)) = args.split_first() else {
        eprintln!("swineherd-relay: started by libswineherd only");
        std::process::exit(2)
    };
    let handoff = match Handoff::decode(&first.to_string_lossy()) {
        Ok(h) => h,
        Err(err) => {
            eprintln!("swineherd-relay: {err}");
            std::process::exit(2)
        }
    };
    let envp = environment();
    let owned: Vec<CString> = envp.iter().map(|s| (*s).to_owned()).collect();
    let programs = match argv.first() {
        Some(program) => candidates(program, &search_path(&owned)),
        None => Vec::new(),
    };
    let plan = plan(&handoff, argv, &envp, &programs);
    // SAFETY: this process is the relay, with PLAN built from what
    // Shepherd handed over, as `relay` requires.
    unsafe { super::child::relay(&plan) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instructions_survive_their_encoding() {
        let h = Handoff {
            namespaces: vec![(5, libc::CLONE_NEWUSER, 0), (6, libc::CLONE_NEWNS, 7)],
            root: Some(7),
            container: true,
            set_groups: false,
            pipes: [8, 9, 10, 11, 12, 13],
            cgroup_procs: vec![14, 15],
            timeout_ms: 1500,
        };
        assert_eq!(Handoff::decode(&h.encode()).unwrap(), h);
        let host = Handoff { pipes: [3, 4, 5, 6, 7, 8], ..Handoff::default() };
        assert_eq!(Handoff::decode(&host.encode()).unwrap(), host);
        assert_eq!(host.keep(), vec![3, 4, 5, 6, 7, 8]);
    }

    #[test]
    fn foreign_instructions_are_refused() {
        for text in
            ["", "swineherd-relay/1 pipes=1,2", "other ns=", "swineherd-relay/1 ns=1:2", "swineherd-relay/1 x=1"]
        {
            assert!(Handoff::decode(text).is_err(), "{text:?}");
        }
    }
}
