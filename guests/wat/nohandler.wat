;; nohandler: an ABI v1 module that exports memory but no "handle" (only
;; "other"). Must be rejected at load: missing handler export.
(module
  (import "fnhost_v1" "log" (func $log (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "other")))
