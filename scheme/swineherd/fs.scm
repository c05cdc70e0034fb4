;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.


(define-module (swineherd fs)
  #:use-module (swineherd exec)
  #:use-module (swineherd utils)
  #:use-module (srfi srfi-1)
  #:use-module (srfi srfi-11)
  #:export (permitted-host-command
            action:fs))

;;; Commentary:
;;;
;;; `fs': a host command, from the only directory permitted, run on a
;;; container's root file system (/proc/PID/root), as `exec' runs commands.
;;;
;;; Code:

(define (permitted-host-command command prefix)
  "Return the canonical file name of COMMAND if it is an executable regular
file below the directory PREFIX (both canonicalized, so symlinks and `..'
cannot lead outside), or raise a clear error."
  (unless (absolute-file-name? command)
    (fail "fs: ~s is not an absolute file name; give the full file name of a \
command under ~a" command prefix))
  (let ((prefix* (or (false-if-system-error (canonicalize-path prefix))
                     (fail "fs: the permitted host command prefix ~a does not \
exist" prefix)))
        (command* (or (false-if-system-error (canonicalize-path command))
                      (fail "fs: no such command: ~a" command))))
    (unless (string-prefix? (if (string=? prefix* "/")
                                "/"
                                (string-append prefix* "/"))
                            command*)
      (fail "fs: refusing to run ~a: it is not under the permitted host \
command prefix ~a" command* prefix*))
    (unless (and (eq? 'regular (stat:type (stat command*)))
                 (access? command* X_OK))
      (fail "fs: ~a is not an executable file" command*))
    command*))

(define* (action:fs prefix init-pid
                    #:key (default-timeout %default-exec-timeout))
  "Return the `fs' action of a container: run a host command under PREFIX (a
directory, or #f when `fs' is disabled) with the container's root file
system appended; INIT-PID and DEFAULT-TIMEOUT are as for `action:exec'."
  (lambda (running . args)
    (unless prefix
      (fail "fs is disabled: no host command is permitted.  To enable it, \
give swineherd-configuration a #:permitted-host-command-prefix, a directory \
holding the only commands `fs' may run"))
    (let-values (((timeout command) (parse-exec-arguments "fs" args)))
      (let* ((program (permitted-host-command (first command) prefix))
             (root (format #f "/proc/~a/root" (init-pid running))))
        (run-for-herd #f `(,program ,@(cdr command) ,root) timeout
                      #:default-timeout default-timeout)))))

;;; fs.scm ends here
