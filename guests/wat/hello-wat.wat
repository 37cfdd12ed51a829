;; hello-wat: 200 (the default status), Content-Type: text/plain, body
;; "hello world". The smallest and fastest ABI v1 guest.
(module
  (import "fnhost_v1" "response_add_header" (func $add_header (param i32 i32 i32 i32) (result i32)))
  (import "fnhost_v1" "response_write" (func $write (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "Content-Type")   ;; 0..12
  (data (i32.const 16) "text/plain")    ;; 16..26
  (data (i32.const 32) "hello world")   ;; 32..43
  (func (export "handle")
    (drop (call $add_header (i32.const 0) (i32.const 12) (i32.const 16) (i32.const 10)))
    (drop (call $write (i32.const 32) (i32.const 11)))))
