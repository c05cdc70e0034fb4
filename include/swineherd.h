/* libswineherd: the primitives of Swineherd, GNU Shepherd's manager of
 * Guix System containers.  SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every function returns a non-negative value on success and -errno on
 * failure (SWH_PANIC if it panicked: a bug), writes its out-parameters only
 * on success, and leaves a message for swh_last_error (cleared by a
 * success).  Strings are NUL-terminated UTF-8.  Check swh_abi_version()
 * against SWH_ABI_VERSION before calling anything else. */

#ifndef SWINEHERD_H
#define SWINEHERD_H

/* Generated from the Rust sources by tools/gen-header/run (cbindgen): do not edit. */

#include <stddef.h>
#include <stdint.h>

/*
 The version of the C ABI described by `include/swineherd.h`: raised with
 every incompatible change (a function's arguments, a struct's fields).
 */
#define SWH_ABI_VERSION 4

/*
 What an exported function returns when it panicked: below every
 `-errno` (errnos are below 4096), so that a bug is never taken for a
 kernel's answer.  The message, from `swh_last_error`, says where.
 */
#define SWH_PANIC -4096

#define CAPS 9

/*
 A subvolume, from `swh_subvolume_info`.
 */
typedef struct SwhSubvolumeInfo {
  uint64_t id;
  uint64_t parent_id;
  /*
   1 if it is read-only, else 0.
   */
  uint32_t read_only;
  /*
   1 if it was made as a snapshot, else 0.
   */
  uint32_t snapshot;
} SwhSubvolumeInfo;

/*
 The disk usage of a subvolume, from `swh_qgroup_usage`.
 */
typedef struct SwhQgroupUsage {
  /*
   Bytes it references.
   */
  uint64_t referenced;
  /*
   Bytes only it references.
   */
  uint64_t exclusive;
  /*
   Its limit of referenced bytes; `UINT64_MAX`: none.
   */
  uint64_t limit;
} SwhQgroupUsage;

/*
 The limits of a cgroup, for `swh_cgroup_create`; `UINT64_MAX` for none.
 */
typedef struct SwhCgroupLimits {
  /*
   Memory, in bytes.
   */
  uint64_t memory;
  /*
   Swap, in bytes (v1: memory + swap is limited to memory + this).
   */
  uint64_t swap;
  /*
   CPU time per period, in µs; only with `cpu_period_us`.
   */
  uint64_t cpu_quota_us;
  /*
   The period of `cpu_quota_us`, in µs.
   */
  uint64_t cpu_period_us;
  /*
   CPU weight, 1 to 10000 (v1: shares scaled from it).
   */
  uint64_t cpu_weight;
  /*
   Processes and threads.
   */
  uint64_t pids;
  /*
   I/O weight, 1 to 10000 (v2 only: refused on v1).
   */
  uint64_t io_weight;
} SwhCgroupLimits;

/*
 What the kernel accounts for a container, from `swh_cgroup_stats` (the
 C ABI's `SwhCgroupStats`).  Fields the kernel does not provide (e.g.
 memory peak before Linux 5.19 on v2) are 0; `u64::MAX` is `UINT64_MAX`.
 */
typedef struct SwhCgroupStats {
  /*
   CPU time, nanoseconds: total, user, system.
   */
  uint64_t cpu_total_ns;
  uint64_t cpu_user_ns;
  uint64_t cpu_system_ns;
  /*
   Memory in use and its peak, bytes.
   */
  uint64_t memory_current;
  uint64_t memory_peak;
  /*
   The memory limit in force, bytes (`u64::MAX`: none).
   */
  uint64_t memory_limit;
  /*
   Processes (and threads) in the cgroup.
   */
  uint64_t pids_current;
  /*
   The pids limit in force (`u64::MAX`: none).
   */
  uint64_t pids_limit;
  /*
   Processes the OOM killer killed in the cgroup.
   */
  uint64_t oom_kills;
  /*
   Bytes read from block devices (v2 `io.stat`, summed over devices);
   `u64::MAX` where the kernel does not account them here (v1, where
   Swineherd uses no blkio hierarchy).
   */
  uint64_t io_read_bytes;
  /*
   Bytes written to block devices; `u64::MAX`: not accounted.
   */
  uint64_t io_write_bytes;
} SwhCgroupStats;

/*
 The descriptors of a command started by `swh_exec_spawn`, all
 close-on-exec, which the caller owns.
 */
