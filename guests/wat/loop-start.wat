;; loop-start: the wasm start function loops forever, so instantiation never
;; finishes. Must fail with a timeout (the deadline covers instance creation).
;; The handler itself is valid (responds "hello world").
(module
  (import "fnhost_v1" "response_write" (func $write (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "hello world")
  (func $forever
    (loop (br 0)))
  (start $forever)
  (func (export "handle")
    (drop (call $write (i32.const 0) (i32.const 11)))))
