;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

;;; Unit tests of (swineherd arguments), in a plain Guile.

(use-modules (swineherd arguments)
             (unit helpers)
             (srfi srfi-1)
             (srfi srfi-11)
             (srfi srfi-64))

(define (new . args)
  "Parse ARGS as `new' does; return its four values as a list."
  (call-with-values (lambda () (parse-new-arguments args)) list))

(define (exec . args)
  "Parse ARGS as `exec' does; return its two values as a list."
  (call-with-values (lambda () (parse-exec-arguments "exec" args)) list))

(test-begin "arguments")

(test-equal "loads nothing with effects" '() (loaded-effectful-modules))

(test-assert "id: upstream-style" (valid-container-id? "web:1"))
(test-assert "id: empty" (not (valid-container-id? "")))
(test-assert "id: leading dash" (not (valid-container-id? "-x")))
(test-assert "id: 64 characters" (valid-container-id? (make-string 64 #\a)))
(test-assert "id: 65 characters" (not (valid-container-id? (make-string 65 #\a))))
(test-assert "id: non-ASCII letter" (not (valid-container-id? "caf\u00e9")))
(test-assert "id: slash" (not (valid-container-id? "a/b")))

(test-equal "new: ID, options, SCRIPT, its arguments"
  '("web" ((memory . 67108864) (publish tcp 8080 80) (isolated . #t))
    "/gnu/store/x-run-container" ("--memory=1G"))
  (new "web" "--memory=64M" "--publish=8080:80" "--isolated"
       "/gnu/store/x-run-container" "--memory=1G"))
(test-equal "new: no options"
  '("a" () "/s" ()) (new "a" "/s"))
(test-equal "new: --publish repeats, in order, with address and protocol"
  '((publish tcp 1 2) (publish udp 5353 53 "127.0.0.1"))
  (cadr (new "a" "--publish=1:2" "--publish=127.0.0.1:5353:53/udp" "/s")))
(test-equal "new: --publish on 0.0.0.0 is every address"
  '((publish tcp 80 80)) (cadr (new "a" "--publish=0.0.0.0:80:80" "/s")))
(test-equal "new: --from a snapshot"
  '((from snapshot "b" "snap")) (cadr (new "a" "--from=b@snap" "/s")))
(test-equal "new: --from a template"
  '((from directory "/srv/t")) (cadr (new "a" "--from=/srv/t" "/s")))
(test-equal "new: --network=none" '((network . none)) (cadr (new "a" "--network=none" "/s")))
(test-equal "new: --isolated=no" '((isolated . no)) (cadr (new "a" "--isolated=no" "/s")))
(test-equal "new: --cpus" '((cpus 50000 . 100000)) (cadr (new "a" "--cpus=0.5" "/s")))
(test-equal "new: --swap=0" '((swap . 0)) (cadr (new "a" "--swap=0" "/s")))
(test-equal "new: an unknown option, named as typed"
  "unknown option \"--bogus=1\" for new"
  (let ((text (error-text (lambda () (new "x" "--bogus=1" "/s")))))
    (substring text 0 (string-length "unknown option \"--bogus=1\" for new"))))
(test-assert "new: the unknown option's error lists the known ones"
  (string-contains (error-text (lambda () (new "x" "--bogus" "/s"))) "--disk-limit, --from"))
(test-assert "new: no SCRIPT"
  (string-contains (error-text (lambda () (new "x"))) "no SCRIPT given"))
(test-assert "new: no ID" (string-contains (error-text (lambda () (new))) "no ID given"))
(test-assert "new: invalid ID"
  (string-contains (error-text (lambda () (new "../x" "/s"))) "invalid container ID"))
(test-assert "new: a keyword from herd"
  (string-contains (error-text (lambda () (new "x" #:log-file "/s"))) "put `--'"))
(test-equal "new: a size too large, with the bounds"
  "invalid --memory \"99999999999T\": give a size from 1M to 1048576T, such as 64M or 2G (bytes, or K, M, G, T for KiB, MiB, GiB, TiB)"
  (error-text (lambda () (new "x" "--memory=99999999999T" "/s"))))
(test-assert "new: --memory without a value"
  (string-contains (error-text (lambda () (new "x" "--memory" "/s"))) "invalid --memory #f"))
(test-assert "new: --respawn takes no value"
  (string-contains (error-text (lambda () (new "x" "--respawn=yes" "/s"))) "--respawn takes no value"))
(test-assert "new: --publish port out of range"
  (string-contains (error-text (lambda () (new "x" "--publish=1:70000" "/s"))) "out of range"))
(test-assert "new: --ip not an address"
  (string-contains (error-text (lambda () (new "x" "--ip=10.0.0" "/s"))) "invalid --ip"))
(test-assert "new: --from with a bad snapshot name"
  (string-contains (error-text (lambda () (new "x" "--from=a@../b" "/s"))) "invalid snapshot name"))
(test-assert "new: every table entry has a parser and a help"
  (every (lambda (entry) (and (string? (car entry)) (procedure? (cadr entry))
                              (string-prefix? (string-append "--" (car entry))
                                              (caddr entry))))
         %new-options))

(test-equal "exec: --timeout after --, then the command"
  '(5 ("ls" "-l" "--x")) (exec "--" "--timeout=5" "ls" "-l" "--x"))
(test-equal "exec: no timeout" '(#f ("true")) (exec "true"))
(test-equal "exec: the last --timeout wins" '(0.5 ("ls")) (exec "--timeout=5" "--timeout=0.5" "ls"))
(test-assert "exec: no COMMAND"
  (string-contains (error-text (lambda () (exec "--timeout=5"))) "exec: no COMMAND given"))
(test-assert "exec: an unknown option"
  (string-contains (error-text (lambda () (exec "--" "--foo" "ls"))) "unknown option \"--foo\""))
(test-assert "exec: a timeout of 1e300"
  (string-contains (error-text (lambda () (exec "--timeout=1e300" "ls"))) "invalid --timeout \"1e300\""))
(test-assert "exec: a timeout of +inf.0"
  (string-contains (error-text (lambda () (exec "--timeout=+inf.0" "ls"))) "invalid --timeout \"+inf.0\""))
(test-assert "exec: a keyword from herd"
  (string-contains (error-text (lambda () (exec "ls" #:log-file "x"))) "put `--'"))

(test-end "arguments")
