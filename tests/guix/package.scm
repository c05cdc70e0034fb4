;;; tests/guix/package.scm --- load guix.scm with Guix 1.5's modules (no
;;; daemon, no store) and check that it yields the `swineherd' package, that
;;; every input resolves to a Guix 1.5 package or origin, and that the Rust
;;; crates are those of Cargo.lock.  Prints PASS/FAIL lines and a summary.

(use-modules (guix packages) (guix build-system) (guix diagnostics) (rnrs bytevectors) (srfi srfi-1)
             (ice-9 match) (ice-9 rdelim) (ice-9 regex))

(define top (getcwd))
(define passed 0)
(define failed 0)
(define (check what ok?)
  (if ok? (set! passed (+ 1 passed)) (set! failed (+ 1 failed)))
  (format #t "~a: ~a~%" (if ok? "PASS" "FAIL") what))

(define pkg (load (string-append top "/guix.scm")))

(check "guix.scm returns a <package>" (package? pkg))
(check "…named swineherd" (equal? "swineherd" (package-name pkg)))
(check "…built with cargo-build-system"
       (eq? 'cargo (build-system-name (package-build-system pkg))))

(define (input-objects inputs)
  (map (match-lambda ((label object . _) object)) inputs))

(define (guix-package? p)
  ;; A package whose definition lives in Guix's own modules.
  (and (package? p)
       (let ((location (package-location p)))
         (and location (string-prefix? "gnu/packages/" (location-file location))))))

(let* ((native (input-objects (package-native-inputs pkg)))
       (inputs (input-objects (package-inputs pkg)))
       (propagated (input-objects (package-propagated-inputs pkg)))
       (packages (filter package? (append native inputs propagated)))
       (origins (filter origin? inputs)))
  (check (format #f "every input is a package or an origin (~a packages, ~a crates)"
                 (length packages) (length origins))
         (every (lambda (x) (or (package? x) (origin? x)))
                (append native inputs propagated)))
  (check (format #f "every package input is a Guix 1.5 package: ~{~a ~}"
                 (map package-full-name packages))
         (every guix-package? packages))
  (check "guile-fibers is propagated"
         (any (lambda (p) (equal? "guile-fibers" (package-name p))) propagated))
  (check "guile-json is propagated (the HTTP API)"
         (any (lambda (p) (equal? "guile-json" (package-name p))) propagated))
  (check "Shepherd 1.0 and Guile 3.0 at build time"
         (and (any (lambda (p) (and (equal? "shepherd" (package-name p))
                                    (string-prefix? "1." (package-version p))))
                   native)
              (any (lambda (p) (equal? "guile" (package-name p))) native)))
  ;; Cargo.lock's registry crates, as NAME-VERSION, against the origins.
  (let* ((lock (call-with-input-file (string-append top "/Cargo.lock")
                 (lambda (port)
                   (let loop ((lines '()))
                     (match (read-line port)
                       ((? eof-object?) (reverse lines))
                       (line (loop (cons line lines))))))))
         (crates
          (let loop ((lines lock) (name #f) (version #f) (crates '()))
            (match lines
              (() (sort crates string<?))
              ((line . rest)
               (cond ((string-match "^name = \"(.*)\"" line)
                      => (lambda (m) (loop rest (match:substring m 1) #f crates)))
                     ((string-match "^version = \"(.*)\"" line)
                      => (lambda (m) (loop rest name (match:substring m 1) crates)))
                     ((string-prefix? "source = \"registry+" line)
                      (loop rest #f #f
                            (cons (string-append
                                   (string-map (lambda (c) (if (char=? c #\_) #\- c))
                                               name)
                                   "-" version ".tar.gz")
                                  crates)))
                     (else (loop rest name version crates)))))))
         (files (sort (map (lambda (o)
                             (string-drop (origin-file-name o)
                                          (string-length "rust-")))
                           origins)
                      string<?)))
    (check (format #f "the crates are Cargo.lock's ~a registry crates"
                   (length crates))
           (equal? crates files))
    (check "each crate origin has a sha256 from Cargo.lock's checksum"
           (every (lambda (o) (= 32 (bytevector-length (content-hash-value (origin-hash o)))))
                  origins))))

(format #t "package.scm: ~a passed, ~a failed~%" passed failed)
(exit (zero? failed))
