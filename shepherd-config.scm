;;; Shepherd configuration that runs Swineherd: start Shepherd with it,
;;;   sudo -E ./pre-inst-env shepherd -c shepherd-config.scm -s /run/swineherd.sock --insecure --logfile=swineherd.log &
;;; or load it into a Shepherd that is already running:
;;;   herd load root /absolute/path/to/shepherd-config.scm

;; Find (swineherd) next to this file, also when the Shepherd loading it was
;; not started from pre-inst-env.
(add-to-load-path (string-append (dirname (current-filename)) "/scheme"))

(use-modules (swineherd))

;; Loading this file twice must not replace a running swineherd.
(unless (lookup-service 'swineherd)
  (register-services (list (swineherd-service))))
(start-service (lookup-service 'swineherd))

;; The HTTP/JSON API on /run/swineherd/api.sock (mode 0600); for TCP too:
;;   (swineherd-api-service (swineherd-configuration)
;;                          (api-configuration #:tcp-address "127.0.0.1"
;;                                             #:token-file "/etc/swineherd/api-token"))
;; It needs guile-json: without it, swineherd runs and the API is off, as
;; Shepherd's log says.
(define api
  (catch 'misc-error
    (lambda () (resolve-interface '(swineherd api)))
    (lambda (key subr message args . _)
      (format #t "swineherd: the HTTP API is off (~a); install guile-json~%"
              (apply format #f message args))
      #f)))

(when api
  (unless (lookup-service 'swineherd-api)
    (register-services (list ((module-ref api 'swineherd-api-service)))))
  (start-service (lookup-service 'swineherd-api)))