typedef struct SwhExecFds {
  /*
   A pidfd of the relay, readable once the command has ended; then
   call `swh_exec_reap`, or the relay stays a zombie.
   */
  int pidfd;
  /*
   The non-blocking read end of the command's standard output.
   */
  int stdout_fd;
  /*
   The non-blocking read end of the command's standard error.
   */
  int stderr_fd;
  /*
   The non-blocking read end of the relay's report pipe.
   */
  int report_fd;
} SwhExecFds;

/*
 How a command ended, from `swh_exec_reap`.
 */
typedef struct SwhExecOutcome {
  /*
   Its wait status, as `waitpid` makes it.
   */
  int status;
  /*
   The errno of its failed `execve`; 0 if a program ran (the status is
   then an exit with 127).
   */
  int exec_errno;
  /*
   1 if it was killed at its deadline, else 0.
   */
  int timed_out;
} SwhExecOutcome;

/*
 A request handed to a child process by a `swh_*_start` function: two
 descriptors, close-on-exec, which the caller owns and passes to
 `swh_detached_finish`.
 */
typedef struct SwhPending {
  /*
   A pidfd of the child, readable once it is done.
   */
  int pidfd;
  /*
   The descriptor the child leaves its result in.
   */
  int result;
} SwhPending;

/*
 The counters of a network link, from `swh_link_stats`.
 */
typedef struct SwhLinkStats {
  uint64_t rx_bytes;
  uint64_t tx_bytes;
  uint64_t rx_packets;
  uint64_t tx_packets;
  uint64_t rx_dropped;
  uint64_t tx_dropped;
} SwhLinkStats;

/*
 An address of a container, one item of what `swh_container_addresses`
 fills.
 */
typedef struct SwhAddress {
  /*
   `AF_INET` or `AF_INET6`.
   */
  uint32_t family;
  /*
   The prefix length.
   */
  uint32_t prefix;
  /*
   The address in network byte order: its first 4 bytes for `AF_INET`.
   */
  uint8_t address[16];
} SwhAddress;

/*
 A network link and its alias, one item of what `swh_links_owned_by`
 fills; both NUL-terminated.
 */
typedef struct SwhOwnedLink {
  /*
   The link's name (at most 15 bytes).
   */
  uint8_t name[16];
  /*
   The link's alias (at most 255 bytes).
   */
  uint8_t alias[256];
} SwhOwnedLink;

/*
 A host port that containers may reach, one item of the array that
 `swh_nat_setup` takes.
 */
typedef struct SwhHostPort {
  /*
   `IPPROTO_TCP` or `IPPROTO_UDP`.
   */
  uint16_t protocol;
  /*
   The port, 1 to 65535.
   */
  uint16_t port;
} SwhHostPort;

/*
 A published port, one item of the array that `swh_nat_publish` takes.
 */
typedef struct SwhPort {
  /*
   `IPPROTO_TCP` or `IPPROTO_UDP`.
   */
  uint32_t protocol;
  /*
   The host address that receives the connections, in host byte order;
   0 for all of the host's addresses.
   */
  uint32_t host_address;
  /*
   The port on the host, 1 to 65535.
   */
  uint16_t host_port;
  /*
   The port in the container it leads to, 1 to 65535.
   */
  uint16_t container_port;
} SwhPort;

/*
 Copy the message of the last failed call on this thread into BUF, which
 holds LEN bytes, truncated and always NUL-terminated when LEN > 0.
 Return the message's full length in bytes (without the NUL), so that a
 caller whose buffer was too small can call again with a larger one.

 # Safety
 BUF must be NULL (with LEN 0) or valid for writes of LEN bytes.
 */
int swh_last_error(char *buf, size_t len);

/*
 The library's version, a static NUL-terminated string (never freed).
 */
const char *swh_version(void);

/*
 The version of the C ABI this library implements, `SWH_ABI_VERSION` of
 the header it was built with: a caller written for another version must
 not call anything else.
 */
uint32_t swh_abi_version(void);

/*
 Return 1 if PATH is on btrfs, 0 if not.

 # Safety
 PATH must be a NUL-terminated string.
 */
int swh_is_btrfs(const char *path_);

/*
 Create an empty subvolume at PATH.

 # Safety
 PATH must be a NUL-terminated string.
 */
int swh_subvolume_create(const char *path_);

