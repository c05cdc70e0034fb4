;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

(define-module (swineherd network)
  #:use-module (swineherd ffi)
  #:use-module (swineherd utils)
  #:use-module (ice-9 match)
  #:use-module (ice-9 rdelim)
  #:use-module (srfi srfi-1)
  #:use-module (srfi srfi-11)
  #:export (parse-subnet
            subnet-gateway
            subnet-prefix
            subnet-contains?
            check-container-address
            allocate-address
            release-address
            address-owner
            host-interface
            swineherd-interface?
            netns-file
            bring-bridge-up
            connect-network
            disconnect-network
            connected?))

;;; Commentary:
;;;
;;; Container networking: the bridge, one IPv4 address per container from
;;; the bridge's subnet, and the veth pair that connects a container to the
;;; bridge.  Addresses are leased by creating the file ADDRESSES/A.B.C.D
;;; (holding the container's ID) with O_EXCL: atomic, so two containers
;;; never get the same address, even when `new' commands interleave, and
;;; the leases survive Shepherd restarts.  `kill' returns the lease.
;;;
;;; Code:


;;;
;;; Addresses.
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

(define (check-container-address subnet address)
  "Raise a clear error unless ADDRESS, a string, can be given to a
container in SUBNET; return it as an integer."
  (let ((n (address->integer address)))
    (unless n
      (fail "invalid address ~s: give an IPv4 address such as 10.0.0.42"
            address))
    (unless (subnet-contains? subnet n)
      (fail "address ~a is outside the containers' subnet ~a/~a" address
            (subnet-gateway subnet) (subnet-prefix subnet)))
    (when (= n (car subnet))
      (fail "address ~a is the bridge's own address" address))
    n))

(define (lease-file directory n)
  "Return the lease file of address N in DIRECTORY."
  (string-append directory "/" (integer->address n)))

(define (take-lease directory n id)
  "Lease address N to container ID by creating its file in DIRECTORY;
return #t, or #f if it is already leased."
  (catch 'system-error
    (lambda ()
      (let ((port (open (lease-file directory n)
                        (logior O_WRONLY O_CREAT O_EXCL) #o644)))
        (display id port)
        (newline port)
        (close-port port)
        #t))
    (lambda args
      (if (= EEXIST (system-error-errno args))
          #f
          (apply throw args)))))

(define (address-owner directory address)
  "Return the ID of the container that leases ADDRESS (a string) in
DIRECTORY, or #f."
  (false-if-exception
   (call-with-input-file (string-append directory "/" address) read-line)))

(define (leased-addresses directory)
  "Return a hash table whose keys are the addresses leased in DIRECTORY, as
integers.  (Unsorted, unlike `entries', and looked up in constant time:
with 500 leases, sorting their names and searching the list took 3 ms of
every `new'.)"
  (let ((table (make-hash-table))
        (stream (opendir directory)))
    (dynamic-wind
      (const #t)
      (lambda ()
        (let loop ()
          (let ((name (readdir stream)))
            (unless (eof-object? name)
              (and=> (address->integer name)
                     (lambda (n) (hashv-set! table n #t)))
              (loop)))))
      (lambda () (closedir stream)))
    table))

(define (allocate-address directory subnet id requested)
  "Lease an address of SUBNET to container ID, recording it in DIRECTORY:
REQUESTED (a string) if true, else the lowest free one.  Return it as a
string, or raise a clear error when it is taken or the subnet is full."
  (mkdir-p directory)
  (if requested
      (let ((n (check-container-address subnet requested)))
        (unless (take-lease directory n id)
          (fail "address ~a is already taken by container ~a" requested
                (address-owner directory requested)))
        requested)
      (let-values (((first last) (subnet-range subnet)))
        (define taken (leased-addresses directory))
        (let loop ((n first))
          (cond ((> n last)
                 (fail "no free address left in ~a/~a; kill a container or \
configure a larger subnet" (subnet-gateway subnet) (subnet-prefix subnet)))
                ((or (= n (car subnet)) (hashv-ref taken n)
                     (not (take-lease directory n id)))
                 (loop (+ n 1)))
                (else (integer->address n)))))))

(define (release-address directory address id)
  "Return the lease of ADDRESS in DIRECTORY if container ID holds it."
  (when (equal? id (address-owner directory address))
    (delete-file-if-exists (string-append directory "/" address))))


;;;
;;; Interfaces and namespaces.
;;;

(define (address-hex address)
  "Return ADDRESS as 8 hexadecimal digits."
  (string-pad (number->string (address->integer address) 16) 8 #\0))

(define (host-interface address)
  "Return the name of the host side of the veth of the container with
ADDRESS: unique while the address is leased, and within IFNAMSIZ."
  (string-append "swh" (address-hex address)))

(define (swineherd-interface? name)
  "Return true if NAME has the shape of a host-side veth name that
`host-interface' makes (swh + 8 hexadecimal digits)."
  (and (= 11 (string-length name))
       (string-prefix? "swh" name)
       (string-every char-set:hex-digit (string-drop name 3))))

(define (netns-file directory id)
  "Return the file in DIRECTORY (usually /run/netns) on which the network
namespace of container ID is mounted, for `ip netns exec swineherd-ID'."
  (string-append directory "/swineherd-" id))

(define (bring-bridge-up bridge subnet)
  "Create BRIDGE if needed and give it the gateway address of SUBNET."
  (bridge-up bridge (subnet-gateway subnet) (subnet-prefix subnet)))

(define (connected? address)
  "Return true if the container with ADDRESS has its veth on the host."
  (catch 'system-error
    (lambda () (link-statistics (host-interface address)) #t)
    (const #f)))

(define* (connect-network pid #:key bridge subnet address netns)
  "Connect the container whose init is PID to BRIDGE with ADDRESS from
SUBNET, and mount its network namespace on NETNS.  If the veth is there
already, do nothing."
  (unless (connected? address)
    (connect-container pid
                       #:bridge bridge
                       #:host (host-interface address)
                       #:address address
                       #:prefix (subnet-prefix subnet)
                       #:gateway (subnet-gateway subnet)))
  (unless (file-exists? netns)
    (catch 'system-error
      (lambda () (attach-netns pid netns))
      (lambda args
        (disconnect-network #:address address #:netns netns)
        (apply throw args)))))

(define* (disconnect-network #:key address netns)
  "Disconnect the container with ADDRESS: delete its veth (which takes the
container side along) and unmount its network namespace from NETNS.  What is
already gone is fine."
  (detach-netns netns)
  (delete-link (host-interface address)))

;;; network.scm ends here
