;; hugemem: declares a memory of 40000 pages minimum (about 2.5 GiB) and a
;; valid handler. Must be rejected at load against the function's memory
;; limit.
(module
  (import "fnhost_v1" "response_write" (func $write (param i32 i32) (result i32)))
  (memory (export "memory") 40000)
  (data (i32.const 0) "hello world")
  (func (export "handle")
    (drop (call $write (i32.const 0) (i32.const 11)))))