/*
 Make DEST a snapshot of subvolume SOURCE, read-only if READONLY is
 non-zero.

 # Safety
 SOURCE and DEST must be NUL-terminated strings.
 */
int swh_subvolume_snapshot(const char *source, const char *dest, int readonly);

/*
 Delete the subvolume at PATH and the subvolumes nested in it.

 # Safety
 PATH must be a NUL-terminated string.
 */
int swh_subvolume_delete(const char *path_);

/*
 Store in OUT what the subvolume at PATH is.  `-EINVAL` if PATH is not a
 subvolume.

 # Safety
 PATH must be a NUL-terminated string, OUT valid for writing one
 `SwhSubvolumeInfo`.
 */
int swh_subvolume_info(const char *path_, struct SwhSubvolumeInfo *out);

/*
 Limit the bytes the subvolume at PATH references to LIMIT; `u64::MAX`
 removes the limit.

 # Safety
 PATH must be a NUL-terminated string.
 */
int swh_qgroup_limit(const char *path_, uint64_t limit);

/*
 Store in OUT the disk usage of the subvolume at PATH, from its qgroup.

 # Safety
 PATH must be a NUL-terminated string, OUT valid for writing one
 `SwhQgroupUsage`.
 */
int swh_qgroup_usage(const char *path_, struct SwhQgroupUsage *out);

/*
 Return the cgroup layout: 0 unified (v2), 1 hybrid, 2 legacy (v1).
 */
int swh_cgroup_layout(void);

/*
 Create the cgroup RELATIVE (e.g. "swineherd/web") in every hierarchy
 and apply LIMITS (quota and period go together).

 # Safety
 RELATIVE must be a NUL-terminated string, LIMITS NULL or valid for
 reading one `SwhCgroupLimits`.
 */
int swh_cgroup_create(const char *relative, const struct SwhCgroupLimits *limits);

/*
 Remove the cgroup RELATIVE.  Return 1 once it is gone, 0 if processes
 were left in it (they were sent SIGKILL: call again shortly).

 # Safety
 RELATIVE must be a NUL-terminated string.
 */
int swh_cgroup_remove(const char *relative);

/*
 Store the accounting of the cgroup RELATIVE in OUT (`u64::MAX` for
 what is not accounted: disk bytes on v1).

 # Safety
 RELATIVE must be a NUL-terminated string, OUT valid for writing one
 `SwhCgroupStats`.
 */
int swh_cgroup_stats(const char *relative, struct SwhCgroupStats *out);

/*
 Limit the devices of the cgroup RELATIVE to the containers' allow list
 (null, zero, full, tty, console, ptmx, random, urandom, pts, fuse,
 tun): the v1 `devices` controller, or a BPF device program on v2.
 Return 1 if done, 0 where a v1 host has no `devices` controller.

 # Safety
 RELATIVE must be a NUL-terminated string.
 */
int swh_cgroup_restrict_devices(const char *relative);

/*
 Store the accounting of each of the COUNT cgroups RELATIVES[i] in
 OUT[i], and in FOUND[i] 1, or 0 (and OUT[i] zeroed) for one that cannot
 be read, as a container that stopped meanwhile: every container's in one
 call, for `GET /metrics`.  Return how many were found.

 # Safety
 RELATIVES must be NULL (COUNT 0) or valid for reads of COUNT pointers
 to NUL-terminated strings; OUT and FOUND valid for writes of COUNT
 `SwhCgroupStats` and bytes.
 */
int swh_cgroup_stats_many(const char *const *relatives,
                          size_t count,
                          struct SwhCgroupStats *out,
                          uint8_t *found);

/*
 Store the OOM kill count of each of the COUNT cgroups RELATIVES[i] in
 OUT[i], as `swh_cgroup_stats_many` does: one file per cgroup, for the
 API's watch for OOM kills.

 # Safety
 As for `swh_cgroup_stats_many`, OUT holding COUNT `uint64_t`s.
 */
int swh_cgroup_oom_kills_many(const char *const *relatives,
                              size_t count,
                              uint64_t *out,
                              uint8_t *found);

/*
 Finish a request started by a `swh_*_start` function, given its PIDFD
 and RESULT descriptor, without blocking: reap its process and return 0
 if the kernel accepted the request, `-EAGAIN` if it is still under way
 (wait for PIDFD to become readable), or the kernel's `-errno`.  The
 descriptors stay open: close them once this has returned anything but
 `-EAGAIN`.

 # Safety
 PIDFD and RESULT must be the open descriptors of one `SwhPending`.
 */
