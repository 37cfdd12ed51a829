;; foreignimport: an ABI v1 module (it imports fnhost_v1 response_write) that
;; also imports "env" "evil", a module that is not allowed. Must be rejected
;; at load with an error naming the module.
(module
  (import "env" "evil" (func $evil))
  (import "fnhost_v1" "response_write" (func $write (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "handle")
    (call $evil)
    (drop (call $write (i32.const 0) (i32.const 0)))))
