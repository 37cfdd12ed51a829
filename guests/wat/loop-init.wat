;; loop-init: the exported _initialize loops forever. Must fail with a timeout
;; (the deadline covers _initialize). The handler itself is valid.
(module
  (import "fnhost_v1" "response_write" (func $write (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "hello world")
  (func (export "_initialize")
    (loop (br 0)))
  (func (export "handle")
    (drop (call $write (i32.const 0) (i32.const 11)))))
