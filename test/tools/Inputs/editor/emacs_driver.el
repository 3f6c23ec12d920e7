;;; emacs_driver.el --- drive Eglot the way a user would, in batch mode  -*- lexical-binding: t -*-

;; For test/tools/editor_test.py. Loaded after the user's init file (the
;; guide's snippet): visit the file, run the post-command hook once as the
;; command that visited it would (Eglot's `eglot-ensure' connects from
;; there), wait for the diagnostics Flymake shows, print them, call
;; `eglot-code-actions' as a command on the warning the test names and pick
;; the action it names from the menu, then print the buffer around the edit
;; and wait for the server to drop that warning.
;;
;; Environment: EDITOR_TEST_OUT (output file), EDITOR_TEST_FILE (the file to
;; visit), EDITOR_TEST_CHECK (the check whose warning gets the code action),
;; EDITOR_TEST_ACTION (a regexp the chosen action's title must match),
;; EDITOR_TEST_TIMEOUT (seconds per wait). Exits 0 when every step happened,
;; 1 (after saying why) otherwise.

(require 'cl-lib)
(require 'flymake)

(defvar drv-out (getenv "EDITOR_TEST_OUT"))
(defvar drv-check (getenv "EDITOR_TEST_CHECK"))
(defvar drv-action (getenv "EDITOR_TEST_ACTION"))
(defvar drv-timeout (string-to-number (getenv "EDITOR_TEST_TIMEOUT")))

(defun drv-say (fmt &rest args)
  (let ((line (concat (apply #'format fmt args) "\n")))
    (with-temp-buffer
      (insert line)
      (write-region (point-min) (point-max) drv-out t 'silent))))

(defun drv-fail (fmt &rest args)
  (apply #'drv-say fmt args)
  (kill-emacs 1))

(defun drv-idle ()
  "Run the idle timers, as Emacs does when the user stops typing. Batch
Emacs is never idle, and Eglot sends a buffer's changes to the server from
an idle timer (`eglot-send-changes-idle-time')."
  (dolist (timer (copy-sequence timer-idle-list))
    (timer-event-handler timer)))

(defun drv-wait (predicate what &optional idle)
  "Process input until PREDICATE holds; fail after `drv-timeout' seconds.
With IDLE, the user is idle: run the idle timers every half second."
  (let ((end (+ (float-time) drv-timeout))
        (next-idle (+ (float-time) 0.5)))
    (while (and (not (funcall predicate)) (< (float-time) end))
      (accept-process-output nil 0.1)
      (when (and idle (>= (float-time) next-idle))
        (setq next-idle (+ (float-time) 0.5))
        (drv-idle)))
    (unless (funcall predicate)
      (drv-fail "timeout: %s after %d s" what drv-timeout))))

(defun drv-ours ()
  "Flymake's diagnostics of the grpc-leak-* checks in this buffer."
  (cl-remove-if-not
   (lambda (d) (string-match-p "\\[grpc-leak-" (flymake-diagnostic-text d)))
   (flymake-diagnostics)))

(defun drv-find (check)
  (cl-find-if (lambda (d)
                (string-match-p (regexp-quote (format "[%s]" check))
                                (flymake-diagnostic-text d)))
              (drv-ours)))

(defun drv-first-line (text)
  (car (split-string text "\n")))

(defun drv-run ()
  (write-region "" nil drv-out nil 'silent)
  (find-file (getenv "EDITOR_TEST_FILE"))
  ;; The command that visited the file ends: `eglot-ensure' connects now.
  (run-hooks 'post-command-hook)
  (drv-wait (lambda () (bound-and-true-p eglot--managed-mode)) "no Eglot session")
  ;; Flymake starts its backends when the next command ends.
  (run-hooks 'post-command-hook)
  (drv-wait (lambda () (drv-ours)) "no grpc-leak diagnostics")
  (dolist (d (sort (flymake-diagnostics)
                   (lambda (a b) (< (flymake-diagnostic-beg a) (flymake-diagnostic-beg b)))))
    (save-excursion
      (goto-char (flymake-diagnostic-beg d))
      (drv-say "diagnostic %d:%d %s %s" (line-number-at-pos) (1+ (current-column))
               (flymake-diagnostic-type d)
               (drv-first-line (flymake-diagnostic-text d)))))
  (let ((target (drv-find drv-check))
        (titles nil)
        (chosen nil))
    (unless target
      (drv-fail "no %s diagnostic" drv-check))
    (drv-say "buffer modified before the code action: %s" (if (buffer-modified-p) "true" "false"))
    (goto-char (flymake-diagnostic-beg target))
    ;; M-x eglot-code-actions RET, then the title at the prompt: a keyboard
    ;; event (not a mouse one) makes Eglot ask with `completing-read'.
    (cl-letf (((symbol-function 'completing-read)
               (lambda (_prompt collection &rest _)
                 (dolist (item collection)
                   (push (car item) titles)
                   (when (and (not chosen) (string-match-p drv-action (car item)))
                     (setq chosen (car item))))
                 (setq titles (nreverse titles))
                 (or chosen (drv-fail "no code action matches %s among %S" drv-action titles)))))
      (let ((last-nonmenu-event ?\r))
        (call-interactively #'eglot-code-actions)))
    (dolist (title titles)
      (drv-say "code action: %s" title))
    (drv-say "chosen: %s" chosen)
    (drv-wait #'buffer-modified-p "the code action did not change the buffer")
    (drv-say "buffer modified after the code action: %s" (if (buffer-modified-p) "true" "false"))
    (let ((line (line-number-at-pos (flymake-diagnostic-beg target))))
      (save-excursion
        (goto-char (point-min))
        (forward-line (- line 2))
        (dotimes (i 3)
          (drv-say "line %d: %s" (+ line -1 i)
                   (buffer-substring-no-properties (line-beginning-position) (line-end-position)))
          (forward-line 1))))
    ;; The user stops typing: the edit reaches the server (didChange, from
    ;; Eglot's idle timer), which analyses the file again; Flymake shows the
    ;; new report.
    (drv-wait (lambda () (and (drv-ours) (not (drv-find drv-check))))
              (format "%s still reported after the edit" drv-check) t)
    (drv-say "after the edit: no %s; still reported: %s" drv-check
             (mapconcat #'identity
                        (sort (mapcar (lambda (d)
                                        (let ((text (flymake-diagnostic-text d)))
                                          (string-match "\\[\\(grpc-leak-[a-z-]+\\)\\]" text)
                                          (match-string 1 text)))
                                      (drv-ours))
                              #'string<)
                        " "))))

(condition-case err
    (progn (drv-run) (kill-emacs 0))
  (error (drv-say "error: %S" err) (kill-emacs 1)))
