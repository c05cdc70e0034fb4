;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

(define-module (swineherd arguments)
  #:use-module (swineherd parse)
  #:use-module (swineherd upkeep-options)
  #:use-module (swineherd id-options)
  #:use-module (ice-9 match)
  #:use-module (srfi srfi-1)
  #:use-module (srfi srfi-11)
  #:use-module (srfi srfi-37)
  #:export (valid-container-id?
            check-container-id
            check-snapshot-name
            check-script
            parse-new-arguments
            %new-options
            %max-timeout
            %default-exec-timeout
            %exec-options
            parse-exec-arguments
            parse-option))

;;; Commentary:
;;;
;;; What users type: container IDs, snapshot names, container scripts, and
;;; the arguments of `new', `exec' and `fs'.  Everything is checked here,
;;; before anything is touched.  Options are parsed with SRFI-37, as
;;; Shepherd's own commands do, from a table per action (%NEW-OPTIONS,
;;; %EXEC-OPTIONS) of NAME, PARSER and help: a new option is one entry
;;; there, whose PARSER takes the text after `=' (#f when none) and returns
;;; the value or raises an error naming the option and the fix.  Pure code:
;;; this module loads in a plain Guile and is unit-tested there.
;;;
;;; Code:

(define (valid-container-id? id)
  "Return true if ID is a valid container identifier: 1 to 64 characters,
ASCII letters, digits and `_' `.' `:' `-', starting with a letter or a digit.
Such an ID is safe as a file name and as part of a service name; the colon
allows upstream-style `prefix:id' names."
  (define (id-char? c)
    (or (char-set-contains? char-set:letter+digit c)
        (memv c '(#\_ #\. #\: #\-))))
  (and (string? id)
       (<= 1 (string-length id) 64)
       (string-every (lambda (c) (char<? c #\delete)) id)
       (string-every id-char? id)
       (char-set-contains? char-set:letter+digit (string-ref id 0))))

(define (check-container-id id)
  "Raise a clear error unless ID is a valid container identifier."
  (unless (valid-container-id? id)
    (fail "invalid container ID ~s: use 1 to 64 ASCII letters, digits, \
`_', `.', `:' or `-', starting with a letter or a digit" id)))

(define (check-snapshot-name name)
  "Raise a clear error unless NAME is a valid snapshot name (the grammar of
container IDs, without `@')."
  (unless (valid-container-id? name)
    (fail "invalid snapshot name ~s: use 1 to 64 ASCII letters, digits, \
`_', `.', `:' or `-', starting with a letter or a digit" name)))

(define (check-script script)
  "Raise a clear error unless SCRIPT is the absolute file name of an
executable regular file."
  (unless (absolute-file-name? script)
    (fail "container script ~s is not an absolute file name; give its full \
path (Shepherd does not know herd's working directory)" script))
  (unless (and (file-exists? script)
               (eq? 'regular (stat:type (stat script)))
               (access? script X_OK))
    (fail "container script ~a does not exist or is not executable; give \
what `guix system container' printed" script)))


;;;
;;; Options of `new'.
;;;

(define %max-size
  ;; The largest size any option accepts: 1 EiB, past any real disk or
  ;; memory, and far from the kernel's 64-bit limits.
  (expt 2 60))

(define* (parse-size-option value option example #:key zero-ok?)
  "Parse VALUE, the argument of --OPTION, a size from 1 MiB to %MAX-SIZE
(or 0 when ZERO-OK?), or raise an error naming OPTION, its bounds and
EXAMPLE."
  (let ((bytes (cond ((and zero-ok? (equal? value "0")) 0)
                     (value (parse-size value))
                     (else #f))))
    (unless (and bytes (or (zero? bytes) (<= (expt 2 20) bytes %max-size)))
      (fail "invalid --~a ~s: give a size from 1M to ~aT~a, such as ~a \
(bytes, or K, M, G, T for KiB, MiB, GiB, TiB)" option value
            (/ %max-size (expt 2 40)) (if zero-ok? ", or 0" "") example))
    bytes))

(define (parse-disk-limit value)
  "Parse VALUE, the argument of --disk-limit: at least 1 MiB."
  (parse-size-option value "disk-limit" "512M or 2G"))

(define (parse-memory value)
  "Parse VALUE, the argument of --memory: at least 1 MiB (a Guix System
needs tens of MiB to boot; less is refused by the kernel or kills it)."
  (parse-size-option value "memory" "64M or 2G"))

(define (parse-swap value)
  "Parse VALUE, the argument of --swap: a size, or 0 for no swap."
  (parse-size-option value "swap" "512M" #:zero-ok? #t))

(define (parse-respawn value)
  "Parse the value of --respawn, a flag: there must be none."
  (when value
    (fail "--respawn takes no value (got ~s); give --respawn alone" value))
  #t)

(define (parse-isolated value)
  "Parse the value of --isolated: none (or `yes') isolates the container
from the others, `no' does not (overriding the configuration's default)."
  (match value
    ((or #f "yes") #t)
    ("no" 'no)
    (_ (fail "invalid --isolated ~s: give --isolated alone, or \
--isolated=no" value))))

(define (parse-from value)
  "Parse VALUE, the argument of --from: ID, ID@SNAPSHOT or an absolute
directory name.  Return (container ID), (snapshot ID NAME) or (directory
FILE)."
  (match (and value (string-split value #\@))
    (((? absolute-file-name? file))
     `(directory ,file))
    ((id)
     (check-container-id id)
     `(container ,id))
    ((id name)
     (check-container-id id)
     (check-snapshot-name name)
     `(snapshot ,id ,name))
    (_
     (fail "invalid --from ~s: give a container ID, ID@SNAPSHOT, or the \
absolute name of a template directory or subvolume" value))))

