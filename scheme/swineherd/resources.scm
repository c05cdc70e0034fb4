;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

(define-module (swineherd resources)
  #:use-module (swineherd ffi)
  #:use-module ((fibers) #:select ((sleep . fiber-sleep)))
  #:export (cgroup-command
            remove-cgroup
            cgroup-statistics*))

;;; Commentary:
;;;
;;; A cgroup per container: the wrapper that starts the container's script
;;; inside its cgroup, removal once the container is gone, and the kernel's
;;; accounting.  (The limits of `new' are parsed in `(swineherd parse)'.)
;;;
;;; Code:

(define* (cgroup-command relative command #:key log-file log-size
                         (log-keep 1) (confinement '()))
  "Return COMMAND prefixed with the wrapper that runs it in the cgroup
RELATIVE from its first instruction.  With LOG-FILE, the wrapper also sends
COMMAND's output to LOG-FILE through a logger process in that cgroup,
rotating it at LOG-SIZE bytes and keeping LOG-KEEP older generations.
CONFINEMENT are the wrapper's options that confine COMMAND (see
`confinement-arguments' in (swineherd idmap))."
  `(,(cgexec-file-name)
    ,@(if log-file
          (list (string-append "--log=" log-file)
                (format #f "--log-size=~a" log-size)
                (format #f "--log-keep=~a" log-keep))
          '())
    ,@confinement
    ,relative "--" ,@command))

(define* (remove-cgroup relative #:key (timeout 10))
  "Remove the cgroup RELATIVE, killing what is left in it and waiting (for
TIMEOUT seconds at most, suspending only this fiber) for it to empty.
Return #t once it is gone, #f if it could not be removed in time."
  (let loop ((tries (* timeout 20)))
    (cond ((remove-cgroup-step relative) #t)
          ((zero? tries) #f)
          (else (fiber-sleep 0.05) (loop (- tries 1))))))

(define (cgroup-statistics* relative)
  "Return the accounting of the cgroup RELATIVE, or #f if it does not exist
(the container is not running)."
  (catch 'system-error
    (lambda () (cgroup-statistics relative))
    (const #f)))

;;; resources.scm ends here
