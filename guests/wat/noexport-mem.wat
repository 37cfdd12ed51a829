;; noexport-mem: a valid handler, but the memory is not exported. Must be
;; rejected at load: missing memory export.
(module
  (import "fnhost_v1" "response_write" (func $write (param i32 i32) (result i32)))
  (memory 1)
  (data (i32.const 0) "hello world")
  (func (export "handle")
    (drop (call $write (i32.const 0) (i32.const 11)))))
