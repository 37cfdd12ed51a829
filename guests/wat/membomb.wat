;; membomb: grows memory by 16 pages (1 MiB) at a time until memory.grow
;; returns -1 (the function's memory limit), then traps. Must fail with a
;; memory limit error.
(module
  (import "fnhost_v1" "response_write" (func $write (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "handle")
    (loop $grow
      (br_if $grow (i32.ne (memory.grow (i32.const 16)) (i32.const -1))))
    unreachable))
