;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

(define-module (swineherd idmap)
  #:use-module (swineherd config)
  #:use-module (swineherd ffi)
  #:use-module (swineherd id-options)
  #:use-module (swineherd utils)
  #:use-module (ice-9 match)
  #:use-module (ice-9 rdelim)
  #:use-module (srfi srfi-1)
  #:re-export (%id-options)
  #:export (%ids-per-container
            %default-id-base
            id-space
            id-lease-directory
            allocate-ids
            held-ids
            release-ids
            release-orphaned-ids
            container-ids
            confinement-arguments
            prepare-pid-file
            give-data-to-range
            restrict-devices
            identity-text
            remember-identity!
            forget-identity!
            container-identity))

;;; Commentary:
;;;
;;; Each container's own range of host user and group IDs (issue #18).  By
;;; default a container's root is host uid BASE, not 0: its script runs in
;;; a user namespace mapping 0–65535 to BASE.. (made by swineherd-cgexec),
;;; and Guix's own nested `0 0 65536' map lands in that range.  Ranges are
;;; leased like addresses: the file STATE-DIRECTORY/ids/BASE holds the
;;; container's ID, made with O_EXCL; the container's record keeps BASE
;;; among its options (`ids'), so a restart maps it the same; only `kill'
;;; returns the lease.  The space ranges are cut from is the `swineherd'
;;; user's entry in /etc/subuid and /etc/subgid when both have the same
;;; one, else SWINEHERD_ID_BASE (default 1 000 000 000) up to the last
;;; valid id.  `new --privileged' keeps the host's identity map.
;;;
;;; Code:

(define %ids-per-container 65536)

(define %default-id-base 1000000000)

(define %last-id
  ;; The highest valid id: (uid_t) -1 means "no change" to the kernel.
  4294967294)


;;;
;;; The space of ids and the leases.
;;;

(define (subordinate-entry file user)
  "Return (START . COUNT) from USER's first line in FILE (the format of
/etc/subuid), or #f."
  (catch 'system-error
    (lambda ()
      (call-with-input-file file
        (lambda (port)
          (let loop ((line (read-line port)))
            (and (not (eof-object? line))
                 (match (string-split line #\:)
                   (((? (lambda (name) (string=? name user)))
                     start count)
                    (let ((start (string->number start))
                          (count (string->number count)))
                      (and start count (cons start count))))
                   (_ (loop (read-line port)))))))))
    (const #f)))

(define (id-space)
  "Return (FIRST . COUNT), the host ids that container ranges are cut from:
the `swineherd' user's entry when /etc/subuid and /etc/subgid give it the
same one, else from SWINEHERD_ID_BASE (default `%default-id-base') to the
last valid id."
  (let ((uids (subordinate-entry "/etc/subuid" "swineherd"))
        (gids (subordinate-entry "/etc/subgid" "swineherd")))
    (if (and uids (equal? uids gids))
        uids
        (let ((base (or (and=> (getenv "SWINEHERD_ID_BASE") string->number)
                        %default-id-base)))
          (unless (and (exact-integer? base)
                       (<= %ids-per-container base
                           (- (+ 1 %last-id) %ids-per-container)))
            (fail "invalid SWINEHERD_ID_BASE ~s: give a number of at least \
65536 and below 4294901760" (getenv "SWINEHERD_ID_BASE")))
          (cons base (- (+ 1 %last-id) base))))))

(define (id-lease-directory config)
  "Return the directory of the id-range leases."
  (string-append (swineherd-configuration-state-directory config) "/ids"))

(define (leased-bases directory)
  "Return the bases of the ranges leased in DIRECTORY."
  (filter-map string->number (entries directory)))

(define (first-gap first bases)
  "Return the lowest base from FIRST whose range overlaps none of those at
BASES, a sorted list: one walk over them."
  (let loop ((base first) (bases bases))
    (match bases
      (() base)
      ((b . rest)
       (cond ((<= (+ b %ids-per-container) base) (loop base rest))
             ((<= (+ base %ids-per-container) b) base)
             (else (loop (+ b %ids-per-container) rest)))))))

(define %bases
  ;; Lease directory -> the sorted bases leased there, read once, then kept
  ;; up to date by `allocate-ids' and `release-ids' (and dropped by
  ;; `release-orphaned-ids'): reading and sorting the directory on every
  ;; `new' cost 1.2 ms with 500 containers (bench/growth).  The lease files
  ;; stay the truth: a lease lost to somebody else, or a space that looks
  ;; full, makes `allocate-ids' read them again.
  (make-hash-table))

(define (known-bases directory)
  "Return the sorted bases leased in DIRECTORY, from `%bases'."
  (or (hash-ref %bases directory)
      (let ((bases (sort (leased-bases directory) <)))
        (hash-set! %bases directory bases)
        bases)))

(define (allocate-ids config id)
  "Lease the lowest free range of `%ids-per-container' ids of the space to
container ID and return its base, or raise a clear error when the space is
full.  Disjoint from every leased range, even one cut from another space.
A lease lost to a concurrent `new' makes it look again."
  (define directory (id-lease-directory config))
  (mkdir-p directory)
  (match (id-space)
    ((first . count)
     (let loop ((fresh? (not (hash-ref %bases directory))))
       (let* ((bases (known-bases directory))
              (base (first-gap first bases)))
         (cond ((and (> (+ base %ids-per-container) (+ first count)) fresh?)
                (fail "no free range of ~a ids left from ~a (~a ids); kill \
a container, or give the `swineherd' user a larger entry in /etc/subuid and \
/etc/subgid" %ids-per-container first count))
               ((and (<= (+ base %ids-per-container) (+ first count))
                     (take-lease (string-append directory "/"
                                                (number->string base))
                                 id))
                (hash-set! %bases directory (merge bases (list base) <))
                base)
               (else
                (hash-remove! %bases directory)
                (loop #t))))))))

(define (held-ids config id)
  "Return the base of the range that container ID holds a lease on, or #f:
the range that owns the data kept for ID (see `remove-container')."
  (let ((directory (id-lease-directory config)))
    (and (file-exists? directory)
         (and=> (find (lambda (name)
                        (equal? id (lease-owner (string-append directory "/"
                                                               name))))
                      (entries directory))
                string->number))))

(define (release-ids config base id)
  "Return the lease of the range at BASE if container ID holds it."
  (when base
    (let ((file (string-append (id-lease-directory config) "/"
                               (number->string base))))
      (when (equal? id (lease-owner file))
        (delete-file-if-exists file)
        (and=> (hash-ref %bases (id-lease-directory config))
               (lambda (bases)
                 (hash-set! %bases (id-lease-directory config)
                            (delete base bases))))))))


(define (release-orphaned-ids config orphan?)
  "Release the id-range leases whose holder is an ORPHAN? (no record) and
has no data directory left: data is never deleted, and a range stays with
the data it owns."
  (define directory (id-lease-directory config))
  (hash-remove! %bases directory)
  (for-each (lambda (name)
              (let* ((file (string-append directory "/" name))
                     (owner (lease-owner file)))
                (when (and owner (orphan? owner)
                           (not (file-exists?
                                 (container-data-directory config owner))))
                  (format #t "swineherd: releasing orphaned id range ~a (~a)~%"
                          name owner)
                  (delete-file-if-exists file))))
            (entries directory)))

;;;
;;; A container's identity.
;;;

(define (container-ids options)
  "Return the base of the id range of the container created with OPTIONS,
or #f for a privileged one."
  (assq-ref options 'ids))

(define (confinement-arguments options)
  "Return the arguments of swineherd-cgexec that confine the container
created with OPTIONS: its id range, and the relaxations it was given."
  (append (match (container-ids options)
            (#f '())
            (base (list (format #f "--ids=~a:~a" base %ids-per-container))))
          (if (assq-ref options 'keep-caps) '("--keep-caps") '())
          (if (assq-ref options 'syscalls) '("--syscalls=all") '())))

(define (prepare-pid-file file options)
  "Make FILE, the PID file the script of the container created with
OPTIONS writes, writable by its root: an empty file owned by its range
(the script runs as that uid, in a directory it cannot write)."
  (delete-file-if-exists file)
  (match (container-ids options)
    (#f #t)
    (base
     (close-port (open file (logior O_WRONLY O_CREAT O_EXCL) #o644))
     (chown file base base))))

(define* (give-data-to-range directory base #:key (from 0))
  "Give DIRECTORY, a container's data, to the range at BASE: its ids FROM..
(another container's range, or 0 for host-owned data) move there."
  (when base
    (shift-ids directory from base %ids-per-container)))

(define (restrict-devices relative options)
  "Limit the devices of the cgroup RELATIVE, the container's created with
OPTIONS, to the allow list, unless --devices=all.  Return #t if limited,
#f if not (asked, or a v1 host without a devices controller, or a kernel
without BPF device programs: ENOTSUP)."
  (and (not (assq-ref options 'devices))
       (catch 'system-error
         (lambda () (= 1 (restrict-cgroup-devices relative)))
         (lambda args
           (if (= ENOTSUP (system-error-errno args))
               #f
               (apply throw args))))))

(define (identity-text options)
  "Return how the container created with OPTIONS maps its ids, for
`status' and `list': \"privileged\" or \"ids BASE-LAST\"."
  (match (container-ids options)
    (#f "privileged")
    (base (format #f "ids ~a-~a" base (+ base %ids-per-container -1)))))

(define %identities
  ;; Container ID -> its `identity-text', for `list' and `stats' without
  ;; reading every record.
  (make-hash-table))

(define (remember-identity! id options)
  "Remember the identity of container ID, created with OPTIONS."
  (hash-set! %identities id (identity-text options)))

(define (forget-identity! id)
  "Forget the identity of container ID, killed."
  (hash-remove! %identities id))

(define (container-identity id)
  "Return the identity text of container ID (see `identity-text')."
  (or (hash-ref %identities id) "unknown"))

;;; idmap.scm ends here
