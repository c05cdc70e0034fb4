;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

(define-module (unit helpers)
  #:use-module (srfi srfi-1)
  #:export (error-text
            loaded-effectful-modules))

;;; Commentary:
;;;
;;; What the unit tests share: the text of the error a thunk raises, and
;;; the check that pure modules loaded nothing with effects.
;;;
;;; Code:

(define (error-text thunk)
  "Return the message of the error that THUNK raises through `fail' (a
`misc-error'), or #f if it returns."
  (catch 'misc-error
    (lambda () (thunk) #f)
    (lambda (key subr fmt args . _)
      (apply format #f fmt args))))

(define (loaded-effectful-modules)
  "Return the modules with effects (Shepherd, Fibers, the library's
binding) that are loaded in this Guile; the pure modules must load none."
  (filter (lambda (name) (resolve-module name #f #:ensure #f))
          '((shepherd service) (shepherd comm) (fibers) (fibers scheduler)
            (swineherd ffi) (system foreign-library))))

;;; helpers.scm ends here
