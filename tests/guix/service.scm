;;; tests/guix/service.scm --- instantiate an operating-system with
;;; `swineherd-service-type', two containers in its configuration and one
;;; more from a `swineherd-extension', fold its services (no store, no
;;; daemon) and check what Shepherd, /etc, the activation, the profile and
;;; log rotation receive.  Prints PASS/FAIL lines and a summary.

(add-to-load-path (string-append (getcwd) "/.guix/modules"))
(use-modules (gnu) (gnu services shepherd) (gnu services admin)
             (guix gexp) (guix packages)
             (swineherd services) (swineherd-package)
             (srfi srfi-1) (ice-9 match))

(define passed 0)
(define failed 0)
(define (check what ok?)
  (if ok? (set! passed (+ 1 passed)) (set! failed (+ 1 failed)))
  (format #t "~a: ~a~%" (if ok? "PASS" "FAIL") what))

(define guest
  (operating-system
    (host-name "guest")
    (bootloader (bootloader-configuration (bootloader grub-bootloader)
                                          (targets '("/dev/vda"))))
    (file-systems %base-file-systems)
    (services %base-services)))

(define (helper-service-type)
  ;; A service that adds a container through `swineherd-extension'.
  (service-type
   (name 'helper)
   (extensions
    (list (service-extension
           (@ (swineherd services) swineherd-service-type)
           (const (swineherd-extension
                   (containers
                    (list (swineherd-container-configuration
                           (id "extra") (os guest)))))))))
   (default-value #f)
   (description "Add a container.")))

(define host
  (operating-system
    (host-name "host")
    (bootloader (bootloader-configuration (bootloader grub-bootloader)
                                          (targets '("/dev/sda"))))
    (file-systems (cons (file-system (device "/dev/sda1") (mount-point "/")
                                     (type "ext4"))
                        %base-file-systems))
    (services
     (cons* (service swineherd-service-type
                     (swineherd-configuration
                      (bridge "swh0")
                      (containers
                       (list (swineherd-container-configuration
                              (id "web") (os guest)
                              (arguments '("--expose=/srv/www=/srv/www"))
                              (memory "512M")
                              (publish '("8080:80"))
                              (respawn? #t))
                             (swineherd-container-configuration
                              (id "db") (os guest) (cpus "0.5"))))))
            (service (helper-service-type))
            %base-services))))

(define services (instantiate-missing-services (operating-system-services host)))

(define (target type)
  (fold-services services #:target-type type))

(define shepherd-services
  (shepherd-configuration-services
   (service-value (target shepherd-root-service-type))))
(define swineherd
  (find (lambda (s) (memq 'swineherd (shepherd-service-provision s)))
        shepherd-services))

(check "Shepherd gets a service providing swineherd" swineherd)
(check "…only one" (= 1 (count (lambda (s)
                                 (memq 'swineherd (shepherd-service-provision s)))
                               shepherd-services)))
(check "…requiring user-processes and file-systems"
       (equal? '(user-processes file-systems)
               (shepherd-service-requirement swineherd)))
(check "…whose requirements are all provided"
       (every (lambda (r)
                (any (lambda (s) (memq r (shepherd-service-provision s)))
                     shepherd-services))
              (shepherd-service-requirement swineherd)))
(check "…loading (swineherd) in PID 1's Shepherd"
       (member '(swineherd) (shepherd-service-modules swineherd)))

(define free-form (gexp->approximate-sexp
                   (shepherd-service-free-form swineherd)))
(format #t "  free-form: ~s~%" free-form)
(check "…as (swineherd-service (swineherd-configuration …))"
       (match free-form
         (('swineherd-service ('swineherd-configuration . _)) #t)
         (_ #f)))
(check "…with the configured bridge and /etc/swineherd/containers.scm"
       (match free-form
         (('swineherd-service ('swineherd-configuration . args))
          (and (equal? "swh0" (cadr (memq #:bridge args)))
               (equal? "/etc/swineherd/containers.scm"
                       (cadr (memq #:containers args)))))
         (_ #f)))

(define etc (service-value (target etc-service-type)))
(define declarations
  (any (match-lambda
         (("swineherd/containers.scm" file) file)
         (_ #f))
       (map (lambda (x) (if (pair? x) x (list x #f))) etc)))
(check "/etc/swineherd/containers.scm is a scheme-file" (scheme-file? declarations))
(define declared-gexps
  ;; The file is (list CONTAINER...), each CONTAINER a gexp of its own.
  (match (gexp->approximate-sexp (scheme-file-gexp declarations))
    (('list . containers) containers)))
(define declared
  (cons 'list (map (lambda (g) (if (gexp? g) (gexp->approximate-sexp g) g))
                   declared-gexps)))
(format #t "  declared: ~s~%" declared)
(define (declared-field id field)
  (any (match-lambda
         (('swineherd-container . args)
          (and (equal? id (cadr (memq #:id args)))
               (cadr (memq field args))))
         (_ #f))
       (cdr declared)))
(check "…declaring web, db and the extension's extra, in that order"
       (equal? '("web" "db" "extra")
               (map (match-lambda (('swineherd-container #:id id . _) id))
                    (cdr declared))))
(check "…web: its options from memory, publish and respawn?"
       (equal? ''("--memory=512M" "--publish=8080:80" "--respawn")
               (declared-field "web" #:options)))
(check "…web: its script arguments"
       (equal? ''("--expose=/srv/www=/srv/www") (declared-field "web" #:arguments)))
(check "…db: --cpus=0.5" (equal? ''("--cpus=0.5") (declared-field "db" #:options)))
(check "…each script is Guix's container-script of its operating-system"
       (every (lambda (g)
                (let ((script (any (lambda (x)
                                     (and (swineherd-container-script? x) x))
                                   (map gexp-input-thing
                                        ;; Not exported; the test looks inside.
                                        ((@@ (guix gexp) gexp-inputs) g)))))
                  (and script
                       (eq? guest (swineherd-container-script-os script)))))
              declared-gexps))

(define profile (service-value (target profile-service-type)))
(check "the swineherd package is in the system profile" (memq (@ (swineherd-package) swineherd) profile))

(define rotation (service-value (target log-rotation-service-type)))
(check "log rotation gets the rotated console logs of the three containers"
       (lset<= equal? '("/var/log/swineherd/web.log.1" "/var/log/swineherd/db.log.1"
                        "/var/log/swineherd/extra.log.1")
               (log-rotation-configuration-external-log-files rotation)))

(define activation (service-value (target activation-service-type)))
(check "the activation creates the state directory, mode 700"
       (string-contains (object->string activation) "/var/lib/swineherd"))

;; For the scenario: the declarations file, each script replaced by
;; SCRIPT, which (swineherd declare) must then accept as it is.
(let ((out (getenv "SWINEHERD_DECLARED_OUT"))
      (script (getenv "SWINEHERD_DECLARED_SCRIPT")))
  (when out
    (call-with-output-file out
      (lambda (port)
        (write (let loop ((x declared))
                 (cond ((equal? x '(*approximate*)) script)
                       ((pair? x) (cons (loop (car x)) (loop (cdr x))))
                       (else x)))
               port)))))

(format #t "service.scm: ~a passed, ~a failed~%" passed failed)
(exit (zero? failed))
