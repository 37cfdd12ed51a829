;; badptr: calls host functions with pointer/length pairs outside linear
;; memory (1 page, 64 KiB, never grown) and with out-of-domain arguments, and
;; checks each result: ERR_FAULT (-1) for every bad pointer/length pair,
;; ERR_INVALID (-3) for statuses 99 and 600, ERR_NOT_FOUND (-2) for header
;; index 1000000, and a length (>= 0) for cap 0 with any buf. Responds 200 "ok"
;; when every check held, otherwise 500 "fail:<check>" naming the first check
;; that failed. The host must not trap on any of these calls.
(module
  (import "fnhost_v1" "request_method" (func $request_method (param i32 i32) (result i32)))
  (import "fnhost_v1" "request_body_read" (func $request_body_read (param i32 i32) (result i32)))
  (import "fnhost_v1" "request_header_name" (func $request_header_name (param i32 i32 i32) (result i32)))
  (import "fnhost_v1" "response_set_status" (func $response_set_status (param i32) (result i32)))
  (import "fnhost_v1" "response_add_header" (func $response_add_header (param i32 i32 i32 i32) (result i32)))
  (import "fnhost_v1" "response_write" (func $response_write (param i32 i32) (result i32)))
  (import "fnhost_v1" "env_get" (func $env_get (param i32 i32 i32 i32) (result i32)))
  (import "fnhost_v1" "log" (func $log (param i32 i32 i32) (result i32)))
  (import "fnhost_v1" "context_string" (func $context_string (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "fail:")
  (data (i32.const 8) "1")
  (data (i32.const 12) "X-Ok")
  (data (i32.const 16) "ok")
  ;; check names, from offset 64
  (data (i32.const 64) "request_method")
  (data (i32.const 78) "request_method_wrap")
  (data (i32.const 97) "request_method_cap")
  (data (i32.const 115) "request_method_cap0")
  (data (i32.const 134) "request_body_read")
  (data (i32.const 151) "request_body_read_wrap")
  (data (i32.const 173) "response_add_header")
  (data (i32.const 192) "response_add_header_value")
  (data (i32.const 217) "response_write")
  (data (i32.const 231) "response_write_wrap")
  (data (i32.const 250) "env_get")
  (data (i32.const 257) "log")
  (data (i32.const 260) "log_end")
  (data (i32.const 267) "context_string")
  (data (i32.const 281) "response_set_status")
  (data (i32.const 300) "response_set_status_600")
  (data (i32.const 323) "request_header_name")

  (func $fail (param $name i32) (param $len i32)
    (drop (call $response_set_status (i32.const 500)))
    (drop (call $response_write (i32.const 0) (i32.const 5)))
    (drop (call $response_write (local.get $name) (local.get $len))))

  (func (export "handle")
    ;; request_method: buffer straddles the end of memory
    (if (i32.ne (call $request_method (i32.const 0xFFF8) (i32.const 16)) (i32.const -1))
      (then (call $fail (i32.const 64) (i32.const 14)) (return)))
    ;; request_method_wrap: buf + cap wraps past 4 GiB
    (if (i32.ne (call $request_method (i32.const 0xFFFFFFF0) (i32.const 0x100)) (i32.const -1))
      (then (call $fail (i32.const 78) (i32.const 19)) (return)))
    ;; request_method_cap: cap far beyond memory
    (if (i32.ne (call $request_method (i32.const 0) (i32.const 0xFFFFFFFF)) (i32.const -1))
      (then (call $fail (i32.const 97) (i32.const 18)) (return)))
    ;; request_method_cap0: cap 0: any buf, only reports the length (ABI.md §3)
    (if (i32.lt_s (call $request_method (i32.const 0xFFFFFFF0) (i32.const 0)) (i32.const 0))
      (then (call $fail (i32.const 115) (i32.const 19)) (return)))
    ;; request_body_read: buffer just past the end of memory
    (if (i32.ne (call $request_body_read (i32.const 0x10000) (i32.const 1)) (i32.const -1))
      (then (call $fail (i32.const 134) (i32.const 17)) (return)))
    ;; request_body_read_wrap: wraps past 4 GiB
    (if (i32.ne (call $request_body_read (i32.const 0xFFFFFFF0) (i32.const 0x100)) (i32.const -1))
      (then (call $fail (i32.const 151) (i32.const 22)) (return)))
    ;; response_add_header: name wraps past 4 GiB
    (if (i32.ne (call $response_add_header (i32.const 0xFFFFFFF0) (i32.const 0x100) (i32.const 8) (i32.const 1)) (i32.const -1))
      (then (call $fail (i32.const 173) (i32.const 19)) (return)))
    ;; response_add_header_value: value straddles the end of memory
    (if (i32.ne (call $response_add_header (i32.const 12) (i32.const 4) (i32.const 0xFFFF) (i32.const 2)) (i32.const -1))
      (then (call $fail (i32.const 192) (i32.const 25)) (return)))
    ;; response_write: straddles the end of memory
    (if (i32.ne (call $response_write (i32.const 0xFFFC) (i32.const 8)) (i32.const -1))
      (then (call $fail (i32.const 217) (i32.const 14)) (return)))
    ;; response_write_wrap: wraps past 4 GiB
    (if (i32.ne (call $response_write (i32.const 0xFFFFFFF0) (i32.const 0x100)) (i32.const -1))
      (then (call $fail (i32.const 231) (i32.const 19)) (return)))
    ;; env_get: name wraps past 4 GiB
    (if (i32.ne (call $env_get (i32.const 0xFFFFFFF0) (i32.const 0x100) (i32.const 1024) (i32.const 64)) (i32.const -1))
      (then (call $fail (i32.const 250) (i32.const 7)) (return)))
    ;; log: message wraps past 4 GiB
    (if (i32.ne (call $log (i32.const 1) (i32.const 0xFFFFFFF0) (i32.const 0x100)) (i32.const -1))
      (then (call $fail (i32.const 257) (i32.const 3)) (return)))
    ;; log_end: message just past the end of memory
    (if (i32.ne (call $log (i32.const 1) (i32.const 0x10000) (i32.const 1)) (i32.const -1))
      (then (call $fail (i32.const 260) (i32.const 7)) (return)))
    ;; context_string: buffer just past the end of memory
    (if (i32.ne (call $context_string (i32.const 1) (i32.const 0x10000) (i32.const 64)) (i32.const -1))
      (then (call $fail (i32.const 267) (i32.const 14)) (return)))
    ;; response_set_status: status below 100: ERR_INVALID
    (if (i32.ne (call $response_set_status (i32.const 99)) (i32.const -3))
      (then (call $fail (i32.const 281) (i32.const 19)) (return)))
    ;; response_set_status_600: status above 599: ERR_INVALID
    (if (i32.ne (call $response_set_status (i32.const 600)) (i32.const -3))
      (then (call $fail (i32.const 300) (i32.const 23)) (return)))
    ;; request_header_name: index out of range: ERR_NOT_FOUND
    (if (i32.ne (call $request_header_name (i32.const 1000000) (i32.const 0) (i32.const 0)) (i32.const -2))
      (then (call $fail (i32.const 323) (i32.const 19)) (return)))
    (drop (call $response_set_status (i32.const 200)))
    (drop (call $response_write (i32.const 16) (i32.const 2)))))
