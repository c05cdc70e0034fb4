;;; peek-scan.scm --- check `last-matching-line' against a brute-force scan.
;;;
;;; Usage: guile -L scheme tests/peek-scan.scm   (in the sandbox: it needs
;;; Fibers; tests/scenarios/09-exec.sh runs it)
;;;
;;; `peek' reads a file backwards in chunks, carrying partial lines between
;;; chunks and skipping overlong lines.  Random files of short lines, empty
;;; lines, long lines and missing final newlines, read with tiny chunks,
;;; exercise every boundary case; the answer must be the last matching line
;;; of the file's first SIZE bytes, as a forward scan finds it.

(use-modules (swineherd exec)
             (ice-9 binary-ports)
             (rnrs bytevectors)
             (srfi srfi-1))

(define (forward-scan bv size matches? max-line)
  "The last line of BV's first SIZE bytes with MATCHES?, the simple way."
  (let loop ((start 0) (found #f))
    (if (>= start size)
        found
        (let* ((nl (let find ((i start))
                     (cond ((>= i size) #f)
                           ((= 10 (bytevector-u8-ref bv i)) i)
                           (else (find (+ i 1))))))
               (end (or nl size))
               (line (let ((l (make-bytevector (- end start))))
                       (bytevector-copy! bv start l 0 (- end start))
                       l)))
          (loop (+ end 1)
                (if (and (<= (bytevector-length line) max-line)
                         (matches? (utf8->string line)))
                    (utf8->string line)
                    found))))))

(define (random-file state)
  "A bytevector of random lines over a small alphabet."
  (let ((lines (map (lambda (_)
                      (let ((n (case (random 10 state)
                                 ((0) 0)
                                 ((1) (+ 20 (random 40 state)))  ;overlong
                                 (else (random 12 state)))))
                        (list->string
                         (map (lambda (_) (string-ref "abcx" (random 4 state)))
                              (iota n)))))
                    (iota (random 12 state)))))
    (string->utf8
     (string-append (string-join lines "\n")
                    (if (zero? (random 2 state)) "\n" "")))))

(define failures 0)
(define state (seed->random-state 42))

(for-each
 (lambda (round)
   (let* ((bv (random-file state))
          (size (if (zero? (random 4 state))
                    (random (+ 1 (bytevector-length bv)) state) ;grown since
                    (bytevector-length bv)))
          (needle (string (string-ref "abcx" (random 4 state))))
          (matches? (lambda (line) (string-contains line needle)))
          ;; Every other round, a block filter as peek's: a block with a
          ;; matching line passes.
          (filter (if (even? round) (const #t) matches?))
          (chunk (+ 1 (random 9 state)))
          (max-line 19)
          (expected (forward-scan bv size matches? max-line))
          (got (last-matching-line (open-bytevector-input-port bv) size
                                   matches? #:block-may-match? filter
                                   #:chunk-size chunk
                                   #:max-line-length max-line)))
     (unless (equal? expected got)
       (set! failures (+ failures 1))
       (format #t "FAIL round ~a: file ~s size ~a needle ~s chunk ~a: \
expected ~s, got ~s~%" round (utf8->string bv) size needle chunk
               expected got))))
 (iota 20000))

;; Empty lines match "^$"; the end of a file with a final newline is not a
;; line.
(let ((empty? string-null?))
  (unless (equal? "" (last-matching-line
                          (open-bytevector-input-port (string->utf8 "a\n\nb\n"))
                          5 empty?))
    (set! failures (+ failures 1))
    (display "FAIL: an empty line in the middle\n"))
  (when (last-matching-line (open-bytevector-input-port (string->utf8 "a\nb\n"))
                            4 empty?)
    (set! failures (+ failures 1))
    (display "FAIL: the end of the file taken for an empty line\n")))

(format #t "peek-scan: ~a~%" (if (zero? failures) "ok" "FAILED"))
(exit (zero? failures))