(define (parse-network value)
  "Parse VALUE, the argument of --network: `bridge' (the default) or
`none'."
  (match value
    ("bridge" 'bridge)
    ("none" 'none)
    (_ (fail "invalid --network ~s: give `bridge' or `none'" value))))

(define (parse-ip value)
  "Parse VALUE, the argument of --ip, an IPv4 address (checked against the
subnet when the container is created)."
  (or (and value (false-if-exception (inet-pton AF_INET value)) value)
      (fail "invalid --ip ~s: give an IPv4 address such as 10.0.0.42" value)))

;;; A published port is the list (PROTOCOL HOST-PORT CONTAINER-PORT
;;; [HOST-ADDRESS]): PROTOCOL is `tcp' or `udp', ports are integers,
;;; HOST-ADDRESS an IPv4 address string.

(define %publish-syntax
  "give [HOST-ADDRESS:]HOST-PORT:CONTAINER-PORT[/tcp|/udp], e.g. 8080:80 or \
127.0.0.1:5353:53/udp")

(define (parse-port value text)
  "Parse TEXT, a port number in the --publish VALUE."
  (let ((n (and (string-every char-set:digit text) (string->number text))))
    (unless n
      (fail "invalid --publish ~s: ~s is not a port number; ~a" value text
            %publish-syntax))
    (unless (<= 1 n 65535)
      (fail "invalid --publish ~s: port ~a is out of range (1 to 65535); ~a"
            value n %publish-syntax))
    n))

