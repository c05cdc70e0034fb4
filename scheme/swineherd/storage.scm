;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

(define-module (swineherd storage)
  #:use-module (swineherd ffi)
  #:use-module (swineherd parse)
  #:use-module (swineherd utils)
  #:use-module (shepherd service)
  #:use-module ((fibers) #:select ((sleep . fiber-sleep)))
  #:use-module (ice-9 format)
  #:use-module (ice-9 match)
  #:export (storage-kind
            subvolume?
            storage-description
            create-data
            delete-data
            snapshot-data
            snapshot-directory
            snapshot-names
            data-usage))

;;; Commentary:
;;;
;;; The containers' data: one btrfs subvolume per container under the
;;; container root, or, when the root is not on btrfs, a plain directory.
;;; Clones and snapshots are btrfs snapshots (instant, shared until
;;; written), or copies on other file systems; disk limits are btrfs qgroup
;;; limits and need btrfs with quotas enabled.  Every operation goes
;;; through libswineherd's ioctls; only copies on non-btrfs roots run
;;; `cp -a', without blocking Shepherd.
;;;
;;; Code:

(define (storage-kind root)
  "Return `btrfs' if the container root ROOT is on btrfs, else `directory'."
  (if (btrfs? root) 'btrfs 'directory))

(define (storage-description root)
  "Return a one-line description of the storage under ROOT, with a loud
warning when it is not btrfs."
  (match (storage-kind root)
    ('btrfs
     (format #f "containers' data: btrfs subvolumes under ~a" root))
    ('directory
     (format #f "WARNING: container root ~a is not on btrfs: plain \
directories, clones and snapshots are full copies, no disk limits" root))))


;;;
;;; Creating and deleting a container's data.
;;;

(define (copy-tree source target)
  "Copy the tree SOURCE to TARGET with `cp -a', suspending only the calling
fiber; raise an error if the copy fails."
  (let ((status (parameterize ((current-service #f))
                  (spawn-command (list "cp" "-a" "--reflink=auto"
                                       "--no-target-directory" source target)))))
    (unless (and (status:exit-val status) (zero? (status:exit-val status)))
      (fail "copying ~a to ~a failed (see Shepherd's log)" source target))))

(define* (create-data root directory #:key from limit)
  "Create DIRECTORY, a container's data under the container root ROOT:
empty, or a clone of the directory FROM; on btrfs a subvolume (a snapshot
of FROM), limited to LIMIT bytes when LIMIT is true.  On failure, remove what
was created and re-raise."
  (match (storage-kind root)
    ('btrfs
     (if from
         (snapshot-subvolume from directory)
         (create-subvolume directory))
     (when limit
       (catch #t
         (lambda ()
           (set-disk-limit directory limit))
         (lambda args
           (delete-subvolume directory)
           (apply throw args)))))
    ('directory
     (when limit
       (fail "disk limits need a btrfs container root with quotas enabled; \
~a is not on btrfs" root))
     (if from
         (catch #t
           (lambda ()
             (copy-tree from directory))
           (lambda args
             (delete-data directory)
             (apply throw args)))
         (mkdir directory)))))

(define (subvolume? directory)
  "Return true if DIRECTORY is a btrfs subvolume."
  (catch 'system-error
    (lambda () (subvolume-info directory) #t)
    (const #f)))

(define (delete-data directory)
  "Delete DIRECTORY, a container's data or a snapshot, and everything in it:
by subvolume deletion on btrfs, else entry by entry without following
symlinks, a thousand entries at a time so that Shepherd keeps serving."
  (cond ((not (false-if-system-error (lstat directory)))
         #t)
        ((subvolume? directory)
         (delete-subvolume directory))
        (else
         (let loop ()
           (unless (remove-tree-step directory 1000)
             (fiber-sleep 0.001)
             (loop))))))


;;;
;;; Snapshots.
;;;

(define (snapshot-directory root id)
  "Return the directory holding the snapshots of container ID under ROOT.
Container IDs never start with a dot, so `.snapshots' is never a container."
  (string-append root "/.snapshots/" id))

(define (snapshot-data root id directory name)
  "Make NAME a read-only snapshot of DIRECTORY, the data of container ID
under ROOT (on other file systems than btrfs: a copy)."
  (let ((parent (snapshot-directory root id)))
    (unless (file-exists? parent)
      (unless (file-exists? (dirname parent))
        (mkdir (dirname parent) #o700))
      (mkdir parent #o700))
    (let ((target (string-append parent "/" name)))
      (when (file-exists? target)
        (fail "container ~a already has a snapshot named ~a" id name))
      (match (storage-kind root)
        ('btrfs (snapshot-subvolume directory target #:read-only? #t))
        ('directory (copy-tree directory target))))))

(define (snapshot-names root id)
  "Return the names of the snapshots of container ID under ROOT, sorted."
  (entries (snapshot-directory root id)))

(define (data-usage directory)
  "Return the disk usage of DIRECTORY, a container's data, as an alist with
`referenced', `exclusive' and `limit' (bytes), or #f when it is not a btrfs
subvolume with quotas enabled."
  (catch 'system-error
    (lambda () (disk-usage directory))
    (const #f)))

;;; storage.scm ends here