int swh_detached_finish(int pidfd, int result);

/*
 Start a command and return its host PID.  ARGV (ARGV_LEN bytes) and
 ENVP (ENVP_LEN bytes) are argz buffers: NUL-terminated strings one after
 the other; ARGV's first string is the program, searched in ENVP's PATH.
 With INIT_PID > 0 the command runs in every namespace and the root of
 that process (a container's init) as its uid/gid 0; with 0, on the host.
 Its working directory is `/`, its standard input `/dev/null`, and it
 leads a session of its own; with TIMEOUT_MS > 0 it is killed, with its
 process group, after that many milliseconds.

 With CGROUP not NULL (relative to each hierarchy's root, e.g.
 `swineherd/web`), it starts in that cgroup, so that the container's
 limits and accounting cover it and removing the cgroup ends it.

 The command is the child of a relay process, the program RELAY
 (`swineherd-relay`, an absolute file name), started from a child that
 shares the caller's memory until it execs; the relay reports how the
 command ended through a pipe, never through its exit status, which
 Shepherd's reaper may take.  On success OUT receives its descriptors,
 which the caller must close.

 # Safety
 ARGV and ENVP must be valid for reads of their lengths, CGROUP NULL or
 a NUL-terminated string, RELAY a NUL-terminated string; OUT must be
 valid for writing one `SwhExecFds`.
 */
int swh_exec_spawn(int init_pid,
                   const char *argv,
                   size_t argv_len,
                   const char *envp,
                   size_t envp_len,
                   uint64_t timeout_ms,
                   const char *cgroup,
                   const char *relay,
                   struct SwhExecFds *out);

/*
 Reap the relay behind PIDFD without blocking, and tell how its command
 ended, read from REPORT_FD, in OUT.  Return 0, or `-EAGAIN` if it is
 still running.  The descriptors stay open.

 # Safety
 PIDFD and REPORT_FD must be the open descriptors of one `SwhExecFds`;
 OUT must be valid for writing one `SwhExecOutcome`.
 */
int swh_exec_reap(int pidfd, int report_fd, struct SwhExecOutcome *out);

/*
 Give up on the command behind PIDFD: SIGKILL its relay, which takes the
 command with it.  A command that has ended is fine.  Reap it afterwards
 as usual.

 # Safety
 PIDFD must be the open pidfd of one `SwhExecFds`.
 */
int swh_exec_kill(int pidfd);

/*
 Open PATH, a file name inside the container whose init has host PID
 INIT_PID, for reading; symlinks and `..` are resolved inside the
 container's root, magic links (`/proc/PID/root`…) are refused, and PATH
 must name a regular file.  Store the descriptor (close-on-exec; the
 caller closes it) in *FD.

 # Safety
 PATH must be a NUL-terminated string; FD valid for a write of one `int`.
 */
int swh_open_in_root(int init_pid, const char *path, int *fd);

/*
 Connect to the Unix stream socket PATH, a file name inside the container
 whose init has host PID INIT_PID, resolved as by `swh_open_in_root`
 (never leading outside the container's root).  Store the connected
 socket (non-blocking, close-on-exec; the caller closes it) in *FD.  The
 connection is made at once or refused: it never waits.

 # Safety
 PATH must be a NUL-terminated string; FD valid for a write of one `int`.
 */
int swh_connect_in_root(int init_pid, const char *path, int *fd);

/*
 Create the bridge NAME if needed, set it up and give it ADDRESS/PREFIX.

 # Safety
 NAME and ADDRESS must be NUL-terminated strings.
 */
int swh_bridge_up(const char *name, const char *address, uint8_t prefix);

/*
 Delete the link NAME; a missing link is fine.

 # Safety
 NAME must be a NUL-terminated string.
 */
int swh_link_delete(const char *name);

/*
 Start deleting the link NAME if its alias is OWNER, from a process of
 HELPER (the absolute file name of `swineherd-relay`) that waits for the
 kernel in Shepherd's stead (see `swh_detached_finish`):
 return 1 and store in OUT its pidfd, readable once it is done, and the
 descriptor to pass on with it.  Return 0, leaving OUT alone, if there is
 no link NAME or somebody else owns it.

 # Safety
 HELPER, NAME and OWNER must be NUL-terminated strings, OUT valid for
 writing one `SwhPending`.
 */
