;;; cpu-reference.scm --- how fast this machine runs Guile.
;;;
;;; Usage: guile --no-auto-compile tests/cpu-reference.scm
;;;
;;; Prints the CPU time, in milliseconds, that this process spent on a
;;; fixed workload (lists, sorting, string ports, hash tables, a system
;;; call: the kind of work Shepherd does), the least of three runs.  Taken
;;; in the same Guile and environment as a scenario's Shepherd, it scales
;;; bounds set for real hardware (scenario 14) to a slower or emulated
;;; machine; CPU time, so the load of other processes barely counts.

(define (reference-work rounds)
  "Do ROUNDS rounds of the fixed workload; return a number depending on all
of it, so that none of it can be skipped."
  (let loop ((i 0) (sum 0))
    (if (= i rounds)
        sum
        (let* ((numbers (map (lambda (k) (modulo (* k 7919) 1009)) (iota 200)))
               (text (with-output-to-string
                       (lambda () (write (sort numbers <)))))
               (table (make-hash-table)))
          (hash-set! table text i)
          (stat "/")
          (loop (1+ i) (+ sum (string-length text)
                          (hash-count (const #t) table)))))))

(define (cpu-ms thunk)
  "Return the milliseconds of CPU time this process spends calling THUNK."
  (let ((start (get-internal-run-time)))
    (thunk)
    (quotient (* 1000 (- (get-internal-run-time) start))
              internal-time-units-per-second)))

(display (apply min (map (lambda (run) (cpu-ms (lambda () (reference-work 1000))))
                         '(1 2 3))))
(newline)
