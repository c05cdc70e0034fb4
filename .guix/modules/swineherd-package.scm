;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

;;; Commentary:
;;;
;;; The Guix package of Swineherd, built from this checkout.  `guix.scm' at
;;; the top loads this module and returns the package, so
;;; `guix build -f guix.scm' and `guix shell -D -f guix.scm' work from a
;;; checkout, and the repository is a channel (.guix-channel) whose users
;;; get the `swineherd' package from the module (swineherd-package).
;;;
;;; The Rust crates come from Cargo.lock, with Guix 1.5's own importer
;;; (`cargo-inputs-from-lockfile': each crate's checksum in Cargo.lock is
;;; the hash of its origin), so they never drift from what cargo uses.
;;;
;;; Code:

(define-module (swineherd-package)
  #:use-module (guix packages)
  #:use-module (guix gexp)
  #:use-module (guix git-download)
  #:use-module (guix utils)
  #:use-module (guix build-system cargo)
  #:use-module ((guix import crate) #:select (cargo-inputs-from-lockfile))
  #:use-module ((guix licenses) #:prefix license:)
  #:use-module (gnu packages admin)
  #:use-module (gnu packages guile)
  #:use-module (gnu packages guile-xyz)
  #:use-module (gnu packages llvm)
  #:use-module (gnu packages texinfo)
  #:export (swineherd))

(define %source-dir
  ;; The top of the checkout.
  (dirname (dirname (current-source-directory))))

(define vcs-file?
  ;; The files under version control, or all files when this is not a Git
  ;; checkout Guile-Git can open (an unpacked tarball, a linked worktree).
  (or (false-if-exception (git-predicate %source-dir))
      (const #t)))

(define swineherd
  (package
    (name "swineherd")
    (version "0.1.0-git")
    (source (local-file "../.." "swineherd-checkout"
                        #:recursive? #t
                        #:select? vcs-file?))
    (build-system cargo-build-system)
    (arguments
     (list
      #:install-source? #f
      ;; The tests need root, namespaces, btrfs and cgroups: they run in
      ;; tests/check, not in the build container.
      #:tests? #f
      #:phases
      #~(modify-phases %standard-phases
          (add-before 'build 'set-libclang-path
            ;; bindgen (build.rs) loads libclang.
            (lambda* (#:key inputs #:allow-other-keys)
              (setenv "LIBCLANG_PATH"
                      (dirname (search-input-file inputs "lib/libclang.so")))))
          (replace 'install
            ;; `make install': the library, swineherd-cgexec and
            ;; swineherd-peek, the Guile modules with (swineherd ffi)
            ;; naming the library's and helpers' store file names, their
            ;; .go files and the Info manual.
            (lambda _
              (invoke "make" "install"
                      (string-append "prefix=" #$output)))))))
    (native-inputs (list clang guile-3.0 shepherd-1.0 guile-fibers guile-json-4
                         texinfo))
    (inputs (cons guile-3.0
                  (cargo-inputs-from-lockfile
                   (string-append %source-dir "/Cargo.lock"))))
    ;; Fibers for everything; guile-json for the HTTP API (swineherd api).
    (propagated-inputs (list guile-fibers guile-json-4))
    (home-page "https://github.com/BIMSBbioinfo/swineherd")
    (synopsis "GNU Shepherd's manager of Guix System containers")
    (description
     "Swineherd extends GNU Shepherd with a service that creates, starts,
stops and deletes Guix System containers, each a Shepherd service of its
own, with its own data (a btrfs subvolume or a directory), network address,
cgroup limits and published ports.")
    (license license:gpl3+)))

;; The value of this file when loaded with `guix build -f guix.scm'.
swineherd