int swh_link_delete_owned_start(const char *helper,
                                const char *name,
                                const char *owner,
                                struct SwhPending *out);

/*
 Write the alias of link NAME, which names its owner (empty if none), to
 BUF, NUL-terminated, if it fits in LEN bytes; return its length
 (without the NUL): if that is LEN or more, BUF was left alone and a
 larger one is needed.  `-ENODEV` if there is no NAME.

 # Safety
 NAME must be a NUL-terminated string, BUF valid for writes of LEN bytes.
 */
int swh_link_owner(const char *name, char *buf, size_t len);

/*
 Connect the container whose init is PID to BRIDGE through a veth pair
 whose host side is HOST and whose other side is `eth0` inside, with
 ADDRESS/PREFIX and a default route via GATEWAY.  HOST gets OWNER as its
 alias: only links with that alias are deleted as the container's.
 Before HOST is set up, it gets the filters of container ID (ISOLATED if
 non-zero) in the netdev table TABLE, which must exist.

 # Safety
 Every string must be NUL-terminated.
 */
int swh_connect(int pid,
                const char *bridge,
                const char *host,
                const char *owner,
                const char *address,
                uint8_t prefix,
                const char *gateway,
                const char *table,
                const char *id,
                int isolated);

/*
 Store in OUT the counters of link NAME.

 # Safety
 NAME must be a NUL-terminated string, OUT valid for writing one
 `SwhLinkStats`.
 */
int swh_link_stats(const char *name, struct SwhLinkStats *out);

/*
 Fill ITEMS, an array of CAPACITY `SwhAddress`es, with the addresses of
 the container whose init is PID (loopback excepted), as
 `fill_array` does: the return value is their number, and ITEMS is
 left alone if that is more than CAPACITY.

 # Safety
 ITEMS must be NULL or valid for writes of CAPACITY `SwhAddress`es.
 */
int swh_container_addresses(int pid, struct SwhAddress *items, size_t capacity);

/*
 Fill ITEMS, an array of CAPACITY `SwhOwnedLink`s, with the links whose
 alias starts with PREFIX, as `swh_container_addresses` does.

 # Safety
 PREFIX must be a NUL-terminated string, ITEMS NULL or valid for writes
 of CAPACITY `SwhOwnedLink`s.
 */
int swh_links_owned_by(const char *prefix, struct SwhOwnedLink *items, size_t capacity);

/*
 Fill LINKS and STATS, two arrays of CAPACITY items, with the links
 whose alias starts with PREFIX and their counters (STATS[i] those of
 LINKS[i]), from one dump of the links, as `swh_links_owned_by` does.

 # Safety
 PREFIX must be a NUL-terminated string, LINKS and STATS NULL or valid
 for writes of CAPACITY `SwhOwnedLink`s and `SwhLinkStats`.
 */
int swh_owned_link_stats(const char *prefix,
                         struct SwhOwnedLink *links,
                         struct SwhLinkStats *stats,
                         size_t capacity);

/*
 Bind-mount the network namespace of PID on PATH (e.g. /run/netns/NAME).

 # Safety
 PATH must be a NUL-terminated string.
 */
int swh_netns_attach(int pid, const char *path);

/*
 Unmount and remove PATH, made by `swh_netns_attach`; a missing PATH is
 fine.

 # Safety
 PATH must be a NUL-terminated string.
 */
int swh_netns_detach(const char *path);

/*
 Turn IPv4 forwarding on and replace the nftables tables `ip TABLE` and
 `netdev TABLE` with Swineherd's NAT and filters for BRIDGE (which must
 exist) and SUBNET/PREFIX.  OPEN holds the OPEN_COUNT host ports that
 containers may reach.

 # Safety
 TABLE, BRIDGE and SUBNET must be NUL-terminated strings, OPEN valid for
 reads of OPEN_COUNT `SwhHostPort`s (or NULL if OPEN_COUNT is 0).
 */
int swh_nat_setup(const char *table,
                  const char *bridge,
                  const char *subnet,
                  uint8_t prefix,
                  const struct SwhHostPort *open,
                  size_t open_count);

/*
 Give the host side DEVICE of the veth of container ID, whose address is
 ADDRESS in GATEWAY/PREFIX, its filters (ISOLATED if non-zero) in the
 netdev table TABLE, replacing those it had.

 # Safety
 Every string must be NUL-terminated.
 */
