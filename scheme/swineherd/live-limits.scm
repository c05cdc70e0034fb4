;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

(define-module (swineherd live-limits)
  #:use-module (swineherd arguments)
  #:use-module (swineherd config)
  #:use-module (swineherd ffi)
  #:use-module (swineherd state)
  #:use-module (swineherd utils)
  #:use-module ((swineherd upkeep-options) #:select (action-words))
  #:use-module (ice-9 match)
  #:use-module (srfi srfi-1)
  #:export (live-options
            with-live-options
            set-live-options!
            limit-changes
            merge-options
            action:limit))

;;; Commentary:
;;;
;;; Changing a running container's limits (the action `limit'): at once in
;;; its cgroup, and in its record, so that a restart, a respawn or a
;;; recovery after a crash keeps them.  Each container service keeps the
;;; record it was made from; the options changed since are kept here, keyed
;;; by that very record (so a container killed and made again under the
;;; same ID starts from its own options).  `snapshot-schedule' (see
;;; (swineherd snapshot-schedule)) changes its options the same way.
;;;
;;; Code:

(define %live-options
  ;; Container record -> its options as changed by `limit' or
  ;; `snapshot-schedule'.
  (make-weak-key-hash-table))

(define (live-options c)
  "Return the options of the container record C, as `limit' or
`snapshot-schedule' last changed them."
  (or (hashq-ref %live-options c) (container-options c)))

(define (with-live-options c)
  "Return the container record C with its live options."
  (container (container-id c) (container-script c) (container-arguments c)
             (live-options c) (container-address c) (container-wanted c)))

(define (set-live-options! config c options)
  "Make OPTIONS the live options of the container recorded as C, at once
in its record (keeping the wanted state recorded last)."
  (define state-directory (swineherd-configuration-state-directory config))
  (hashq-set! %live-options c options)
  (save-container state-directory
                  (set-container-wanted
                   (with-live-options c)
                   (or (and=> (load-container state-directory
                                              (container-id c))
                              container-wanted)
                       (container-wanted c)))))

(define %limit-options
  ;; The options of `new' that `limit' changes.
  '(memory swap cpus cpu-weight pids io-weight))

(define (limit-changes args)
  "Parse ARGS, the arguments of `limit', into an alist of options as `new'
records them; raise a clear error, before anything changes, for an unknown
option or an invalid value."
  (let ((changes (map (lambda (word)
                        (unless (string-prefix? "--" word)
                          (fail "limit: ~s is not an option; give \
--memory=SIZE, --swap=SIZE, --cpus=N, --cpu-weight=N, --pids=N or \
--io-weight=N" word))
                        (parse-option word))
                      (action-words "limit" "herd limit swine:ID \
--memory=SIZE --cpus=N --pids=N ..." args))))
    (when (null? changes)
      (fail "limit: no limit given; usage: herd limit swine:ID \
--memory=SIZE --cpus=N --pids=N ..."))
    (for-each (match-lambda
                ((name . _)
                 (unless (memq name %limit-options)
                   (fail "limit: --~a is not a limit that can change while \
the container runs; give ~a" name
                         (string-join (map (lambda (option)
                                             (format #f "--~a" option))
                                           %limit-options)
                                      ", ")))))
              changes)
    changes))

(define (merge-options options changes)
  "Return OPTIONS with CHANGES, an alist, in place of their namesakes."
  (append (remove (lambda (option) (assq (car option) changes)) options)
          changes))

(define (apply-limits relative limits old-limits)
  "Give the cgroup RELATIVE LIMITS; if the kernel refuses one, put back
OLD-LIMITS and raise a clear error."
  (catch 'system-error
    (lambda () (create-cgroup relative limits))
    (lambda (key . args)
      (false-if-exception (create-cgroup relative old-limits))
      (fail "limit: the kernel refused the new limits (~a); the old ones \
are kept" (exception-text key args)))))

(define (action:limit config c limits-of)
  "Return the `limit' action of the container recorded as C; LIMITS-OF
returns the cgroup limits (as `create-cgroup' takes them) of given
options."
  (define id (container-id c))
  (lambda (running . args)
    (let* ((changes (limit-changes args))
           (old (live-options c))
           (new (merge-options old changes)))
      (when running
        (apply-limits (container-cgroup config id) (limits-of new)
                      (limits-of old)))
      (set-live-options! config c new)
      (format #t "container ~a: ~a~a~%" id
              (string-join (map (match-lambda
                                  ((name . value)
                                   (format #f "~a=~s" name value)))
                                changes))
              (if running "" " (from its next start)"))
      #t)))

;;; live-limits.scm ends here
