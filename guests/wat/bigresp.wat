;; bigresp: writes 64 KiB chunks with response_write until it returns a
;; negative code (ERR_TOO_LARGE), then returns. Must fail with "response too
;; large".
(module
  (import "fnhost_v1" "response_write" (func $write (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "bigresp ")
  (func (export "handle")
    (loop $more
      (br_if $more (i32.ge_s (call $write (i32.const 0) (i32.const 65536)) (i32.const 0))))))