int swh_guard(const char *table,
              const char *id,
              const char *device,
              const char *address,
              const char *gateway,
              uint8_t prefix,
              int isolated);

/*
 Start removing the filters of container ID from the netdev table TABLE,
 from a process of HELPER,
 as `swh_nat_unpublish_start` does; `-ENOENT` from
 `swh_detached_finish` means that the table is gone, and they with it.

 # Safety
 HELPER, TABLE and ID must be NUL-terminated strings, OUT valid for
 writing one `SwhPending`.
 */
int swh_guard_remove_start(const char *helper,
                           const char *table,
                           const char *id,
                           struct SwhPending *out);

/*
 Delete the nftables table `ip TABLE`; a missing one is fine.

 # Safety
 TABLE must be a NUL-terminated string.
 */
int swh_nat_teardown(const char *table);

/*
 Publish the PORTS of container ID, whose address is ADDRESS, in table
 `ip TABLE`, replacing what it published before: the COUNT items of
 PORTS.

 # Safety
 TABLE, ID and ADDRESS must be NUL-terminated strings, PORTS valid for
 reads of COUNT `SwhPort`s (or NULL if COUNT is 0).
 */
int swh_nat_publish(const char *table,
                    const char *id,
                    const char *address,
                    const struct SwhPort *ports,
                    size_t count);

/*
 Start removing what container ID published in the table TABLE, from a
 process of HELPER (the absolute file name of `swineherd-relay`) that
 waits for the kernel in Shepherd's stead: return 1
 and store in OUT its pidfd and the descriptor to pass on with it to
 `swh_detached_finish`, whose `-ENOENT` means that the table is gone
 (and the ports with it).

 # Safety
 HELPER, TABLE and ID must be NUL-terminated strings, OUT valid for
 writing one `SwhPending`.
 */
int swh_nat_unpublish_start(const char *helper,
                            const char *table,
                            const char *id,
                            struct SwhPending *out);

/*
 Store in *OUT the host PID of the init of the container whose script runs
 as ROOT; HINT (0 for none) is a candidate PID, e.g. from a `--pid-file`.
 Return 0, or `-ESRCH` when there is no such init (yet).

 # Safety
 OUT must be valid for a write of one `int`.
 */
int swh_container_init(int root, int hint, int *out);

/*
 Store in *OUT a pidfd (close-on-exec) of process PID, which the caller
 owns and closes; it is readable once PID has exited.  For watching a
 process that is not the caller's child (a container adopted after a
 Shepherd restart). Return 0, or `-ESRCH` when PID is gone.

 # Safety
 OUT must be valid for a write of one `int`.
 */
int swh_pidfd_open(int pid, int *out);

/*
 Send SIGNAL (0: only check that it is alive) to the process behind
 PIDFD, which cannot be another process that reused its PID. Return 0,
 or `-ESRCH` when it has exited.

 # Safety
 PIDFD must be negative (refused) or an open descriptor for the call.
 */
int swh_pidfd_signal(int pidfd, int signal);

/*
 Panic, when `SWINEHERD_SELFTEST=1`: return `SWH_PANIC`.  Otherwise fail
 with `-EPERM`.
 */
int swh_selftest_panic(void);

/*
 Replace the file PATH with the LEN bytes at DATA, atomically and
 durably (temporary file, fsync, rename, fsync of the directory).

 # Safety
 PATH must be a NUL-terminated string, DATA valid for LEN bytes.
 */
int swh_write_atomically(const char *path, const uint8_t *data, size_t len);

/*
 Remove at most BUDGET entries of the tree at PATH, never following
 symlinks nor crossing mount points.  Return 1 once PATH is gone, 0 if
 entries remain (call again), or -errno.

 # Safety
 PATH must be a NUL-terminated string.
 */
int swh_remove_tree_step(const char *path, size_t budget);

/*
 Move the owners and groups of the tree at PATH from host ids
 FROM..FROM+COUNT to TO..TO+COUNT, never following symlinks nor crossing
 mount points (see [`crate::idshift`]).  Return 0 or -errno.

 # Safety
 PATH must be a NUL-terminated string.
 */
int swh_shift_ids(const char *path, uint32_t from, uint32_t to, uint32_t count);

#endif  /* SWINEHERD_H */
