;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

(define-module (swineherd ffi)
  #:use-module (system foreign)
  #:use-module (system foreign-library)
  #:use-module (rnrs bytevectors)
  #:use-module (ice-9 match)
  #:use-module (srfi srfi-1)
  #:use-module (srfi srfi-11)
  #:use-module (srfi srfi-26)
  #:export (libswineherd-file-name
            library-version
            container-init-pid
            pidfd-open
            pidfd-signal
            remove-tree-step
            shift-ids
            restrict-cgroup-devices
            btrfs?
            create-subvolume
            snapshot-subvolume
            delete-subvolume
            subvolume-info
            set-disk-limit
            disk-usage
            bridge-up
            delete-link
            connect-container
            guard-container
            unguard-container-start
            link-statistics
            owned-link-statistics
            container-addresses
            links-owned-by
            link-owner
            delete-owned-link-start
            attach-netns
            detach-netns
            nat-setup
            nat-teardown
            publish-ports
            unpublish-ports-start
            cgroup-layout
            create-cgroup
            remove-cgroup-step
            cgroup-statistics
            cgroups-statistics
            cgroups-oom-kills
            cgexec-file-name
            peek-file-name
            relay-file-name
            write-file-atomically
            selftest-panic
            detached-finish
            exec-spawn
            exec-reap
            exec-kill
            open-in-container
            connect-in-container))