(define (parse-publish value)
  "Parse VALUE, the argument of --publish, into a published port."
  (unless value
    (fail "--publish needs a value; ~a" %publish-syntax))
  (let*-values (((ports protocol)
                 (match (string-split value #\/)
                   ((ports) (values ports "tcp"))
                   ((ports protocol) (values ports protocol))
                   (_ (fail "invalid --publish ~s: ~a" value %publish-syntax))))
                ((address host container)
                 (match (string-split ports #\:)
                   ((host container) (values #f host container))
                   ((address host container) (values address host container))
                   (_ (fail "invalid --publish ~s: ~a" value %publish-syntax)))))
    (unless (member protocol '("tcp" "udp"))
      (fail "invalid --publish ~s: protocol ~s is not supported; use /tcp \
(the default) or /udp" value protocol))
    (when (and address (not (false-if-exception (inet-pton AF_INET address))))
      (fail "invalid --publish ~s: ~s is not an IPv4 address; ~a" value
            address %publish-syntax))
    ;; 0.0.0.0, as in Docker's and Podman's specs, means every address.
    `(,(string->symbol protocol) ,(parse-port value host)
      ,(parse-port value container)
      ,@(if (and address (not (string=? address "0.0.0.0")))
            (list address)
            '()))))

(define %new-options
  ;; Swineherd's own options of `new': name, parser of the value, and help.
  `(("disk-limit" ,parse-disk-limit
     "--disk-limit=SIZE: limit the container's data to SIZE (btrfs quotas)")
    ("from" ,parse-from
     "--from=SOURCE: start from a copy (a snapshot on btrfs) of another \
container's data (ID), one of its snapshots (ID@NAME) or a template")
    ("network" ,parse-network
     "--network=none: no network (default: bridge, connected to swineherd0)")
    ("ip" ,parse-ip
     "--ip=ADDRESS: this address instead of the next free one")
    ("memory" ,parse-memory "--memory=SIZE: memory limit")
    ("swap" ,parse-swap "--swap=SIZE: swap allowed on top of --memory")
    ("cpus" ,parse-cpus "--cpus=N: CPU time limit, in CPUs (e.g. 0.5)")
    ("cpu-weight" ,parse-cpu-weight "--cpu-weight=N: CPU share, 1-10000")
    ("pids" ,parse-pids "--pids=N: limit on processes and threads")
    ("io-weight" ,parse-io-weight
     "--io-weight=N: disk I/O share, 1-10000 (cgroup v2 only)")
    ("publish" ,parse-publish
     "--publish=[HOST-ADDRESS:]HOST-PORT:CONTAINER-PORT[/tcp|/udp]: forward \
the host's port to the container's (repeatable)")
    ("isolated" ,parse-isolated
     "--isolated: no traffic with other containers but through published \
ports (--isolated=no: the default, unless configured otherwise)")
    ("respawn" ,parse-respawn
     "--respawn: restart the container when its init dies (Shepherd's \
respawn limits apply)")
    ,@%upkeep-options
    ,@%id-options))


;;;
;;; Parsing: Swineherd's options, before the words it passes on.
;;;

(define (option-word? word)
  "Return true if WORD, an argument of `new', `exec' or `fs', is one of
Swineherd's options (or the `--' that may precede them)."
  (string-prefix? "--" word))

(define (table->options table)
  "Return the SRFI-37 options of TABLE, a list of (NAME PARSE . _): each
takes an optional value (--NAME or --NAME=VALUE), parsed by PARSE, and
conses (NAME-SYMBOL . PARSED) onto the seed."
  (map (match-lambda
         ((name parse . _)
          (option (list name) #f #t
                  (lambda (opt name* value seed)
                    (cons (cons (string->symbol name) (parse value)) seed)))))
       table))

(define (parse-options words table unknown)
  "Parse WORDS, each --NAME or --NAME=VALUE, with the option TABLE (see
`table->options') and return the alist of (NAME-SYMBOL . VALUE), in order.
An option not in TABLE is passed, as typed, to UNKNOWN, which raises an
error."
  (reverse
   (args-fold words (table->options table)
              (lambda (opt name value seed)
                (unknown (string-append "--" name
                                        (if value (string-append "=" value) ""))))
              (lambda (operand seed)      ;after a lone `--': not an option
                (unknown operand))
              '())))


;;;
;;; `new'.
;;;

(define (unknown-new-option word)
  "Raise the error for WORD, an unknown option of `new'."
  (fail "unknown option ~s for new; swineherd's own options go between \
ID and SCRIPT (~{--~a~^, ~}), options for the container script after SCRIPT"
        word (map car %new-options)))

(define (parse-option word)
  "Parse WORD, one option of `new' (--NAME or --NAME=VALUE), into its
(NAME-SYMBOL . VALUE) pair, as `parse-new-arguments' does; raise a clear
error for an unknown option or an invalid value."
  (match (parse-options (list word) %new-options unknown-new-option)
    ((pair) pair)))

(define %usage
  "usage: herd new swineherd -- ID [OPTION...] SCRIPT [ARG...]")

(define (parse-new-arguments args)
  "Parse ARGS, the arguments of `new', of the form
ID [--OPTION=VALUE...] SCRIPT [SCRIPT-ARGUMENT...], and return four values:
ID, an alist of options (symbols to parsed values), SCRIPT and the list of
SCRIPT-ARGUMENTs.  Raise a clear error for anything else, including the
keyword arguments that `herd' makes of its own options."
  (when (any keyword? args)
    (fail "herd turned an option into ~s: put `--' right after `new \
swineherd' so that options reach swineherd and the container script intact"
          (find keyword? args)))
  (match args
    ((id . rest)
     (check-container-id id)
     (let-values (((options rest) (span option-word? rest)))
       (match rest
         ((script . script-args)
          (values id (parse-options options %new-options unknown-new-option)
                  script script-args))
         (()
          (fail "new: no SCRIPT given; ~a" %usage)))))
    (()
     (fail "new: no ID given; ~a" %usage))))


;;;
;;; `exec' and `fs'.
;;;

(define %max-timeout
  ;; The longest --timeout accepted: a week, in seconds.
  (* 7 24 3600))

(define %default-exec-timeout
  ;; Seconds an `exec' or `fs' command without --timeout may run.
  3600)

(define (parse-timeout value)
  "Parse VALUE, the argument of --timeout: a number of seconds, positive
and at most %MAX-TIMEOUT."
  (match (and value (string->number value))
    ((? (lambda (n) (and (rational? n) (positive? n) (<= n %max-timeout))) n)
     n)
    (_ (fail "invalid --timeout ~s: give a number of seconds above 0 and at \
most ~a (a week), e.g. --timeout=5 or --timeout=0.5" value %max-timeout))))

(define %exec-options
  ;; Swineherd's own options of `exec' and `fs': name, parser, help.
  `(("timeout" ,parse-timeout
     "--timeout=SECONDS: kill the command after SECONDS")))

(define (parse-exec-arguments action args)
  "Parse ARGS, the arguments of ACTION (`exec' or `fs'), of the form
[--timeout=SECONDS...] [--] COMMAND [ARG...].  Return two values: the
timeout (#f when none is given; the last one when several are) and the
command, a non-empty list of strings."
  (define usage
    (format #f "usage: herd ~a swine:ID -- [--timeout=SECONDS] COMMAND [ARG...]"
            action))
  (define (unknown word)
    (fail "unknown option ~s for ~a; swineherd's only option is \
--timeout=SECONDS, given after `--' and before COMMAND; ~a" word action usage))
  (when (any keyword? args)
    (fail "herd turned an option into ~s: put `--' right after `~a swine:ID' \
so that the command and its options reach it intact; ~a"
          (find keyword? args) action usage))
  (let-values (((options command) (span option-word? args)))
    (when (null? command)
      (fail "~a: no COMMAND given; ~a" action usage))
    (values (match (parse-options (delete "--" options) %exec-options unknown)
              (() #f)
              (options (cdr (last options))))
            command)))

;;; arguments.scm ends here
