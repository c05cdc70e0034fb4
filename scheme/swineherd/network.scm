;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

(define-module (swineherd network)
  #:use-module (swineherd detached)
  #:use-module (swineherd ffi)
  #:use-module (swineherd parse)
  #:use-module (swineherd utils)
  #:use-module (ice-9 match)
  #:use-module (srfi srfi-1)
  #:use-module (srfi srfi-11)
  #:re-export (parse-subnet
               parse-host-port
               subnet-gateway
               subnet-prefix
               subnet-contains?)
  #:export (check-container-address
            allocate-address
            release-address
            address-owner
            host-interface
            link-owner-name
            swineherd-links
            swineherd-link-counters
            netns-file
            bring-bridge-up
            connect-network
            guard-network
            disconnect-network))

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

(define (address-owner directory address)
  "Return the ID of the container that leases ADDRESS (a string) in
DIRECTORY, or #f."
  (lease-owner (string-append directory "/" address)))

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

(define %leased
  ;; Lease directory -> the hash table of `leased-addresses' there, read
  ;; once, then kept up to date by `allocate-address' and `release-address',
  ;; the only procedures that add or delete an address lease: reading the
  ;; directory on every `new' cost 1.5 ms with 500 containers
  ;; (bench/growth).  The lease files stay the truth: an address the table
  ;; takes for free but leased is found by `take-lease' and noted, and a
  ;; subnet that looks full is looked at again on disk.
  (make-hash-table))

(define (known-leases directory)
  "Return the hash table of the addresses leased in DIRECTORY, from
`%leased'."
  (or (hash-ref %leased directory)
      (let ((table (leased-addresses directory)))
        (hash-set! %leased directory table)
        table)))

(define (lease-lowest-free directory subnet id)
  "Lease the lowest address of SUBNET that is free in DIRECTORY to container
ID, as `known-leases' sees them, and return it as an integer; #f if none
is."
  (let-values (((first last) (subnet-range subnet)))
    (define taken (known-leases directory))
    (let loop ((n first))
      (cond ((> n last) #f)
            ((or (= n (car subnet)) (hashv-ref taken n))
             (loop (+ n 1)))
            (else
             (let ((mine? (take-lease (lease-file directory n) id)))
               (hashv-set! taken n #t)
               (if mine? n (loop (+ n 1)))))))))

(define (allocate-address directory subnet id requested)
  "Lease an address of SUBNET to container ID, recording it in DIRECTORY:
REQUESTED (a string) if true, else the lowest free one.  Return it as a
string, or raise a clear error when it is taken or the subnet is full."
  (mkdir-p directory)
  (if requested
      (let ((n (check-container-address subnet requested)))
        (unless (take-lease (lease-file directory n) id)
          (fail "address ~a is already taken by container ~a" requested
                (address-owner directory requested)))
        (hashv-set! (known-leases directory) n #t)
        requested)
      (let ((n (or (lease-lowest-free directory subnet id)
                   (begin
                     (hash-remove! %leased directory)
                     (lease-lowest-free directory subnet id)))))
        (unless n
          (fail "no free address left in ~a/~a; kill a container or \
configure a larger subnet" (subnet-gateway subnet) (subnet-prefix subnet)))
        (integer->address n))))

(define (release-address directory address id)
  "Return the lease of ADDRESS in DIRECTORY if container ID holds it."
  (when (equal? id (address-owner directory address))
    (delete-file-if-exists (string-append directory "/" address))
    (and=> (hash-ref %leased directory)
           (lambda (taken)
             (and=> (address->integer address)
                    (lambda (n) (hashv-remove! taken n)))))))


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

(define (owner-prefix bridge)
  (string-append "swineherd:" bridge ":"))

(define (link-owner-name bridge id)
  "Return the alias that marks the host side of the veth of container ID,
on BRIDGE, as Swineherd's: only links with it are ever deleted as the
container's.  (The bridge tells the links of two Swineherds apart.)"
  (string-append (owner-prefix bridge) id))

(define (swineherd-links bridge)
  "Return the links that the Swineherd of BRIDGE owns, as pairs of their
name and the ID of their container."
  (let ((prefix (owner-prefix bridge)))
    (map (match-lambda
           ((name . alias)
            (cons name (string-drop alias (string-length prefix)))))
         (links-owned-by prefix))))

(define (swineherd-link-counters bridge)
  "Return the counters of the host side of the veth of each container of
the Swineherd of BRIDGE, as pairs of the container's ID and the counters
(see `link-statistics'): all from one dump of the links."
  (let ((prefix (owner-prefix bridge)))
    (map (match-lambda
           ((name alias counters)
            (cons (string-drop alias (string-length prefix)) counters)))
         (owned-link-statistics prefix))))

(define (netns-file directory id)
  "Return the file in DIRECTORY (usually /run/netns) on which the network
namespace of container ID is mounted, for `ip netns exec swineherd-ID'."
  (string-append directory "/swineherd-" id))

(define (bring-bridge-up bridge subnet)
  "Create BRIDGE if needed and give it the gateway address of SUBNET."
  (bridge-up bridge (subnet-gateway subnet) (subnet-prefix subnet)))

(define (connected? address owner)
  "Return true if the host side of the veth of the container with ADDRESS
is there, owned by OWNER."
  (catch 'system-error
    (lambda ()
      (equal? owner (link-owner (host-interface address))))
    (lambda args
      (if (= ENODEV (system-error-errno args))     ;no such link
          #f
          (apply throw args)))))

(define* (connect-network pid #:key bridge subnet address owner netns
                          table id isolated?)
  "Connect the container ID whose init is PID to BRIDGE with ADDRESS from
SUBNET, its veth marked as OWNER's and filtered in the netdev table TABLE
(ISOLATED? or not), and mount its network namespace on NETNS.  If the veth
is there already, do nothing.  A link of the same name that OWNER does not
own makes it fail with EEXIST."
  (unless (connected? address owner)
    (connect-container pid
                       #:bridge bridge
                       #:host (host-interface address)
                       #:owner owner
                       #:address address
                       #:prefix (subnet-prefix subnet)
                       #:gateway (subnet-gateway subnet)
                       #:table table
                       #:id id
                       #:isolated? isolated?))
  (unless (file-exists? netns)
    (catch 'system-error
      (lambda () (attach-netns pid netns))
      (lambda args
        (disconnect-network #:address address #:owner owner #:netns netns
                            #:table table #:id id)
        (apply throw args)))))

(define* (guard-network #:key subnet address owner table id isolated?)
  "Give the veth of container ID, with ADDRESS from SUBNET, its filters
(ISOLATED? or not) in the netdev table TABLE again, if it is connected
(its veth there and marked as OWNER's)."
  (when (connected? address owner)
    (guard-container table id
                     #:host (host-interface address)
                     #:address address
                     #:gateway (subnet-gateway subnet)
                     #:prefix (subnet-prefix subnet)
                     #:isolated? isolated?)))

(define* (disconnect-network #:key address owner netns table id)
  "Disconnect the container ID with ADDRESS: delete its veth if OWNER owns
it (which takes the container side along), then its filters from the
netdev table TABLE, and unmount its network namespace from NETNS.  What is
already gone is fine."
  (detach-netns netns)
  (delete-owned-link (host-interface address) owner)
  ;; With the veth gone, its chains filter nothing: a failure to remove
  ;; them must not stop the disconnection (the next start of swineherd
  ;; replaces the table).
  (catch 'system-error
    (lambda () (unguard-container table id))
    (lambda args
      (format #t "swineherd: removing the filters of ~a failed: ~a~%" id
              (exception-text (car args) (cdr args))))))

;;; network.scm ends here
