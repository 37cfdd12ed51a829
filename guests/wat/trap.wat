;; trap: the handler executes unreachable. Must fail with a trap.
(module
  (import "fnhost_v1" "response_write" (func $write (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "handle")
    unreachable))
