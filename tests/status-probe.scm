;;; status-probe.scm --- time Shepherd's answers, without herd's start-up.
;;;
;;; Usage: guile tests/status-probe.scm SOCKET PID OUTPUT
;;;        guile tests/status-probe.scm SOCKET COUNT
;;;
;;; Every 0.5 s until killed: send `status root' to the Shepherd listening
;;; on SOCKET, as herd does, and append to OUTPUT one line: the
;;; milliseconds until its whole reply was read (99999 if it failed), and
;;; the RSS (KiB) of the Shepherd whose PID is PID.  One long-lived process,
;;; so that the figures are Shepherd's, not the start-up time of a Guile
;;; client on a busy machine.
;;;
;;; With COUNT: send `status root' COUNT times, one after the other, then
;;; have Shepherd evaluate COUNT / 10 times a 60,000-character string and
;;; reply with it, and exit: a fixed workload for Shepherd (small requests;
;;; long replies, as peek's long lines make), whose CPU time scenario 14
;;; takes as the measure of how fast this machine runs Shepherd.

(use-modules (shepherd comm) (ice-9 match) (ice-9 rdelim))

(define (rss-kib pid)
  "Return the resident set size of process PID, in KiB, or 0."
  (call-with-input-file (format #f "/proc/~a/status" pid)
    (lambda (port)
      (let loop ()
        (match (read-line port)
          ((? eof-object?) 0)
          ((? (lambda (line) (string-prefix? "VmRSS:" line)) line)
           (string->number (car (string-tokenize (string-drop line 6)))))
          (_ (loop)))))))

(define* (status-ms socket #:optional (command (shepherd-command 'status 'root)))
  "Return how many milliseconds Shepherd on SOCKET takes to answer
`status root' (or COMMAND), or 99999 if it fails."
  (let ((start (get-internal-real-time)))
    (catch #t
      (lambda ()
        (let ((sock (open-connection socket)))
          (write-command command sock)
          (read sock)
          (close-port sock)
          (quotient (* 1000 (- (get-internal-real-time) start))
                    internal-time-units-per-second)))
      (const 99999))))

(match (command-line)
  ((_ socket count)
   (let ((count (string->number count))
         (long-reply (shepherd-command 'eval 'root
                                       #:arguments '("(make-string 60000 #\\7)"))))
     (do ((i 0 (+ i 1))) ((= i count)) (status-ms socket))
     (do ((i 0 (+ i 10))) ((>= i count)) (status-ms socket long-reply))))
  ((_ socket pid output)
   (let loop ()
     (let ((ms (status-ms socket)))
       (let ((port (open-file output "a")))
         (format port "~a ~a~%" ms (rss-kib pid))
         (close-port port)))
     (usleep 500000)
     (loop))))
