;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

(define-module (swineherd exec)
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
  #:use-module (ice-9 regex)
  #:use-module (ice-9 suspendable-ports)
  #:use-module (rnrs bytevectors)
  #:use-module (srfi srfi-1)
  #:use-module (srfi srfi-11)
  #:use-module (srfi srfi-26)
  #:export (%exec-environment
            %output-limit
            container-exec
            status->message
            parse-exec-arguments
            last-matching-line
            peek-in-container
            permitted-host-command
            action:exec
            action:peek
            action:fs))

;;; Commentary:
;;;
;;; Running commands in containers (`exec'), on their file systems from the
;;; host (`fs'), and reading their files (`peek'), without ever blocking
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

(define (read-available port)
  "Return what PORT, a non-blocking input port, has to offer right now: a
bytevector, the EOF object, or #f if reading would block.  Never suspends."
  (let/ec return
    (parameterize ((current-read-waiter (lambda (port) (return #f))))
      (get-bytevector-some port))))

;; The output of a command so far: chunks (newest first), bytes kept, bytes
;; dropped past the limit.
(define (make-sink) (vector '() 0 0))

(define (sink-add! sink bv limit)
  "Add BV to SINK, keeping at most LIMIT bytes in all."
  (match sink
    (#(chunks kept dropped)
     (let* ((room (max 0 (- limit kept)))
            (n (min room (bytevector-length bv))))
       (unless (zero? n)
         (vector-set! sink 0
                      (cons (if (= n (bytevector-length bv))
                                bv
                                (let ((part (make-bytevector n)))
                                  (bytevector-copy! bv 0 part 0 n)
                                  part))
                            chunks))
         (vector-set! sink 1 (+ kept n)))
       (vector-set! sink 2 (+ dropped (- (bytevector-length bv) n)))))))

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

(define (pump! port sink limit)
  "Move what PORT has now into SINK, a few chunks at most.  Return #f at
end of file, else #t."
  (let loop ((n 0))
    (match (and (< n 16) (read-available port))
      (#f #t)
      ((? eof-object?) #f)
      (bv (sink-add! sink bv limit) (loop (+ n 1))))))

(define (drain! port sink limit)
  "Move everything PORT has now into SINK, until it would block or ends."
  (let loop ()
    (match (read-available port)
      ((? bytevector? bv) (sink-add! sink bv limit) (loop))
      (_ #t))))

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
                         #:key timeout cgroup
                         (environment %exec-environment)
                         (output-limit %output-limit))
  "Run COMMAND, a list of strings (the program, looked up in ENVIRONMENT's
PATH, then its arguments), in every namespace and the root of the container
whose init has host PID INIT-PID, as its root user, in /, with standard
input from /dev/null and ENVIRONMENT as its whole environment; on the host
when INIT-PID is #f.  When TIMEOUT (seconds) is true, kill it and its
process group once it has run that long.  When CGROUP is true, the command
starts in that cgroup (relative to each hierarchy's root).

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
  (define reaped #f)                   ;(status exec-errno timed-out?)
  (define gave-up? #f)
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
    ;; Shepherd from its other clients.
    (let loop ((out-open? #t) (err-open? #t))
      (match (perform-operation
              (apply choice-operation
                     (readable relay 'ended)
                     `(,@(if out-open? (list (readable out 'out)) '())
                       ,@(if err-open? (list (readable err 'err)) '())
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
         (let ((open? (pump! out out-sink output-limit)))
           (yield-current-task)
           (loop open? err-open?)))
        ('err
         (let ((open? (pump! err err-sink output-limit)))
           (yield-current-task)
           (loop out-open? open?)))
        ('deadline
         (exec-kill pidfd)
         (set! gave-up? #t)
         (set! deadline #f)
         (loop out-open? err-open?))))
    ;; What the command wrote before it ended is in the pipes now; what
    ;; processes it left behind may write later is not waited for.
    (drain! out out-sink output-limit)
    (drain! err err-sink output-limit)
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

(define (parse-timeout value)
  "Parse VALUE, the argument of --timeout: a positive number of seconds."
  (match (and value (string->number value))
    ((? (lambda (n) (and (real? n) (positive? n))) n) n)
    (_ (fail "invalid --timeout ~s: give a positive number of seconds, \
e.g. --timeout=5 or --timeout=0.5" value))))

(define (parse-exec-arguments action args)
  "Parse ARGS, the arguments of ACTION (`exec' or `fs'), of the form
[--timeout=SECONDS...] [--] COMMAND [ARG...].  Return two values: the
timeout (#f for none) and the command, a non-empty list of strings."
  (define usage
    (format #f "usage: herd ~a swine:ID -- [--timeout=SECONDS] COMMAND [ARG...]"
            action))
  (when (any keyword? args)
    (fail "herd turned an option into ~s: put `--' right after `~a swine:ID' \
so that the command and its options reach it intact; ~a"
          (find keyword? args) action usage))
  (let loop ((args args) (timeout #f))
    (match args
      (("--" . command)
       (loop command timeout))          ;only a leading `--' ends options
      (((? (cut string-prefix? "--timeout=" <>) word) . rest)
       (loop rest (parse-timeout (string-drop word (string-length "--timeout=")))))
      (((? (cut string-prefix? "--" <>) word) . _)
       (fail "unknown option ~s for ~a; swineherd's only option is \
--timeout=SECONDS, given after `--' and before COMMAND; ~a" word action usage))
      (()
       (fail "~a: no COMMAND given; ~a" action usage))
      (command
       (values timeout command)))))

(define (show-output bv)
  "Print BV, bytes of a command's output, on the current output port (herd
receives it), decoded as UTF-8 with invalid bytes replaced."
  (unless (zero? (bytevector-length bv))
    (display (decode bv))))

(define* (run-for-herd init-pid command timeout #:optional cgroup)
  "Run COMMAND with `container-exec' (on the host if INIT-PID is #f, in
CGROUP if it is true), print its standard output then its standard error
for herd, and return #t if it succeeded; otherwise raise an error saying
how it ended."
  (let-values (((status stdout stderr timed-out?)
                (catch 'system-error
                  (lambda ()
                    (container-exec init-pid command #:timeout timeout
                                    #:cgroup cgroup))
                  (lambda (key . args)
                    (fail "~a" (exception-text key args))))))
    (show-output stdout)
    ;; Keep standard error off the last line of an unfinished output.
    (unless (or (zero? (bytevector-length stdout))
                (zero? (bytevector-length stderr))
                (= 10 (bytevector-u8-ref stdout
                                         (- (bytevector-length stdout) 1))))
      (newline))
    (show-output stderr)
    (cond (timed-out?
           (fail "command timed out after ~a s and was ~a" timeout
                 (status->message status)))
          ((zero? status) #t)
          (else
           (fail "command ~a" (status->message status))))))

(define (action:exec init-pid cgroup)
  "Return the `exec' action of a container whose cgroup is CGROUP; INIT-PID
is a procedure of the service's running value that returns the host PID of
its init (or raises a clear error)."
  (lambda (running . args)
    (let-values (((timeout command) (parse-exec-arguments "exec" args)))
      (run-for-herd (init-pid running) command timeout cgroup))))


;;;
;;; peek.
;;;

(define %max-line-length
  ;; Longer lines are skipped: a hostile file with one huge line must not
  ;; fill Shepherd's memory.
  65536)

(define (newline-index bv end)
  "Return the position of the first newline of BV in [0, END), or #f."
  ;; Latin-1 maps bytes to characters one to one: `string-index' (in C)
  ;; finds the byte.  Lines are usually short: look at the start first.
  (define (search end)
    (string-index (bytevector->string (if (= end (bytevector-length bv))
                                          bv
                                          (sub-bytevector bv 0 end))
                                      "ISO-8859-1")
                  #\newline))
  (or (search (min end 512))
      (and (> end 512) (search end))))

(define (sub-bytevector bv start end)
  (let ((result (make-bytevector (- end start))))
    (bytevector-copy! bv start result 0 (- end start))
    result))

(define (bytevector-append a b)
  (let ((result (make-bytevector (+ (bytevector-length a)
                                    (bytevector-length b)))))
    (bytevector-copy! a 0 result 0 (bytevector-length a))
    (bytevector-copy! b 0 result (bytevector-length a) (bytevector-length b))
    result))

(define (decode bv)
  "Decode BV as UTF-8, replacing invalid bytes."
  (catch 'decoding-error
    (lambda () (utf8->string bv))
    (lambda _ (bytevector->string bv "UTF-8" 'substitute))))

(define* (last-matching-line port size matches?
                             #:key (block-may-match? (const #t))
                             (chunk-size %chunk-size)
                             (max-line-length %max-line-length))
  "Return the last line (a string, without its newline) among the first SIZE
bytes of PORT, a seekable input port, for which MATCHES? returns true, or
#f.  Lines are decoded as UTF-8, invalid bytes replaced.  BLOCK-MAY-MATCH?
is given complete lines joined by newlines and may return #f only if none
of them matches: a fast filter that spares checking lines one by one.

Read backwards from SIZE, CHUNK-SIZE bytes at a time, yielding to other
fibers between chunks: the last lines are found first, and a file that
grows meanwhile is read only up to SIZE.  Lines longer than MAX-LINE-LENGTH
are skipped, so that a hostile file cannot fill Shepherd's memory."
  (define (line-ok? line first? skip? end)
    ;; LINE is the last complete line of a block when FIRST? is true.
    (and (not (and first? skip?))          ;the head of a skipped line
         ;; What follows the file's last newline is not a line.
         (not (and first? (= end size) (string-null? line)))
         (<= (string-length line) max-line-length)
         (matches? line)))

  (define (check-block text skip? end)
    ;; TEXT: complete lines joined by newlines; return the last that
    ;; matches, or #f.
    (and (block-may-match? text)
         (let check ((line-end (string-length text)) (first? #t) (n 1))
           (let* ((newline (string-rindex text #\newline 0 line-end))
                  (line (substring text (if newline (+ newline 1) 0) line-end)))
             (cond ((line-ok? line first? skip? end) line)
                   (newline
                    (when (zero? (modulo n 512))
                      (yield-current-task))
                    (check newline #f (+ n 1)))
                   (else #f))))))

  ;; TAIL: the bytes from END up to the first newline after END (or up to
  ;; SIZE): a line whose beginning is not read yet.  SKIP?: that line is
  ;; too long and is being skipped.
  (let loop ((end size) (tail #vu8()) (skip? #f))
    (let* ((start (max 0 (- end chunk-size)))
           (chunk (if (= start end)
                      #vu8()
                      (begin
                        (seek port start SEEK_SET)
                        (get-bytevector-n port (- end start)))))
           (chunk (if (eof-object? chunk) #vu8() chunk)))
      (unless (= (bytevector-length chunk) (- end start))
        (fail "the file shrank while it was read"))
      (let* ((data (bytevector-append chunk tail))
             (newline (newline-index data (bytevector-length chunk)))
             (found (and newline
                         (check-block (decode (sub-bytevector
                                               data (+ newline 1)
                                               (bytevector-length data)))
                                      skip? end))))
        ;; HEAD: the line that begins before START, or at 0.
        (define head (if newline (sub-bytevector data 0 newline) data))
        (define head-skip? (and (not newline) skip?))
        (cond (found found)
              ((zero? start)
               (let ((line (decode head)))
                 (and (line-ok? line (not newline) head-skip? end)
                      line)))
              ((or head-skip? (> (bytevector-length head) max-line-length))
               (yield-current-task)
               (loop start #vu8() #t))
              (else
               (yield-current-task)
               (loop start head #f)))))))

(define (peek-in-container init-pid file regex)
  "Return the last line, a string, of FILE (a file name inside the container
whose init has host PID INIT-PID) that matches REGEX (a POSIX extended
regular expression string), reading only the bytes FILE had when the read
started; #f if no line matches.  Raise a clear error for a bad REGEX or a
FILE that cannot be opened."
  (define (compile . flags)
    (catch 'regular-expression-syntax
      (lambda () (apply make-regexp regex regexp/extended flags))
      (lambda (key who message . _)
        (fail "invalid regular expression ~s: ~a" regex message))))
  (define rx (compile))
  ;; With regexp/newline, `^' and `$' match at line boundaries and `.' does
  ;; not match a newline: a block with a matching line matches.
  (define block-rx (compile regexp/newline))
  (let ((port (fdopen (catch 'system-error
                        (lambda () (open-in-container init-pid file))
                        (lambda (key . args)
                          (fail "cannot read ~a in the container: ~a" file
                                (exception-text key args))))
                      "r")))
    ;; Not `dynamic-wind': the scan suspends the fiber, which would run its
    ;; exit thunk and close PORT under the scan's feet.
    (let ((line (catch #t
                  (lambda ()
                    (last-matching-line
                     port (stat:size (stat port))
                     (lambda (line)
                       (false-if-exception (regexp-exec rx line)))
                     #:block-may-match?
                     (lambda (text)
                       (or (false-if-exception (regexp-exec block-rx text))
                           ;; An encoding error: check line by line.
                           (not (false-if-exception
                                 (begin (regexp-exec block-rx text) #t)))))))
                  (lambda (key . args)
                    (close-port port)
                    (apply throw key args)))))
      (close-port port)
      line)))

(define (action:peek init-pid)
  "Return the `peek' action of a container; INIT-PID is as for
`action:exec'."
  (lambda (running . args)
    (match args
      (((? string? file) (? string? regex))
       (let ((pid (init-pid running)))
         (match (peek-in-container pid file regex)
           (#f (fail "no line of ~a matches ~s" file regex))
           (line (format #t "~a~%" line) #t))))
      (_
       (fail "peek: expected FILE and REGEX; usage: herd peek swine:ID FILE \
REGEX (FILE is a file name inside the container)")))))


;;;
;;; fs: host commands on the container's file system.
;;;

(define (permitted-host-command command prefix)
  "Return the canonical file name of COMMAND if it is an executable regular
file below the directory PREFIX (both canonicalized, so symlinks and `..'
cannot lead outside), or raise a clear error."
  (unless (absolute-file-name? command)
    (fail "fs: ~s is not an absolute file name; give the full file name of a \
command under ~a" command prefix))
  (let ((prefix* (or (false-if-exception (canonicalize-path prefix))
                     (fail "fs: the permitted host command prefix ~a does not \
exist" prefix)))
        (command* (or (false-if-exception (canonicalize-path command))
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

(define (action:fs prefix init-pid)
  "Return the `fs' action of a container: run a host command under PREFIX (a
directory, or #f when `fs' is disabled) with the container's root file
system appended; INIT-PID is as for `action:exec'."
  (lambda (running . args)
    (unless prefix
      (fail "fs is disabled: no host command is permitted.  To enable it, \
give swineherd-configuration a #:permitted-host-command-prefix, a directory \
holding the only commands `fs' may run"))
    (let-values (((timeout command) (parse-exec-arguments "fs" args)))
      (let* ((program (permitted-host-command (first command) prefix))
             (root (format #f "/proc/~a/root" (init-pid running))))
        (run-for-herd #f `(,program ,@(cdr command) ,root) timeout)))))

;;; exec.scm ends here
