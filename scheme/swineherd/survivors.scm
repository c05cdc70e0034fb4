;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

(define-module (swineherd survivors)
  #:use-module (swineherd config)
  #:use-module ((swineherd ffi) #:select (container-init-pid
                                          pidfd-open
                                          pidfd-signal))
  #:use-module ((swineherd init) #:select (pid-file-pid))
  #:use-module (swineherd utils)
  #:use-module (swineherd wait)
  #:use-module ((shepherd service) #:select (current-service))
  #:use-module ((fibers) #:select (spawn-fiber))
  #:use-module ((fibers conditions) #:select (make-condition
                                              signal-condition!
                                              wait-operation))
  #:use-module ((fibers operations) #:select (perform-operation
                                              choice-operation
                                              wrap-operation))
  #:use-module ((fibers timers) #:select (sleep-operation))
  #:use-module (ice-9 match)
  #:use-module (ice-9 rdelim)
  #:use-module (srfi srfi-1)
  #:use-module (srfi srfi-9)
  #:use-module (srfi srfi-26)
  #:export (in-cgroup?
            survivor?
            survivor-main
            survivor-init
            find-survivor
            watch-survivor
            terminate-survivor
            wait-for-exit))

;;; Commentary:
;;;
;;; The containers that survived a restart of Shepherd: a survivor is a
;;; container whose recorded init is alive, in the container's cgroup and
;;; the init of a PID namespace; its script, the init's parent, is kept in
;;; view too when it survived (it is then the process Shepherd shows).
;;; Shepherd cannot `waitpid' a process it did not fork, so a survivor is
;;; watched through a pidfd, which becomes readable when the process exits,
;;; from a fiber.
;;;
;;; Code:

(define (scan-proc-file pid name line-value)
  "Return the first true value of LINE-VALUE for the lines of
/proc/PID/NAME, or #f if none has one or the process is gone."
  (catch 'system-error
    (lambda ()
      (call-with-input-file (format #f "/proc/~a/~a" pid name)
        (lambda (port)
          (let loop ((line (read-line port)))
            (and (not (eof-object? line))
                 (or (line-value line) (loop (read-line port))))))))
    (const #f)))

(define (in-cgroup? pid relative)
  "Return true if process PID is in the cgroup RELATIVE."
  (let ((suffix (string-append ":/" relative)))
    (scan-proc-file pid "cgroup" (cut string-suffix? suffix <>))))

(define (parent-pid pid)
  "Return the PID of the parent of process PID, or #f if PID is gone."
  (scan-proc-file pid "status"
                  (lambda (line)
                    (and (string-prefix? "PPid:" line)
                         (string->number
                          (string-trim-both (string-drop line 5)))))))

(define-record-type <survivor>
  (%survivor main init pidfd exited)
  survivor?
  (main   survivor-main)         ;the script, or the init if the script is gone
  (init   survivor-init)         ;the container's PID 1, as a host PID
  (pidfd  survivor-pidfd)        ;pidfd of MAIN
  (exited survivor-exited))      ;condition, signalled when MAIN has exited

(define (open-member pid cgroup)
  "Return a pidfd of process PID if it is alive and in CGROUP, else #f.
The pidfd is opened first and checked last: a PID reused between the two
checks is caught."
  (let ((pidfd (false-if-system-error (pidfd-open pid))))
    (cond ((not pidfd) #f)
          ((and (in-cgroup? pid cgroup) (pidfd-signal pidfd 0)) pidfd)
          (else (close-fdes pidfd) #f))))

(define (cgroup-members relative)
  "Return the PIDs in the cgroup RELATIVE, read from the first hierarchy
under /sys/fs/cgroup that has it (all of a container's hierarchies hold the
same processes); none if it has none."
  (define (procs directory)
    (string-append directory "/" relative "/cgroup.procs"))
  (match (filter file-exists?
                 (cons (procs "/sys/fs/cgroup")
                       (map (lambda (hierarchy)
                              (procs (string-append "/sys/fs/cgroup/"
                                                    hierarchy)))
                            (entries "/sys/fs/cgroup"))))
    (() '())
    ((file . _)
     (catch 'system-error
       (lambda ()
         (call-with-input-file file
           (lambda (port)
             (let loop ((line (read-line port)) (pids '()))
               (if (eof-object? line)
                   (reverse pids)
                   (loop (read-line port)
                         (match (string->number line)
                           (#f pids)
                           (pid (cons pid pids)))))))))
       (const '())))))

(define (survivor-below top hint cgroup)
  "Return the survivor whose main process is TOP, in CGROUP, if below TOP
runs the init of a PID namespace (HINT, from the PID file, if it is one),
else #f."
  (let ((init (false-if-system-error (container-init-pid top hint))))
    (and init
         (in-cgroup? init cgroup)
         (let ((pidfd (open-member top cgroup)))
           (and pidfd (%survivor top init pidfd (make-condition)))))))

(define (find-survivor config id)
  "Return the survivor of container ID, a Shepherd restart ago, or a text
saying why its processes cannot be adopted, or #f if none is left.  Its
processes are those of its cgroup (a PID file can name a process that
reused the PID): the topmost one (the script, or the init if the script is
gone) must have the init of a PID namespace below it, also in the cgroup."
  (define cgroup (container-cgroup config id))
  (define members (cgroup-members cgroup))
  (define hint (pid-file-pid (container-pid-file config id)))
  (define tops
    (remove (lambda (pid) (memv (parent-pid pid) members)) members))
  (and (pair? members)
       (or (any (lambda (top) (survivor-below top hint cgroup)) tops)
           (format #f "no init of a PID namespace among its processes ~a"
                   members))))

(define (watch-survivor s on-exit)
  "In a fiber of its own, wait until the main process of survivor S exits,
then close its pidfd, signal its `exited' condition and call ON-EXIT.  The
fiber leaves the dynamic state of its spawner (Shepherd's `start-service'
sends a service's output to its logger, which ends with the service): it
runs without a current service and writes nowhere but to Shepherd's log."
  (spawn-fiber
   (lambda ()
     (parameterize ((current-service #f)
                    (current-output-port (%make-void-port "w"))
                    (current-error-port (%make-void-port "w")))
       (let ((port (fdopen (survivor-pidfd s) "r")))  ;closing it closes the pidfd
         (perform-operation (port-readable-operation port))
         (close-port port)
         (signal-condition! (survivor-exited s))
         (on-exit))))))

(define (terminate-survivor s grace-period)
  "Stop survivor S, watched by `watch-survivor', without a wait status
(Shepherd never gets one): SIGTERM to its main process's group (as
Shepherd's `make-kill-destructor' does for its own children), then wait up
to GRACE-PERIOD seconds for it to exit.  Return #t if it did; what is left
of it is for its cgroup's removal to kill."
  (let ((main (survivor-main s)))
    (catch 'system-error
      (lambda () (kill (- main) SIGTERM))
      (lambda _                                   ;MAIN leads no group
        (false-if-system-error (kill main SIGTERM))))
    (perform-operation
     (choice-operation (wrap-operation (wait-operation (survivor-exited s))
                                       (const #t))
                       (wrap-operation (sleep-operation grace-period)
                                       (const #f))))))

(define (wait-for-exit pid seconds)
  "Wait, suspending this fiber only, until process PID (not necessarily a
child of ours) exits, through a pidfd, or SECONDS have passed.  Return #t
if it exited (or was gone already), #f after SECONDS."
  (match (catch 'system-error
           (lambda () (pidfd-open pid))
           (const #f))                            ;ESRCH: gone already
    (#f #t)
    (pidfd
     ;; No `dynamic-wind' to close it: suspending the fiber leaves its
     ;; extent.
     (let* ((port (fdopen pidfd "r"))          ;closing it closes the pidfd
            (exited? (perform-operation
                      (choice-operation
                       (wrap-operation (port-readable-operation port)
                                       (const #t))
                       (wrap-operation (sleep-operation seconds)
                                       (const #f))))))
       (close-port port)
       exited?))))

;;; survivors.scm ends here
