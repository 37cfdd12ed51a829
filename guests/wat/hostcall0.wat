;; hostcall0: the baseline for hostcall: the same 100-iteration loop calling
;; a local function instead of the host, then responds 200 "ok". The
;; difference between the two, divided by 100, is the cost of a host call.
(module
  (import "fnhost_v1" "response_write" (func $write (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "ok")
  (global $g (mut i64) (i64.const 0))
  (func $local (param i32) (result i64)
    (global.set $g (i64.add (global.get $g) (i64.extend_i32_u (local.get 0))))
    (global.get $g))
  (func (export "handle")
    (local $i i32)
    (loop $again
      (drop (call $local (i32.const 1)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const 100))))
    (drop (call $write (i32.const 0) (i32.const 2)))))
