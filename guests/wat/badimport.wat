;; badimport: imports fnhost_v1 "exec_shell", a name ABI v1 does not define.
;; Must be rejected at load with an error naming the unknown import.
(module
  (import "fnhost_v1" "exec_shell" (func $exec_shell (param i32 i32) (result i32)))
  (import "fnhost_v1" "response_write" (func $write (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "echo hi")
  (func (export "handle")
    (drop (call $exec_shell (i32.const 0) (i32.const 7)))
    (drop (call $write (i32.const 0) (i32.const 0)))))
