;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

;;; Unit tests of (swineherd declaration), in a plain Guile.

(use-modules (swineherd declaration)
             (unit helpers)
             (ice-9 match)
             (srfi srfi-11)
             (srfi srfi-64))

(define* (decl id #:key (script "/gnu/store/x-run-container") (options '()))
  "Return a declaration of container ID with SCRIPT and OPTIONS."
  (swineherd-container #:id id #:script script #:options options))

(define (steps plan)
  "Return PLAN as a list of (ACTION ID)."
  (map (match-lambda ((action id _) (list action id))) plan))

(define (usable script)
  "Take every SCRIPT as usable: no file is looked at."
  #f)

(test-begin "declaration")

(test-equal "loads nothing with effects" '() (loaded-effectful-modules))

(test-equal "each step of the plan"
  '((create "new") (keep "same") (replace "changed") (resume "back")
    (foreign "by-hand") (retire "dropped") (forget "gone"))
  (steps (reconcile-plan
          (list (decl "new") (decl "same") (decl "changed" #:options '("--memory=1G"))
                (decl "back") (decl "by-hand"))
          (list (cons (decl "same") #f) (cons (decl "changed") #f)
                (cons (decl "back") #t) (cons (decl "dropped") #f)
                (cons (decl "gone") #f) (cons (decl "retired") #t))
          '("same" "changed" "back" "by-hand" "dropped" "retired"))))

(test-equal "an untouchable ID gets no step"
  '()
  (steps (reconcile-plan (list (decl "bad")) (list (cons (decl "bad") #f)) '("bad")
                         #:untouchable '("bad"))))

(test-equal "a declaration read back as it was recorded"
  '(#t #t)
  (let-values (((d retired?) (sexp->declaration
                              (declaration->sexp (decl "web" #:options '("--cpus=1")) #t))))
    (list (same-declaration? d (decl "web" #:options '("--cpus=1"))) retired?)))

(test-equal "a record of another shape is none"
  '(#f #f)
  (call-with-values (lambda () (sexp->declaration '(swineherd-declaration (version 2))))
    list))

(test-equal "an ID declared twice is refused, both times; a bad ID too"
  '(("ok") ("twice" "twice" "no/slash"))
  (let-values (((good problems)
                (check-declarations (list (decl "twice") (decl "ok") (decl "twice")
                                          (decl "no/slash"))
                                    #:script-problem usable)))
    (list (map swineherd-container-id good) (map car problems))))

(test-assert "the script's problem is the declaration's"
  (let-values (((good problems)
                (check-declarations (list (decl "web"))
                                    #:script-problem (const "not executable"))))
    (and (null? good) (equal? problems '(("web" . "not executable"))))))

(test-end "declaration")

;;; declaration-test.scm ends here
