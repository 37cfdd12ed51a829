;; recursion: unbounded (non-tail) recursion. Must fail with a trap (stack
;; exhaustion).
(module
  (import "fnhost_v1" "response_write" (func $write (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func $deeper (param $n i32) (result i32)
    (i32.add
      (call $deeper (i32.add (local.get $n) (i32.const 1)))
      (i32.const 1)))
  (func (export "handle")
    (drop (call $deeper (i32.const 0)))))
