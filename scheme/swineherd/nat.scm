;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

(define-module (swineherd nat)
  #:use-module (swineherd detached)
  #:use-module (swineherd ffi)
  #:use-module (swineherd network)
  #:use-module (swineherd utils)
  #:use-module (ice-9 match)
  #:use-module (srfi srfi-1)
  #:export (published-ports
            check-published-ports
            reserve-ports
            release-ports
            release-orphaned-ports
            port-description
            start-nat
            stop-nat
            publish-container-ports
            unpublish-container-ports))

;;; Commentary:
;;;
;;; Outbound NAT and published ports.  The rules live in an nftables table
;;; of Swineherd's own, `ip swineherd', programmed by the library (see
;;; src/nft/): `start-nat' replaces it with a fresh one (masquerading for
;;; the subnet), and each running container that publishes ports has two
;;; chains of its own in it, added when it starts and removed when it
;;; stops.
;;;
;;; A host port serves one container per protocol: it is leased by creating
;;; the file PORTS/PROTOCOL-PORT (holding the container's ID) with O_EXCL,
;;; at `new', before anything else is made, so concurrent `new's never
;;; share a port; `kill' returns the lease.  A published port is the list
;;; (PROTOCOL HOST-PORT CONTAINER-PORT [HOST-ADDRESS]), as
;;; `parse-new-arguments' makes it.
;;;
;;; Code:

(define (published-ports options)
  "Return the published ports among OPTIONS, the options of `new'."
  (filter-map (match-lambda
                (('publish . port) port)
                (_ #f))
              options))

(define (port-description port)
  "Return a short text for PORT, e.g. \"8080/tcp\"."
  (match port
    ((protocol host-port _ . _)
     (format #f "~a/~a" host-port protocol))))

(define (port-lease port)
  "Return the name of the lease file of PORT's host port and protocol."
  (match port
    ((protocol host-port _ . _)
     (format #f "~a-~a" protocol host-port))))

(define (check-published-ports ports network?)
  "Raise a clear error if PORTS cannot be published for a container, which
has a network if NETWORK? is true: the same host port twice, or no
network."
  (when (and (pair? ports) (not network?))
    (fail "--publish needs the container's network; drop --network=none"))
  (let loop ((ports ports) (seen '()))
    (match ports
      (() #t)
      ((port . rest)
       (when (member (port-lease port) seen)
         (fail "host port ~a is given twice to --publish"
               (port-description port)))
       (loop rest (cons (port-lease port) seen))))))

(define (release-ports directory id)
  "Return every host-port lease that container ID holds in DIRECTORY."
  (for-each (lambda (name)
              (let ((file (string-append directory "/" name)))
                (when (equal? id (lease-owner file))
                  (delete-file-if-exists file))))
            (entries directory)))

(define (reserve-ports directory ports id)
  "Lease the host ports of PORTS to container ID in DIRECTORY, or raise a
clear error naming the container that holds one of them (and lease
none)."
  (mkdir-p directory)
  (for-each (lambda (port)
              (let ((file (string-append directory "/" (port-lease port))))
                (unless (take-lease file id)
                  (let ((owner (lease-owner file)))
                    (release-ports directory id)
                    (fail "host port ~a is already published by container \
~a; pick another host port, or kill that container first"
                          (port-description port) owner)))))
            ports))

(define (release-orphaned-ports directory owned?)
  "Return the host-port leases in DIRECTORY whose owner does not satisfy
OWNED?; report each on the current output port."
  (for-each (lambda (name)
              (let* ((file (string-append directory "/" name))
                     (owner (lease-owner file)))
                (unless (and owner (owned? owner))
                  (format #t "swineherd: releasing orphaned port lease ~a (~a)~%"
                          name owner)
                  (delete-file-if-exists file))))
            (entries directory)))

(define (start-nat table bridge subnet open-ports)
  "Replace the nftables tables `ip TABLE' and `netdev TABLE' with
Swineherd's NAT and filters for BRIDGE and SUBNET (see `parse-subnet'),
the host's services closed to containers but for OPEN-PORTS (see
`parse-host-port'), turning IPv4 forwarding on.  Return #f on success, or a
warning text when they could not be set up (containers then cannot be
connected: their filters need the netdev table)."
  (catch 'system-error
    (lambda ()
      (nat-setup table bridge (subnet-gateway subnet) (subnet-prefix subnet)
                 open-ports)
      #f)
    (lambda args
      (format #f "no NAT: ~a" (exception-text 'system-error (cdr args))))))

(define (stop-nat table)
  "Delete the nftables tables `ip TABLE' and `netdev TABLE' with everything
in them."
  (nat-teardown table))

(define (publish-container-ports table id address ports)
  "Publish PORTS of container ID, whose address is ADDRESS, replacing what
it published before; nothing when PORTS is empty."
  (unless (null? ports)
    (publish-ports table id address ports)))

(define (unpublish-container-ports table id ports)
  "Remove the published PORTS of container ID from the host; nothing when
PORTS is empty, and what is gone already is fine."
  (unless (null? ports)
    (unpublish-ports table id)))

;;; nat.scm ends here
