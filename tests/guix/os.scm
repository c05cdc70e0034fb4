;;; tests/guix/os.scm --- etc/os.scm evaluates, with Guix 1.5's modules, to
;;; an operating-system whose services fold into a Shepherd configuration
;;; with swineherd and /etc/swineherd/containers.scm.

(add-to-load-path (string-append (getcwd) "/.guix/modules"))
(use-modules (gnu) (gnu services shepherd) (srfi srfi-1))

(define passed 0)
(define failed 0)
(define (check what ok?)
  (if ok? (set! passed (+ 1 passed)) (set! failed (+ 1 failed)))
  (format #t "~a: ~a~%" (if ok? "PASS" "FAIL") what))

(define os (load (string-append (getcwd) "/etc/os.scm")))
(check "etc/os.scm is an operating-system" (operating-system? os))
(define services (instantiate-missing-services (operating-system-services os)))
(check "…whose Shepherd runs swineherd"
       (any (lambda (s) (memq 'swineherd (shepherd-service-provision s)))
            (shepherd-configuration-services
             (service-value (fold-services services
                                           #:target-type
                                           shepherd-root-service-type)))))
(check "…and whose /etc has swineherd/containers.scm"
       (assoc "swineherd/containers.scm"
              (service-value (fold-services services
                                            #:target-type etc-service-type))))
(format #t "os.scm: ~a passed, ~a failed~%" passed failed)
(exit (zero? failed))
