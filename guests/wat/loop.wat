;; loop: the handler never returns. Must fail with a timeout.
(module
  (import "fnhost_v1" "response_write" (func $write (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "handle")
    (loop (br 0))))
