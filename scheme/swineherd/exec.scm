;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

(define-module (swineherd exec)
  #:use-module (swineherd arguments)
  #:use-module (swineherd client)
  #:use-module (swineherd ffi)
  #:use-module (swineherd utils)
  #:use-module (swineherd wait)
  #:use-module ((fibers) #:select (spawn-fiber (sleep . fiber-sleep)))
  #:use-module (fibers operations)
  #:use-module ((fibers scheduler) #:select (yield-current-task))
  #:use-module (fibers timers)
  #:use-module (ice-9 binary-ports)
  #:use-module (ice-9 control)
  #:use-module (ice-9 iconv)
  #:use-module (ice-9 match)
  #:use-module (ice-9 suspendable-ports)
  #:use-module (rnrs bytevectors)
  #:use-module (srfi srfi-1)
  #:use-module (srfi srfi-11)
  #:use-module (srfi srfi-26)
  #:re-export (parse-exec-arguments
               %default-exec-timeout
               %max-timeout)
  #:export (%exec-environment
            read-available!
            %output-limit
            container-exec
            status->message
            run-for-herd
            decode-output
            action:exec))

;;; Commentary:
;;;
;;; Running commands in containers (`exec'; also used by `(swineherd fs)'
;;; and `(swineherd peek)'), without ever blocking
;;; Shepherd: the library starts the command and hands back file
;;; descriptors, and the calling fiber waits for them with Fibers while
;;; Shepherd serves its other clients.  See the nodes "Running Commands"
;;; and "Reading Files" of the manual (doc/swineherd.texi) for the design.
;;;
;;; Code:

;;;
;;; Running commands.
;;;

(define %exec-environment
  ;; The whole environment of a command: Shepherd's own is not passed on.
  '("PATH=/run/current-system/profile/bin:/run/current-system/profile/sbin:\
/usr/bin:/usr/sbin:/bin:/sbin"
    "HOME=/root"
    "USER=root"
    "LOGNAME=root"
    "LANG=C.UTF-8"
    "TERM=dumb"))

(define %output-limit
  ;; Bytes of standard output, and of standard error, kept per command; the
  ;; rest is read and dropped, so that the command never blocks on a full
  ;; pipe and Shepherd's memory stays bounded.
  (* 1024 1024))

(define %chunk-size 65536)

(define (read-available! port buffer)
  "Read into BUFFER, a bytevector, what PORT (a non-blocking input port) has
to offer right now: return the number of bytes read, the EOF object, or #f
if reading would block.  Never suspends, and allocates nothing: a command
that floods its output costs Shepherd no memory past its sinks' limits."
  (let/ec return
    (parameterize ((current-read-waiter (lambda (port) (return #f))))
      (get-bytevector-some! port buffer 0 (bytevector-length buffer)))))

;; The output of a command so far: chunks (newest first), bytes kept, bytes
;; dropped past the limit.
(define (make-sink) (vector '() 0 0))

(define (sink-add! sink buffer count limit)
  "Add the first COUNT bytes of BUFFER to SINK, keeping at most LIMIT bytes
in all; only what is kept is copied."
  (match sink
    (#(chunks kept dropped)
     (let ((n (min (max 0 (- limit kept)) count)))
       (unless (zero? n)
         (let ((part (make-bytevector n)))
           (bytevector-copy! buffer 0 part 0 n)
           (vector-set! sink 0 (cons part chunks))
           (vector-set! sink 1 (+ kept n))))
       (vector-set! sink 2 (+ dropped (- count n)))))))

(define (sink-contents sink what)
  "Return the bytes kept by SINK, followed by a line saying how many bytes
of WHAT (\"standard output\"...) were dropped, if any."
  (match sink
    (#(chunks _ dropped)
     (let ((chunks (if (zero? dropped)
                       chunks
                       (cons (string->utf8
                              (format #f "~%[swineherd: ~a more bytes of ~a \
were dropped]~%" dropped what))
                             chunks))))
       (let* ((size (fold (lambda (chunk n) (+ n (bytevector-length chunk)))
                          0 chunks))
              (bv (make-bytevector size)))
         (fold (lambda (chunk offset)
                 (let ((offset (- offset (bytevector-length chunk))))
                   (bytevector-copy! chunk 0 bv offset
                                     (bytevector-length chunk))
                   offset))
               size chunks)
         bv)))))

(define* (pump! port sink limit buffer #:optional (max-reads 16))
  "Move what PORT has now into SINK through BUFFER, MAX-READS reads at most.
Return #f at end of file, else #t."
  (let loop ((n 0))
    (match (and (< n max-reads) (read-available! port buffer))
      (#f #t)
      ((? eof-object?) #f)
      (count (sink-add! sink buffer count limit) (loop (+ n 1))))))

(define (drain! port sink limit buffer)
  "Move what PORT has now into SINK: what a command wrote before it ended
(a pipe holds 64 KiB), not what a process it left behind keeps writing."
  (pump! port sink limit buffer 64))

(define (nonblocking-input-port fd)
  "Return an input port for FD, a non-blocking descriptor; closing the port
closes FD (and tells Fibers to forget it)."
  (let ((port (fdopen fd "r")))
    (setvbuf port 'block %chunk-size)
    port))

(define (seconds->ms seconds)
  (if seconds
      (max 1 (inexact->exact (ceiling (* 1000 seconds))))
      0))

(define* (container-exec init-pid command
                         #:key timeout cgroup client
                         (environment %exec-environment)
                         (output-limit %output-limit))
  "Run COMMAND, a list of strings (the program, looked up in ENVIRONMENT's
PATH, then its arguments), in every namespace and the root of the container
whose init has host PID INIT-PID, as its root user, in /, with standard
input from /dev/null and ENVIRONMENT as its whole environment; on the host
when INIT-PID is #f.  When TIMEOUT (seconds) is true, kill it and its
process group once it has run that long.  When CGROUP is true, the command
starts in that cgroup (relative to each hierarchy's root).  When CLIENT, the
socket of a herd client (see `current-client-socket'), is true, kill the
command as soon as that client goes away, and raise an error saying so.

Suspend the calling fiber only, until the command has ended.  Return four
values: its wait status, its standard output and its standard error (two
bytevectors of at most OUTPUT-LIMIT bytes each; the rest is dropped, and a
last line says how much), and whether it was killed at its deadline.
Throw a `system-error' if it could not be started, or if its program could
not be executed (\"cannot run PROGRAM: ...\", with that errno)."
  (define-values (command-pid pidfd out-fd err-fd report)
    (exec-spawn (or init-pid 0) command environment (seconds->ms timeout)
                cgroup))
  (define relay (fdopen pidfd "r"))
  (define out (nonblocking-input-port out-fd))
  (define err (nonblocking-input-port err-fd))
  (define out-sink (make-sink))
  (define err-sink (make-sink))
  (define buffer (make-bytevector %chunk-size))
  (define reaped #f)                   ;(status exec-errno timed-out?)
  (define gave-up? #f)
  (define client-gone? #f)
  ;; The relay kills the command at its deadline; this one, a little later,
  ;; is in case the relay itself cannot finish.
  (define deadline
    (and timeout
         (+ (get-internal-real-time)
            (* (+ timeout 5) internal-time-units-per-second))))

  (define (readable port tag)
    (wrap-operation (port-readable-operation port) (const tag)))

  (define (wait-loop)
    ;; Until the relay exits (after the command), move output into the
    ;; sinks; yield after each wakeup so that a chatty command cannot keep
    ;; Shepherd from its other clients.  CLIENT: the herd client's socket,
    ;; while it is watched.
    (let loop ((out-open? #t) (err-open? #t) (client client))
      (match (perform-operation
              (apply choice-operation
                     (readable relay 'ended)
                     `(,@(if out-open? (list (readable out 'out)) '())
                       ,@(if err-open? (list (readable err 'err)) '())
                       ,@(if client (list (client-gone-operation client)) '())
                       ,@(if deadline
                             (list (wrap-operation
                                    (sleep-operation
                                     (max 0 (/ (- deadline
                                                  (get-internal-real-time))
                                               internal-time-units-per-second)))
                                    (const 'deadline)))
                             '()))))
        ('ended #t)
        ('out
         (let ((open? (pump! out out-sink output-limit buffer)))
           (yield-current-task)
           (loop open? err-open? client)))
        ('err
         (let ((open? (pump! err err-sink output-limit buffer)))
           (yield-current-task)
           (loop out-open? open? client)))
        ('gone
         (exec-kill pidfd)
         (set! client-gone? #t)
         (loop out-open? err-open? #f))
        ('data
         (loop out-open? err-open? #f))
        ('deadline
         (exec-kill pidfd)
         (set! gave-up? #t)
         (set! deadline #f)
         (loop out-open? err-open? client))))
    ;; What the command wrote before it ended is in the pipes now; what
    ;; processes it left behind may write later is not waited for.
    (drain! out out-sink output-limit buffer)
    (drain! err err-sink output-limit buffer)
    (let loop ()
      (call-with-values (lambda () (exec-reap pidfd report))
        (match-lambda*
          ((#f)                               ;readable yet not reapable?
           (fiber-sleep 0.01)
           (loop))
          ((status exec-errno timed-out?)
           (set! reaped (list status exec-errno (or timed-out? gave-up?))))))))

  (define (close-all)
    (close-port out)
    (close-port err)
    (close-port relay)
    (close-fdes report))

  (catch #t
    wait-loop
    (lambda (key . args)
      ;; Never leave the command running nor its relay a zombie: kill it,
      ;; and let a fiber of its own reap it and close the descriptors.
      (false-if-exception (exec-kill pidfd))
      (spawn-fiber
       (lambda ()
         (perform-operation (port-readable-operation relay))
         (false-if-exception (exec-reap pidfd report))
         (close-all)))
      (apply throw key args)))
  (close-all)
  (match reaped
    ((status exec-errno timed-out?)
     (unless (zero? exec-errno)
       (throw 'system-error 'container-exec "cannot run ~A: ~A"
              (list (first command) (strerror exec-errno))
              (list exec-errno)))
     (when client-gone?
       (fail "~a: herd's client went away; the command was killed"
             (first command)))
     (values status
             (sink-contents out-sink "standard output")
             (sink-contents err-sink "standard error")
             timed-out?))))

(define %signal-names
  `((,SIGHUP . "SIGHUP") (,SIGINT . "SIGINT") (,SIGQUIT . "SIGQUIT")
    (,SIGILL . "SIGILL") (,SIGABRT . "SIGABRT") (,SIGFPE . "SIGFPE")
    (,SIGKILL . "SIGKILL") (,SIGSEGV . "SIGSEGV") (,SIGPIPE . "SIGPIPE")
    (,SIGALRM . "SIGALRM") (,SIGTERM . "SIGTERM") (,SIGUSR1 . "SIGUSR1")
    (,SIGUSR2 . "SIGUSR2") (,SIGBUS . "SIGBUS")))

(define (status->message status)
  "Return a phrase saying how a process with wait STATUS ended."
  (cond ((status:exit-val status)
         => (lambda (code) (format #f "exited with status ~a" code)))
        ((status:term-sig status)
         => (lambda (signal)
              (match (assv-ref %signal-names signal)
                (#f (format #f "killed by signal ~a" signal))
                (name (format #f "killed by signal ~a (~a)" signal name)))))
        (else (format #f "ended with wait status ~a" status))))


;;;
;;; Actions.
;;;

(define %output-line-limit
  ;; Lines of standard output, and of standard error, shown per command.
  ;; Shepherd copies each line of an action's output to its log, with a
  ;; timestamp (about 20 µs a line), and splits the reply into lines: a
  ;; megabyte of "y" lines held it for 9 s.
  5000)

(define (nth-newline text n)
  "Return the index of the Nth newline of TEXT, or #f if it has fewer."
  (let loop ((start 0) (n n))
    (match (string-index text #\newline start)
      (#f #f)
      (index (if (= n 1) index (loop (+ index 1) (- n 1)))))))

(define* (display-in-slices text #:optional (lines 256))
  "Display TEXT on the current output port LINES lines at a time, yielding
to other fibers between slices: Shepherd logs each line as it is written."
  (let loop ((start 0))
    (match (nth-newline (substring/shared text start) lines)
      (#f (display (substring/shared text start)))
      (index
       (display (substring/shared text start (+ start index 1)))
       (yield-current-task)
       (loop (+ start index 1))))))

(define (show-output bv what)
  "Print BV, bytes of a command's output (WHAT: \"standard output\"...), on
the current output port (herd receives it), decoded as UTF-8 with invalid
bytes replaced and control characters escaped; at most %OUTPUT-LINE-LIMIT
lines, and a last line says how many more were dropped."
  (unless (zero? (bytevector-length bv))
    (let* ((text (escape-control-characters (decode-output bv)))
           (cut (nth-newline text %output-line-limit)))
      (display-in-slices (if cut (substring/shared text 0 (+ cut 1)) text))
      (when cut
        (format #t "[swineherd: ~a more lines of ~a were dropped]~%"
                (string-count text #\newline (+ cut 1)) what)))))

(define (decode-output bv)
  "Decode BV as UTF-8, replacing invalid bytes."
  (catch 'decoding-error
    (lambda () (utf8->string bv))
    (lambda _ (bytevector->string bv "UTF-8" 'substitute))))

(define* (run-for-herd init-pid command timeout #:key cgroup
                       (default-timeout %default-exec-timeout))
  "Run COMMAND with `container-exec' (on the host if INIT-PID is #f, in
CGROUP if it is true) for at most TIMEOUT seconds (DEFAULT-TIMEOUT if #f),
print its standard output then its standard error for herd, and return #t
if it succeeded; otherwise raise an error saying how it ended.  The command
is killed if herd's client goes away."
  (define limit (or timeout default-timeout))
  (let-values (((status stdout stderr timed-out?)
                (catch 'system-error
                  (lambda ()
                    (container-exec init-pid command #:timeout limit
                                    #:cgroup cgroup
                                    #:client (current-client-socket)))
                  (lambda (key . args)
                    (fail "~a" (exception-text key args))))))
    (show-output stdout "standard output")
    ;; Keep standard error off the last line of an unfinished output.
    (unless (or (zero? (bytevector-length stdout))
                (zero? (bytevector-length stderr))
                (= 10 (bytevector-u8-ref stdout
                                         (- (bytevector-length stdout) 1))))
      (newline))
    (show-output stderr "standard error")
    (cond (timed-out?
           (fail "command timed out after ~a s~a and was ~a" limit
                 (if timeout "" " (the default limit; give --timeout=SECONDS \
for more)")
                 (status->message status)))
          ((zero? status) #t)
          (else
           (fail "command ~a" (status->message status))))))

(define* (action:exec init-pid cgroup
                      #:key (default-timeout %default-exec-timeout))
  "Return the `exec' action of a container whose cgroup is CGROUP; INIT-PID
is a procedure of the service's running value that returns the host PID of
its init (or raises a clear error).  Commands without --timeout are killed
after DEFAULT-TIMEOUT seconds."
  (lambda (running . args)
    (let-values (((timeout command) (parse-exec-arguments "exec" args)))
      (run-for-herd (init-pid running) command timeout #:cgroup cgroup
                    #:default-timeout default-timeout))))

;;; exec.scm ends here
