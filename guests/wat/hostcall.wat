;; hostcall: calls context_int(1) (memory limit) 100 times, then responds
;; 200 "ok". Used to measure the cost of a host call.
(module
  (import "fnhost_v1" "context_int" (func $context_int (param i32) (result i64)))
  (import "fnhost_v1" "response_write" (func $write (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "ok")
  (func (export "handle")
    (local $i i32)
    (loop $again
      (drop (call $context_int (i32.const 1)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const 100))))
    (drop (call $write (i32.const 0) (i32.const 2)))))