;;; Commentary:
;;;
;;; The binding of libswineherd, the Rust library that implements
;;; Swineherd's primitives; its C ABI is include/swineherd.h, which this
;;; module mirrors: the structs below are the header's, field by field, and
;;; %abi-version is its SWH_ABI_VERSION, checked when the library is
;;; loaded.  Every C function returns a non-negative value on success and
;;; -errno on failure (SWH_PANIC if it panicked), and leaves a message that
;;; `swh_last_error' copies out; the procedures here turn a failure into a
;;; `system-error' exception carrying that message and the errno, like
;;; Guile's own syscall wrappers, and a panic into an `error' naming it.
;;; Strings cross as UTF-8, always (`c-string').
;;;
;;; It is over 400 lines because it binds every function of the header, a
;;; few lines each; it holds bindings only, and uses neither Fibers nor
;;; Shepherd: waiting for the requests handed to a child process is
;;; `(swineherd detached)''s, running commands `(swineherd exec)''s.
;;;
;;; Code:

(define %installed-library #f)
(define %installed-cgexec #f)
(define %installed-peek #f)
(define %installed-relay #f)
;; The absolute file names of the installed libswineherd.so,
;; swineherd-cgexec, swineherd-peek and swineherd-relay: `make install'
;; writes them into the lines above, in the copy of this module it
;; installs.  #f in a checkout.

(define (libswineherd-file-name)
  "Return the file name of libswineherd to load: $SWINEHERD_LIBRARY when
set (pre-inst-env sets it), else the installed library's absolute file name
when this module is an installed copy, else the library built in the
checkout this module comes from, else plain \"libswineherd\" for the dynamic
loader to find in its usual places."
  (define (built-in-checkout)
    (let ((here (search-path %load-path "swineherd/ffi.scm")))
      (and here
           (let ((candidate (string-append (dirname (dirname (dirname here)))
                                           "/target/release/libswineherd.so")))
             (and (file-exists? candidate) candidate)))))
  (or (getenv "SWINEHERD_LIBRARY")
      %installed-library
      (built-in-checkout)
      "libswineherd"))

(define %abi-version
  ;; SWH_ABI_VERSION of the include/swineherd.h this module mirrors.
  4)

(define (check-abi-version lib file)
  "Return LIB, the library loaded from FILE, if its C ABI is %abi-version;
otherwise raise an error naming both versions and FILE."
  (let ((version (catch 'misc-error
                   (lambda ()
                     ((foreign-library-function lib "swh_abi_version"
                                                #:return-type uint32)))
                   (const #f))))
    (unless (eqv? version %abi-version)
      (error (format #f "~a implements version ~a of libswineherd's C ABI, \
but (swineherd ffi) needs version ~a: rebuild it with `make' in the \
Swineherd checkout, or point SWINEHERD_LIBRARY at a matching build"
                     file (or version "0 (it has no swh_abi_version)")
                     %abi-version)))
    lib))

(define libswineherd
  ;; Loaded on first use, so that loading this module never fails.
  (delay
    (let ((file (libswineherd-file-name)))
      (check-abi-version
       (catch 'misc-error                ;what dlopen's failures raise
         (lambda ()
           (load-foreign-library file))
         (lambda (key subr message args . rest)
           (error (format #f "cannot load ~a (~a); build it with `make' in \
the Swineherd checkout, or point SWINEHERD_LIBRARY at it"
                          file (apply format #f message args)))))
       file))))

(define (c-string str)
  "Return a pointer to STR as a NUL-terminated UTF-8 string, for one call:
the library copies what it keeps."
  (string->pointer str "UTF-8"))

(define (library-function name return-type arg-types)
  "Return a procedure calling NAME in libswineherd, resolved on first call."
  (let ((proc (delay (foreign-library-function (force libswineherd) name
                                               #:return-type return-type
                                               #:arg-types arg-types))))
    (lambda args
      (apply (force proc) args))))

(define %last-error
  (library-function "swh_last_error" int (list '* size_t)))

(define (call-with-text-buffer proc)
  "Call (PROC POINTER SIZE) with buffers of growing SIZE until the text it
reports fits; return the text.  PROC returns the text's length, as the
`swh_*' functions that fill a caller's buffer do."
  (let loop ((size 256))
    (let* ((buffer (make-bytevector size 0))
           (length (proc (bytevector->pointer buffer) size)))
      (if (< length size)
          (pointer->string (bytevector->pointer buffer) length "UTF-8")
          (loop (+ length 1))))))

(define (last-error-message)
  "Return the message left by the last failed libswineherd call."
  (call-with-text-buffer %last-error))

(define %panic
  ;; SWH_PANIC: what a function that panicked returns.
  -4096)

(define (check who result)
  "Return RESULT, a libswineherd return value, if it is non-negative;
otherwise throw a `system-error' for WHO with the library's message and the
errno -RESULT, or, if the library panicked, an error with its message."
  (cond ((not (negative? result)) result)
        ((= result %panic)
         (scm-error 'misc-error (symbol->string who) "~A"
                    (list (last-error-message)) #f))
        (else
         (throw 'system-error who "~A" (list (last-error-message))
                (list (- result))))))

(define (int-out)
  "Return a fresh bytevector for one C `int' out-parameter."
  (make-bytevector (sizeof int) 0))

(define (int-out-ref bv)
  "Return the `int' stored in BV by a C function."
  (bytevector-sint-ref bv 0 (native-endianness) (sizeof int)))

;;;
;;; The structs of include/swineherd.h.
;;;

(define (array type count)
  "Return the foreign type of a C array of COUNT TYPEs, for
`define-c-struct': a struct of COUNT fields, laid out as the array is."
  (make-list count type))

(define-syntax-rule (define-c-struct name (field type) ...)
  "Define NAME as the layout of a C struct of include/swineherd.h: its
FIELDs, as symbols, with their foreign TYPEs, in the header's order."
  (define name (list (cons 'field type) ...)))

(define (c-struct-buffer struct)
  "Return a fresh zeroed bytevector that holds one STRUCT."
  (make-bytevector (sizeof (map cdr struct)) 0))

(define (c-struct->alist struct buffer)
  "Return the fields of STRUCT stored in BUFFER as an alist."
  (map cons (map car struct)
       (parse-c-struct (bytevector->pointer buffer) (map cdr struct))))

(define (alist->c-struct struct alist)
  "Return a pointer to a STRUCT whose fields are the values in ALIST."
  (make-c-struct (map cdr struct)
                 (map (lambda (field) (assq-ref alist (car field))) struct)))

(define (call-with-c-struct who struct call)
  "Call (CALL POINTER), a libswineherd function whose out-parameter is one
STRUCT at POINTER, and check its result for WHO; return two values: the
result and the fields it stored, as an alist."
  (let* ((buffer (c-struct-buffer struct))
         (result (check who (call (bytevector->pointer buffer)))))
    (values result (c-struct->alist struct buffer))))

(define (c-struct-out who struct call)
  "Return the fields of STRUCT that CALL stored, as `call-with-c-struct'."
  (call-with-values (lambda () (call-with-c-struct who struct call))
    (lambda (result fields) fields)))

(define-c-struct %cgroup-limits-struct
  (memory uint64) (swap uint64) (cpu-quota-us uint64) (cpu-period-us uint64)
  (cpu-weight uint64) (pids uint64) (io-weight uint64))

(define-c-struct %cgroup-stats-struct
  (cpu-total-ns uint64) (cpu-user-ns uint64) (cpu-system-ns uint64)
  (memory-current uint64) (memory-peak uint64) (memory-limit uint64)
  (pids-current uint64) (pids-limit uint64) (oom-kills uint64)
  (io-read-bytes uint64) (io-write-bytes uint64))

(define-c-struct %subvolume-info-struct
  (id uint64) (parent-id uint64) (read-only uint32) (snapshot uint32))

(define-c-struct %qgroup-usage-struct
  (referenced uint64) (exclusive uint64) (limit uint64))

(define-c-struct %link-stats-struct
  (rx-bytes uint64) (tx-bytes uint64) (rx-packets uint64) (tx-packets uint64)
  (rx-dropped uint64) (tx-dropped uint64))

(define-c-struct %pending-struct
  (pidfd int) (result int))

(define-c-struct %exec-fds-struct
  (pidfd int) (stdout-fd int) (stderr-fd int) (report-fd int))

(define-c-struct %exec-outcome-struct
  (status int) (exec-errno int) (timed-out int))

(define-c-struct %host-port-struct
  (protocol uint16) (port uint16))

(define-c-struct %port-struct
  (protocol uint32) (host-address uint32) (host-port uint16)
  (container-port uint16))

(define-c-struct %address-struct
  (family uint32) (prefix uint32) (address (array uint8 16)))

(define-c-struct %owned-link-struct
  (name (array uint8 16)) (alias (array uint8 256)))

(define (c-struct-array->alists struct buffer count)
  "Return the COUNT STRUCTs stored in BUFFER, as alists."
  (let ((size (sizeof (map cdr struct))))
    (map (lambda (index)
           (map cons (map car struct)
                (parse-c-struct (bytevector->pointer buffer (* index size))
                                (map cdr struct))))
         (iota count))))

(define (call-with-c-struct-arrays who structs proc)
  "Call (PROC POINTER... CAPACITY), one POINTER to an array of CAPACITY
items per struct of STRUCTS, with a growing CAPACITY until the list it
reports fits; return its items, each the list of its alists, one per
struct (item i of each array describes the same thing).  PROC returns the
number of items, as the `swh_*' functions that fill a caller's arrays do
(leaving them alone when they do not fit); WHO names it in errors."
  (let loop ((capacity 16))
    (let* ((buffers (map (lambda (struct)
                           (make-bytevector
                            (* capacity (sizeof (map cdr struct))) 0))
                         structs))
           (count (check who (apply proc
                                    (append (map bytevector->pointer buffers)
                                            (list capacity))))))
      (if (<= count capacity)
          (apply map list
                 (map (lambda (struct buffer)
                        (c-struct-array->alists struct buffer count))
                      structs buffers))
          (loop count)))))

(define (call-with-c-struct-array who struct proc)
  "Call (PROC POINTER CAPACITY) with arrays of STRUCTs of growing CAPACITY
until the list it reports fits; return its items as alists (see
`call-with-c-struct-arrays')."
  (map car (call-with-c-struct-arrays who (list struct) proc)))

(define (c-array->string bytes)
  "Return the NUL-terminated UTF-8 text in BYTES, a list of octets."
  (utf8->string (u8-list->bytevector (take-while positive? bytes))))

(define (c-struct-array struct alists)
  "Return two values: a pointer to an array of STRUCTs, one per alist of
ALISTS (as `alist->c-struct' takes them), and their count.  This is how a
list crosses the C ABI: items of a `#[repr(C)]' struct and a count, never
text that the other side parses again."
  (let* ((size (sizeof (map cdr struct)))
         (count (length alists))
         (array (make-bytevector (max 1 (* count size)) 0)))
    (for-each (lambda (index alist)
                (bytevector-copy! (pointer->bytevector
                                   (alist->c-struct struct alist) size)
                                  0 array (* index size) size))
              (iota count) alists)
    (values (bytevector->pointer array) count)))

(define (protocol-number protocol)
  "Return the IPPROTO_* number of PROTOCOL, `tcp' or `udp'."
  (match protocol
    ('tcp IPPROTO_TCP)
    ('udp IPPROTO_UDP)))

(define (library-version)
  "Return the version string of the loaded libswineherd."
  (pointer->string
   ((foreign-library-function (force libswineherd) "swh_version"
                              #:return-type '* #:arg-types '()))
   -1 "UTF-8"))

(define %container-init
  (library-function "swh_container_init" int (list int int '*)))

(define %pidfd-open
  (library-function "swh_pidfd_open" int (list int '*)))

(define (pidfd-open pid)
  "Return a pidfd of process PID (close-on-exec, the caller's to close),
readable once PID has exited, even if PID is not a child of ours.  Throw a
`system-error' with ESRCH if PID is gone."
  (let ((out (int-out)))
    (check 'pidfd-open (%pidfd-open pid (bytevector->pointer out)))
    (int-out-ref out)))

(define %pidfd-signal
  (library-function "swh_pidfd_signal" int (list int int)))

(define (pidfd-signal pidfd signal)
  "Send SIGNAL (0: none, only check) to the process behind PIDFD, which
cannot be another process that reused its PID.  Return #t, or #f if it has
exited."
  (let ((rc (%pidfd-signal pidfd signal)))
    (and (not (= rc (- ESRCH)))
         (begin (check 'pidfd-signal rc) #t))))

(define %selftest-panic
  (library-function "swh_selftest_panic" int '()))

(define (container-init-pid script-pid hint)
  "Return the host PID of the init of the container started by the process
SCRIPT-PID.  HINT is a candidate PID (for instance read from the script's
--pid-file) or #f; it is used only if it really is that init.  Throw a
`system-error' with ESRCH when there is no such init (yet)."
  (let ((out (int-out)))
    (check 'container-init-pid
           (%container-init script-pid (or hint 0) (bytevector->pointer out)))
    (int-out-ref out)))

(define %max-u64 (- (expt 2 64) 1))

(define-syntax-rule (define-path-procedure (name c-name (arg type) ...) docstring)
  "Define NAME as a procedure of FILE and ARG... calling C-NAME, whose first
argument is FILE as a C string; return what C-NAME returns, checked."
  (define name
    (let ((proc (library-function c-name int (list '* type ...))))
      (lambda (file arg ...)
        docstring
        (check 'name (proc (c-string file) arg ...))))))

(define-path-procedure (%btrfs? "swh_is_btrfs")
  "Return 1 if FILE is on a btrfs file system, 0 if not.")

(define (btrfs? file)
  "Return true if FILE is on a btrfs file system."
  (= 1 (%btrfs? file)))

(define-path-procedure (create-subvolume "swh_subvolume_create")
  "Create an empty btrfs subvolume at FILE.")

(define-path-procedure (delete-subvolume "swh_subvolume_delete")
  "Delete the btrfs subvolume at FILE with everything in it, including the
subvolumes nested in it.")

(define-path-procedure (%set-disk-limit "swh_qgroup_limit" (limit uint64))
  "Limit the bytes that the subvolume FILE references to LIMIT.")

(define (set-disk-limit file limit)
  "Limit the bytes that the btrfs subvolume FILE references to LIMIT, or
remove its limit when LIMIT is #f.  Quotas must be enabled."
  (%set-disk-limit file (or limit %max-u64)))

(define %snapshot-subvolume
  (library-function "swh_subvolume_snapshot" int (list '* '* int)))

(define* (snapshot-subvolume source target #:key read-only?)
  "Make TARGET a snapshot of the btrfs subvolume SOURCE, read-only if
READ-ONLY? is true."
  (check 'snapshot-subvolume
         (%snapshot-subvolume (c-string source) (c-string target)
                              (if read-only? 1 0))))

(define %subvolume-info
  (library-function "swh_subvolume_info" int (list '* '*)))

(define (subvolume-info file)
  "Return an alist describing the btrfs subvolume FILE: its `id', its
`parent-id', and booleans `read-only?' and `snapshot?'.  Throw a
`system-error' with EINVAL if FILE is not a subvolume."
  (let ((info (c-struct-out 'subvolume-info %subvolume-info-struct
                            (lambda (out)
                              (%subvolume-info (c-string file) out)))))
    `((id . ,(assq-ref info 'id))
      (parent-id . ,(assq-ref info 'parent-id))
      (read-only? . ,(= 1 (assq-ref info 'read-only)))
      (snapshot? . ,(= 1 (assq-ref info 'snapshot))))))

(define %disk-usage
  (library-function "swh_qgroup_usage" int (list '* '*)))

(define (disk-usage file)
  "Return an alist with the `referenced' and `exclusive' bytes of the btrfs
subvolume FILE and its `limit' (#f for none), from its qgroup as of the last
transaction commit.  Quotas must be enabled."
  (let ((usage (c-struct-out 'disk-usage %qgroup-usage-struct
                             (lambda (out) (%disk-usage (c-string file) out)))))
    (map (match-lambda
           (('limit . limit) (cons 'limit (and (not (= limit %max-u64)) limit)))
           (field field))
         usage)))

(define-path-procedure (%remove-tree-step "swh_remove_tree_step" (budget size_t))
  "Remove at most BUDGET entries of the tree at FILE; 1 once it is gone.")

(define (remove-tree-step file budget)
  "Remove at most BUDGET entries of the tree at FILE, depth first, never
following symlinks nor crossing into other file systems (EXDEV).  Return #t
once FILE is gone, #f if entries remain."
  (= 1 (%remove-tree-step file budget)))

(define-path-procedure (shift-ids "swh_shift_ids"
                         (from uint32) (to uint32) (count uint32))
  "Move the owners and groups of the tree at FILE (included) from host ids
FROM..FROM+COUNT-1 to TO..TO+COUNT-1, never following symlinks nor crossing
into other file systems; other ids are kept.")

(define-path-procedure (restrict-cgroup-devices "swh_cgroup_restrict_devices")
  "Limit the devices of the cgroup FILE (relative, e.g. swineherd/web) to
the containers' allow list (v1 devices controller, or a BPF device program
on v2); 1 if done, 0 on a v1 host without a devices controller.")

(define %bridge-up
  (library-function "swh_bridge_up" int (list '* '* uint8)))

(define (bridge-up name address prefix)
  "Create the bridge NAME unless it exists, set it up and give it
ADDRESS/PREFIX (ADDRESS an IPv4 address string, PREFIX an integer)."
  (check 'bridge-up
         (%bridge-up (c-string name) (c-string address) prefix)))

(define-path-procedure (delete-link "swh_link_delete")
  "Delete the network link named FILE (a bridge, or the host side of a
veth pair, which takes its peer along); a missing link is fine.")

(define %detached-finish
  (library-function "swh_detached_finish" int (list int int)))

(define (detached-finish who pidfd result)
  "Return #f while the child process that a `swh_*_start' function handed
a request to (pidfd PIDFD, result descriptor RESULT) is still at work;
once it is done, #t, or throw a `system-error' if the kernel refused the
request.  The caller waits between calls and closes both descriptors (see
`(swineherd detached)')."
  (let ((rc (%detached-finish pidfd result)))
    (and (not (= rc (- EAGAIN)))
         (begin (check who rc) #t))))

(define (start-detached who start)
  "Call (START OUT), a `swh_*_start' function that hands a request to a
helper process (swineherd-relay, their first argument) through OUT.  Return #f if it was done at once, else the pair
(PIDFD . RESULT) of the child's pidfd and result descriptor, the caller's
to wait for with `detached-finish' and to close."
  (let-values (((started pending)
                (call-with-c-struct who %pending-struct start)))
    (and (= 1 started)
         (cons (assq-ref pending 'pidfd) (assq-ref pending 'result)))))

(define %delete-owned-link-start
  (library-function "swh_link_delete_owned_start" int (list '* '* '* '*)))

(define (delete-owned-link-start name owner)
  "Start deleting the network link NAME if its alias is OWNER (one that
somebody else owns is left alone), as `start-detached' does; the kernel's
wait (an RCU grace period, some 20 ms) is a child process's.  ENODEV: no
such link."
  (start-detached 'delete-owned-link
                  (lambda (out)
                    (%delete-owned-link-start (c-string (relay-file-name))
                                              (c-string name)
                                              (c-string owner) out))))

(define %link-owner
  (library-function "swh_link_owner" int (list '* '* size_t)))

(define (link-owner name)
  "Return the alias of the network link NAME, which names its owner (\"\"
if it has none); a `system-error' with ENODEV if there is no such link."
  (call-with-text-buffer
   (lambda (buffer size)
     (check 'link-owner (%link-owner (c-string name) buffer size)))))

(define %connect
  (library-function "swh_connect" int
                    (list int '* '* '* '* uint8 '* '* '* int)))

(define* (connect-container pid #:key bridge host owner address prefix
                            gateway table id isolated?)
  "Connect the container ID whose init is PID to BRIDGE: a veth pair whose
host side is HOST, with OWNER as its alias and, before it is set up, the
filters of container ID (ISOLATED? or not) in the netdev table TABLE, and
whose other side is eth0 inside, with ADDRESS/PREFIX and a default route
via GATEWAY."
  (check 'connect-container
         (%connect pid (c-string bridge) (c-string host)
                   (c-string owner) (c-string address) prefix
                   (c-string gateway) (c-string table)
                   (c-string id) (if isolated? 1 0))))

(define %guard
  (library-function "swh_guard" int (list '* '* '* '* '* uint8 int)))

(define* (guard-container table id #:key host address gateway prefix
                          isolated?)
  "Give HOST, the host side of the veth of container ID, whose address is
ADDRESS in GATEWAY/PREFIX, its filters (ISOLATED? or not) in the netdev
table TABLE, replacing those it had."
  (check 'guard-container
         (%guard (c-string table) (c-string id)
                 (c-string host) (c-string address)
                 (c-string gateway) prefix (if isolated? 1 0))))

(define %unguard-start
  (library-function "swh_guard_remove_start" int (list '* '* '* '*)))

(define (unguard-container-start table id)
  "Start removing the filters of container ID from the netdev table TABLE,
as `start-detached' does.  ENOENT: nothing to remove, or no table."
  (start-detached 'unguard-container
                  (lambda (out)
                    (%unguard-start (c-string (relay-file-name))
                                    (c-string table) (c-string id) out))))

(define %link-statistics
  (library-function "swh_link_stats" int (list '* '*)))

(define (link-statistics name)
  "Return the counters of the network link NAME as an alist: `rx-bytes',
`tx-bytes', `rx-packets', `tx-packets', `rx-dropped', `tx-dropped'."
  (c-struct-out 'link-statistics %link-stats-struct
                (lambda (out) (%link-statistics (c-string name) out))))

(define %container-addresses
  (library-function "swh_container_addresses" int (list int '* size_t)))

(define (address->string address)
  "Return the text of ADDRESS, an alist of a `SwhAddress', as
\"ADDRESS/PREFIX\"."
  (let* ((family (assq-ref address 'family))
         (bytes (u8-list->bytevector (assq-ref address 'address)))
         (size (if (= family AF_INET) 4 16)))
    (format #f "~a/~a"
            (inet-ntop family (bytevector-uint-ref bytes 0 (endianness big) size))
            (assq-ref address 'prefix))))

(define (container-addresses pid)
  "Return the addresses of the container whose init is PID, loopback and
link-local ones excepted, as a list of \"ADDRESS/PREFIX\" strings."
  (map address->string
       (call-with-c-struct-array 'container-addresses %address-struct
                                 (lambda (array capacity)
                                   (%container-addresses pid array capacity)))))

(define %links-owned-by
  (library-function "swh_links_owned_by" int (list '* '* size_t)))

(define (links-owned-by prefix)
  "Return the network links whose alias starts with PREFIX, as pairs of
their name and alias."
  (map (lambda (link)
         (cons (c-array->string (assq-ref link 'name))
               (c-array->string (assq-ref link 'alias))))
       (call-with-c-struct-array 'links-owned-by %owned-link-struct
                                 (lambda (array capacity)
                                   (%links-owned-by (c-string prefix)
                                                    array capacity)))))

(define %owned-link-stats
  (library-function "swh_owned_link_stats" int (list '* '* '* size_t)))

(define (owned-link-statistics prefix)
  "Return the network links whose alias starts with PREFIX, as lists of
their name, their alias and their counters (an alist, as `link-statistics'
returns), from one dump of the links."
  (map (match-lambda
         ((link counters)
          (list (c-array->string (assq-ref link 'name))
                (c-array->string (assq-ref link 'alias))
                counters)))
       (call-with-c-struct-arrays 'owned-link-statistics
                                  (list %owned-link-struct %link-stats-struct)
                                  (lambda (links stats capacity)
                                    (%owned-link-stats (c-string prefix)
                                                       links stats
                                                       capacity)))))

(define %attach-netns
  (library-function "swh_netns_attach" int (list int '*)))

(define (attach-netns pid file)
  "Bind-mount the network namespace of PID on FILE, e.g. /run/netns/NAME,
so that `ip netns exec NAME' works."
  (check 'attach-netns (%attach-netns pid (c-string file))))

(define-path-procedure (detach-netns "swh_netns_detach")
  "Unmount and remove FILE, made by `attach-netns'; a missing FILE is
fine.")

(define %nat-setup
  (library-function "swh_nat_setup" int (list '* '* '* uint8 '* size_t)))

(define (nat-setup table bridge subnet prefix open-ports)
  "Turn IPv4 forwarding on and replace the nftables tables `ip TABLE' and
`netdev TABLE' with Swineherd's NAT and filters: masquerading for
SUBNET/PREFIX (SUBNET an IPv4 address string) leaving through interfaces
other than BRIDGE, which must exist, and the host's services closed to
BRIDGE but for OPEN-PORTS, a list of (PROTOCOL PORT) lists."
  (let-values (((array count)
                (c-struct-array %host-port-struct
                                (map (match-lambda
                                       ((protocol port)
                                        `((protocol . ,(protocol-number protocol))
                                          (port . ,port))))
                                     open-ports))))
    (check 'nat-setup
           (%nat-setup (c-string table) (c-string bridge)
                       (c-string subnet) prefix array count))))

(define-path-procedure (nat-teardown "swh_nat_teardown")
  "Delete the nftables tables `ip FILE' and `netdev FILE' (FILE a table
name); a missing one is fine.")

(define %publish-ports
  (library-function "swh_nat_publish" int (list '* '* '* '* size_t)))

(define (publish-ports table id address ports)
  "Make the chains of container ID in table `ip TABLE' publish exactly
PORTS, a list of (PROTOCOL HOST-PORT CONTAINER-PORT [HOST-ADDRESS]) lists,
to ADDRESS."
  (define (port->alist port)
    (match port
      ((protocol host-port container-port . host-address)
       `((protocol . ,(protocol-number protocol))
         (host-address . ,(match host-address
                            (() 0)
                            ((text) (inet-pton AF_INET text))))
         (host-port . ,host-port)
         (container-port . ,container-port)))))
  (let-values (((array count)
                (c-struct-array %port-struct (map port->alist ports))))
    (check 'publish-ports
           (%publish-ports (c-string table) (c-string id)
                           (c-string address) array count))))

(define %unpublish-ports-start
  (library-function "swh_nat_unpublish_start" int (list '* '* '* '*)))

(define (unpublish-ports-start table id)
  "Start removing what container ID published in table `ip TABLE', as
`start-detached' does; the kernel's wait is some 16 ms.  ENOENT: nothing to
remove, or no table."
  (start-detached 'unpublish-ports
                  (lambda (out)
                    (%unpublish-ports-start (c-string (relay-file-name))
                                            (c-string table)
                                            (c-string id) out))))

(define %cgroup-layout
  (library-function "swh_cgroup_layout" int '()))

(define (cgroup-layout)
  "Return the cgroup layout of this machine: `unified' (v2), `hybrid' (v1
controllers and a controller-less v2) or `legacy' (v1)."
  (vector-ref #(unified hybrid legacy)
              (check 'cgroup-layout (%cgroup-layout))))

(define %cgroup-create
  (library-function "swh_cgroup_create" int '(* *)))

(define (limits->c-struct limits)
  "Return a pointer to the `SwhCgroupLimits' that `swh_cgroup_create' takes,
from LIMITS, an alist with optional `memory', `swap', `cpu-quota' (a
QUOTA/PERIOD pair of microseconds), `cpu-weight', `pids' and `io-weight'; what is
missing is UINT64_MAX, no limit."
  (let ((quota (assq-ref limits 'cpu-quota)))
    (alist->c-struct %cgroup-limits-struct
                     (map (match-lambda
                            ((field . value) (cons field (or value %max-u64))))
                          `((memory . ,(assq-ref limits 'memory))
                            (swap . ,(assq-ref limits 'swap))
                            (cpu-quota-us . ,(and quota (car quota)))
                            (cpu-period-us . ,(and quota (cdr quota)))
                            (cpu-weight . ,(assq-ref limits 'cpu-weight))
                            (pids . ,(assq-ref limits 'pids))
                            (io-weight . ,(assq-ref limits 'io-weight)))))))

(define (create-cgroup relative limits)
  "Create the cgroup RELATIVE (e.g. \"swineherd/web\") in every hierarchy
and apply LIMITS (see `limits->c-struct'); an existing one is reused and
its limits replaced."
  (check 'create-cgroup
         (%cgroup-create (c-string relative) (limits->c-struct limits))))

(define-path-procedure (%remove-cgroup-step "swh_cgroup_remove")
  "Remove the cgroup FILE; 1 once gone, 0 if processes had to be killed.")

(define (remove-cgroup-step relative)
  "Remove the cgroup RELATIVE.  Return #t once it is gone; #f if processes
were left in it: they were sent SIGKILL, call again shortly."
  (= 1 (%remove-cgroup-step relative)))

(define %cgroup-stats
  (library-function "swh_cgroup_stats" int '(* *)))

(define (cgroup-stats->alist fields)
  "Return FIELDS, the alist of a `SwhCgroupStats', with the limits and I/O
counters that are UINT64_MAX as #f."
  (map (match-lambda
         ((key . value)
          (cons key (if (and (memq key '(memory-limit pids-limit
                                         io-read-bytes io-write-bytes))
                             (= value %max-u64))
                        #f
                        value))))
       fields))

(define (cgroup-statistics relative)
  "Return the kernel's accounting of the cgroup RELATIVE as an alist:
`cpu-total-ns', `cpu-user-ns', `cpu-system-ns', `memory-current',
`memory-peak', `memory-limit' (#f: none), `pids-current', `pids-limit' (#f:
none), `oom-kills', `io-read-bytes' and `io-write-bytes' (#f: not accounted,
as on cgroup v1)."
  (cgroup-stats->alist
   (c-struct-out 'cgroup-statistics %cgroup-stats-struct
                 (lambda (out) (%cgroup-stats (c-string relative) out)))))

(define %cgroup-stats-many
  (library-function "swh_cgroup_stats_many" int (list '* size_t '* '*)))

(define %cgroup-oom-kills-many
  (library-function "swh_cgroup_oom_kills_many" int (list '* size_t '* '*)))

(define (each-cgroup who call relatives types)
  "Call CALL, a `swh_cgroup_*_many' function, on the cgroups RELATIVES, a
list of names, with an array of items of TYPES (foreign types, as in a
`define-c-struct') to fill; return each item as the list of its values, or
#f for a cgroup that cannot be read (its container stopped)."
  (let* ((count (length relatives))
         (names (map c-string relatives))
         (pointers (make-bytevector (max 1 (* count (sizeof '*))) 0))
         (size (sizeof types))
         (out (make-bytevector (max 1 (* count size)) 0))
         (found (make-bytevector (max 1 count) 0)))
    (for-each (lambda (index name)
                (bytevector-uint-set! pointers (* index (sizeof '*))
                                      (pointer-address name)
                                      (native-endianness) (sizeof '*)))
              (iota count) names)
    (check who (call (bytevector->pointer pointers) count
                     (bytevector->pointer out) (bytevector->pointer found)))
    ;; NAMES, walked here, stays alive until the call has returned: the
    ;; pointers point into its strings.
    (map (lambda (index name)
           (and (= 1 (bytevector-u8-ref found index))
                (parse-c-struct (bytevector->pointer out (* index size))
                                types)))
         (iota count) names)))

(define (cgroups-statistics relatives)
  "Return the accounting of each cgroup of RELATIVES, a list of names, as
`cgroup-statistics' does, or #f for one that cannot be read (its container
stopped): all in one call."
  (map (lambda (values)
         (and values
              (cgroup-stats->alist
               (map cons (map car %cgroup-stats-struct) values))))
       (each-cgroup 'cgroups-statistics %cgroup-stats-many relatives
                    (map cdr %cgroup-stats-struct))))

(define (cgroups-oom-kills relatives)
  "Return the number of processes the OOM killer killed in each cgroup of
RELATIVES, a list of names, or #f for one that cannot be read: all in one
call, reading one file per cgroup."
  (map (lambda (values) (and values (car values)))
       (each-cgroup 'cgroups-oom-kills %cgroup-oom-kills-many relatives
                    (list uint64))))

(define (helper-file-name name variable installed)
  "Return the file name of NAME, one of the library's helper programs: the
value of the environment VARIABLE, else INSTALLED (its absolute file name
in an installed copy of this module, else #f), else next to the library
when it is a file name, else NAME from $PATH."
  (or (getenv variable)
      installed
      (let ((library (libswineherd-file-name)))
        (and (string-index library #\/)
             (let ((candidate (string-append (dirname library) "/" name)))
               (and (file-exists? candidate) candidate))))
      name))

(define (cgexec-file-name)
  "Return the file name of swineherd-cgexec, the wrapper that runs container
scripts in their cgroup: $SWINEHERD_CGEXEC (pre-inst-env sets it), else the
installed one's absolute file name when this module is an installed copy,
else next to the library when it is a file name, else \"swineherd-cgexec\"
from $PATH."
  (helper-file-name "swineherd-cgexec" "SWINEHERD_CGEXEC" %installed-cgexec))

(define (peek-file-name)
  "Return the file name of swineherd-peek, the program that does `peek''s
scan, found as `cgexec-file-name' finds swineherd-cgexec, with
$SWINEHERD_PEEK."
  (helper-file-name "swineherd-peek" "SWINEHERD_PEEK" %installed-peek))

(define (relay-file-name)
  "Return the absolute file name of swineherd-relay, `exec''s relay program,
found as `cgexec-file-name' finds swineherd-cgexec, with $SWINEHERD_RELAY,
and made absolute (it is started without a search of $PATH)."
  (let ((name (helper-file-name "swineherd-relay" "SWINEHERD_RELAY"
                                %installed-relay)))
    (if (string-index name #\/)
        name
        (or (search-path (parse-path (getenv "PATH")) name) name))))

(define %write-atomically
  (library-function "swh_write_atomically" int (list '* '* size_t)))

(define (write-file-atomically file text)
  "Replace FILE with TEXT, a string, atomically and durably: a crash leaves
either the old or the new content."
  (let ((bytes (string->utf8 text)))
    (check 'write-file-atomically
           (%write-atomically (c-string file)
                              (bytevector->pointer bytes)
                              (bytevector-length bytes)))))

(define (selftest-panic)
  "Make libswineherd panic on purpose (only when SWINEHERD_SELFTEST=1 in
Shepherd's environment), to prove that the panic comes back as an error."
  (check 'selftest-panic (%selftest-panic)))

;;;
;;; Running commands and reading files in containers.
;;;

(define (strings->argz strings what)
  "Return a bytevector holding STRINGS as NUL-terminated UTF-8 strings one
after the other (an argz vector).  Raise an error naming WHAT if one of them
contains a NUL character."
  (let* ((bvs (map (lambda (str)
                     (when (string-index str #\nul)
                       (error (format #f "~a contains a NUL character: ~s"
                                      what str)))
                     (string->utf8 str))
                   strings))
         (argz (make-bytevector (fold (lambda (bv n)
                                        (+ n 1 (bytevector-length bv)))
                                      0 bvs)
                                0)))
    (fold (lambda (bv offset)
            (bytevector-copy! bv 0 argz offset (bytevector-length bv))
            (+ offset 1 (bytevector-length bv)))
          0 bvs)
    argz))

(define %exec-spawn
  (library-function "swh_exec_spawn" int
                    (list int '* size_t '* size_t uint64 '* '* '*)))

(define* (exec-spawn init-pid command environment timeout-ms
                     #:optional cgroup)
  "Start COMMAND, a list of strings whose first is the program (looked up in
ENVIRONMENT's PATH), with ENVIRONMENT, a list of \"NAME=VALUE\" strings, in
every namespace and the root of the process INIT-PID (a container's init),
as its root user; on the host when INIT-PID is 0.  Kill it and its process
group after TIMEOUT-MS milliseconds unless that is 0.  Start it in CGROUP
(relative to each hierarchy's root) if it is a string.  Return five values:
the command's host PID, and four file descriptors to close: a pidfd of its
relay process, readable once the command has ended (then call `exec-reap'),
the non-blocking read ends of its standard output and error, and the relay's
report pipe.  The relay is the program `relay-file-name' returns."
  (let ((argv (strings->argz command "command"))
        (envp (strings->argz environment "environment")))
    (let-values (((pid fds)
                  (call-with-c-struct
                   'exec-spawn %exec-fds-struct
                   (lambda (out)
                     (%exec-spawn init-pid
                                  (bytevector->pointer argv)
                                  (bytevector-length argv)
                                  (bytevector->pointer envp)
                                  (bytevector-length envp)
                                  timeout-ms
                                  (if cgroup (c-string cgroup) %null-pointer)
                                  (c-string (relay-file-name))
                                  out)))))
      (apply values pid
             (map (cut assq-ref fds <>)
                  '(pidfd stdout-fd stderr-fd report-fd))))))

(define %exec-reap
  (library-function "swh_exec_reap" int (list int int '*)))

(define (exec-reap pidfd report)
  "Reap the relay behind PIDFD, made by `exec-spawn', without blocking.
Return #f if its command is still running, else three values: the
command's wait status, the errno of its failed exec (0 if a program ran),
and whether it was killed at its deadline."
  (let* ((out (c-struct-buffer %exec-outcome-struct))
         (result (%exec-reap pidfd report (bytevector->pointer out))))
    (if (= result (- EAGAIN))
        #f
        (let ((outcome (begin
                         (check 'exec-reap result)
                         (c-struct->alist %exec-outcome-struct out))))
          (values (assq-ref outcome 'status)
                  (assq-ref outcome 'exec-errno)
                  (= 1 (assq-ref outcome 'timed-out)))))))

(define %exec-kill
  (library-function "swh_exec_kill" int (list int)))

(define (exec-kill pidfd)
  "Give up on the command behind PIDFD: kill its relay, which takes the
command with it.  Reap it afterwards with `exec-reap'."
  (check 'exec-kill (%exec-kill pidfd)))

(define %open-in-root
  (library-function "swh_open_in_root" int (list int '* '*)))

(define (open-in-container init-pid file)
  "Open FILE, a file name inside the container whose init has host PID
INIT-PID, for reading, and return its file descriptor.  Symbolic links and
`..' never lead outside the container's root, /proc magic links are
refused, and FILE must be a regular file; otherwise throw a `system-error'."
  (let ((out (int-out)))
    (check 'open-in-container
           (%open-in-root init-pid (c-string file)
                          (bytevector->pointer out)))
    (int-out-ref out)))

;; The guest Shepherd's socket, from the host: see (swineherd guest).
(define %connect-in-root
  (library-function "swh_connect_in_root" int (list int '* '*)))

(define (connect-in-container init-pid file)
  "Connect to the Unix socket FILE, a file name inside the container whose
init has host PID INIT-PID, resolved as by `open-in-container' (never
leading outside its root), and return the connected socket's descriptor,
non-blocking; throw a `system-error' if FILE is not a socket there or
nothing listens."
  (let ((out (int-out)))
    (check 'connect-in-container
           (%connect-in-root init-pid (c-string file)
                             (bytevector->pointer out)))
    (int-out-ref out)))

;;; ffi.scm ends here
