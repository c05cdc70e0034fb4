;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

(define-module (swineherd lock)
  #:use-module (swineherd utils)
  #:use-module (ice-9 rdelim)
  #:export (lock-state-directory
            unlock-state-directory))

;;; Commentary:
;;;
;;; One `swineherd' per state directory (issue #14): two Shepherds sharing
;;; one would both run its containers, on one data directory, and the
;;; `kill' of one would delete data the other's container uses.  The first
;;; takes an exclusive flock(2) on STATE-DIRECTORY/lock for as long as its
;;; `swineherd' runs, and writes its PID there; a second is refused, naming
;;; that PID.  The kernel drops the lock when its holder's descriptor is
;;; closed: when `swineherd' stops, and when Shepherd dies, however.
;;;
;;; Code:

(define (lock-file state-directory)
  (string-append state-directory "/lock"))

(define (lock-holder port)
  "Return the PID recorded in the lock file open on PORT, or #f."
  (seek port 0 SEEK_SET)
  (let ((line (read-line port)))
    (and (string? line) (string->number line))))

(define (lock-state-directory state-directory)
  "Take the exclusive lock of STATE-DIRECTORY and return the port that holds
it (close it with `unlock-state-directory'), or raise a clear error naming
the process that holds it already."
  (mkdir-p state-directory)
  (let ((port (open (lock-file state-directory)
                    (logior O_RDWR O_CREAT O_CLOEXEC) #o644)))
    (catch 'system-error
      (lambda () (flock port (logior LOCK_EX LOCK_NB)))
      (lambda args
        (let ((holder (lock-holder port)))
          (close-port port)
          (if (memv (system-error-errno args) (list EWOULDBLOCK EAGAIN))
              (fail "the state directory ~a is in use by the swineherd of \
~a: two Shepherds on one state directory would run its containers twice and \
delete each other's data.  Stop that one first, or give this one another \
#:state-directory (and #:container-root)" state-directory
                    (cond ((not holder) "another process")
                          ((= holder (getpid))
                           (format #f "this very Shepherd (PID ~a)" holder))
                          (else (format #f "the Shepherd with PID ~a" holder))))
              (apply throw args)))))
    (truncate-file port 0)
    (seek port 0 SEEK_SET)
    (format port "~a~%" (getpid))
    (force-output port)
    port))

(define (unlock-state-directory port)
  "Release the lock held on PORT, as returned by `lock-state-directory'."
  (close-port port))

;;; lock.scm ends here
