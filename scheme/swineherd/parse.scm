;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

(define-module (swineherd parse)
  #:use-module (ice-9 format)
  #:use-module (ice-9 match)
  #:use-module (ice-9 regex)
  #:use-module (srfi srfi-11)
  #:export (fail
            exception-text

            parse-size
            format-size

            parse-cpus
            parse-integer
            parse-cpu-weight
            parse-pids
            parse-io-weight

            address->integer
            integer->address
            parse-subnet
            subnet-gateway
            subnet-prefix
            subnet-range
            subnet-contains?
            parse-host-port))

;;; Commentary:
;;;
;;; The values users and configurations write, parsed: sizes, CPUs and
;;; other bounded integers, IPv4 subnets and addresses, host ports.  Pure
;;; code: this module loads in a plain Guile (no Shepherd, Fibers or
;;; libswineherd) and is unit-tested there (tests/unit/).  A bad value
;;; raises, through `fail', an error whose text names it and the fix.
;;;
;;; Code:

(define (fail fmt . args)
  "Raise an error whose message, formatted from FMT and ARGS, is what `herd'
shows its user.  It is thrown as a `misc-error' with the message as its only
format argument: Shepherd sends an action's exception to herd as a key and
arguments, and herd prints these nicely only for Guile's classic keys."
  (throw 'misc-error #f "~A" (list (apply format #f fmt args)) #f))

(define (exception-text key args)
  "Return a one-line text for the exception KEY with ARGS, as `catch'
handlers receive them."
  (match args
    ((who (? string? message) (? list? format-args) . _)
     (apply format #f message format-args))
    (_ (format #f "~a: ~s" key args))))

;;;
;;; Sizes.
;;;

(define %size-units
  '(("" . 1) ("K" . 1024) ("M" . 1048576) ("G" . 1073741824)
    ("T" . 1099511627776)))

(define (parse-size text)
  "Parse TEXT, a size such as 512M, 2G or 1048576 (bytes; K, M, G and T
are binary units, an optional trailing `iB' or `B' is accepted), into a
number of bytes; return #f if TEXT is not such a size."
  (match (string-match "^([0-9]+)([KMGT]?)(i?B)?$" text)
    (#f #f)
    (m (let ((bytes (* (string->number (match:substring m 1))
                       (assoc-ref %size-units (match:substring m 2)))))
         (and (positive? bytes) bytes)))))

(define (format-size bytes)
  "Return BYTES as a short human-readable string, e.g. 512.0MiB."
  (let loop ((units '("B" "KiB" "MiB" "GiB" "TiB")) (value (exact->inexact bytes)))
    (if (or (< value 1024) (null? (cdr units)))
        (format #f "~,1f~a" value (car units))
        (loop (cdr units) (/ value 1024)))))

;;;
;;; Cgroup limits.
;;;

(define %max-cpus
  ;; The most CPUs --cpus accepts: more than any host has.
  4096)

(define (parse-cpus value)
  "Parse VALUE, the argument of --cpus: a positive decimal number of CPUs
such as 0.5 or 2.  Return a (QUOTA . PERIOD) pair of microseconds, with a
period of 100 ms, or raise a clear error."
  (let ((n (and value (string-match "^[0-9]+(\\.[0-9]+)?$" value)
                (string->number value))))
    (unless (and n (>= (* n 100000) 1000) (<= n %max-cpus))
      (fail "invalid --cpus ~s: give a number of CPUs from 0.01 to ~a, such \
as 0.5 or 2" value %max-cpus))
    (cons (inexact->exact (round (* n 100000))) 100000)))

(define (parse-integer value option low high)
  "Parse VALUE, the argument of OPTION, an integer from LOW to HIGH."
  (let ((n (and value (string-match "^[0-9]+$" value) (string->number value))))
    (unless (and n (<= low n high))
      (fail "invalid --~a ~s: give an integer from ~a to ~a" option value
            low high))
    n))

(define (parse-cpu-weight value)
  "Parse VALUE, the argument of --cpu-weight: 1 to 10000 (default 100)."
  (parse-integer value "cpu-weight" 1 10000))

(define (parse-pids value)
  "Parse VALUE, the argument of --pids: how many processes and threads."
  (parse-integer value "pids" 1 4194304))

(define (parse-io-weight value)
  "Parse VALUE, the argument of --io-weight: 1 to 10000 (default 100)."
  (parse-integer value "io-weight" 1 10000))

;;;
;;; Addresses and ports.
;;;

(define (address->integer address)
  "Return the IPv4 ADDRESS string as an integer, or #f if it is not one."
  (false-if-exception (inet-pton AF_INET address)))

(define (integer->address n)
  "Return the integer N as an IPv4 address string."
  (inet-ntop AF_INET n))

(define (parse-subnet text)
  "Parse TEXT, the bridge's address and prefix such as \"10.0.0.1/16\", into
a (GATEWAY . PREFIX) pair with GATEWAY an integer; raise an error if TEXT is
no such thing."
  (match (string-split text #\/)
    ((address prefix)
     (let ((n (address->integer address))
           (p (string->number prefix)))
       (unless (and n p (exact-integer? p) (<= 8 p 30))
         (fail "invalid subnet ~s: give the bridge's address and a prefix \
from 8 to 30, e.g. 10.0.0.1/16" text))
       (cons n p)))
    (_ (fail "invalid subnet ~s: give the bridge's address and a prefix, \
e.g. 10.0.0.1/16" text))))

(define (subnet-gateway subnet)
  "Return the bridge's address of SUBNET, as a string."
  (integer->address (car subnet)))

(define (subnet-prefix subnet)
  "Return the prefix length of SUBNET."
  (cdr subnet))

(define (subnet-range subnet)
  "Return the first and last host addresses of SUBNET, as integers."
  (match subnet
    ((gateway . prefix)
     (let* ((size (expt 2 (- 32 prefix)))
            (network (* size (quotient gateway size))))
       (values (+ network 1) (+ network size -2))))))

(define (subnet-contains? subnet n)
  "Return true if the address N (an integer) is a host address of SUBNET."
  (let-values (((first last) (subnet-range subnet)))
    (<= first n last)))

(define (parse-host-port text)
  "Parse TEXT, a host port that containers may reach, PORT or PORT/tcp or
PORT/udp, into the list (PROTOCOL PORT); raise a clear error if it is
malformed."
  (define (bad)
    (fail "invalid open host port ~s: give PORT, PORT/tcp or PORT/udp, e.g. \
\"53/udp\"" text))
  (match (and (string? text) (string-split text #\/))
    ((port . protocol)
     (let ((n (string->number port))
           (protocol (match protocol
                       (() 'tcp)
                       (("tcp") 'tcp)
                       (("udp") 'udp)
                       (_ (bad)))))
       (unless (and (exact-integer? n) (<= 1 n 65535))
         (bad))
       (list protocol n)))
    (_ (bad))))

;;; parse.scm ends here
