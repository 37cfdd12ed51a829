;; An infinite loop, and a loop summing 1..n. The memory (unused) is there
;; so that $yield exits to Go, as in any module the host accepts: a spinning
;; guest that never exits to Go would block a GC, and the test with it.
(module
  (memory 1)
  (func (export "run")
    (loop (br 0)))
  (func (export "sum") (param $n i64) (result i64)
    (local $acc i64)
    (block $done
      (loop $next
        (br_if $done (i64.eqz (local.get $n)))
        (local.set $acc (i64.add (local.get $acc) (local.get $n)))
        (local.set $n (i64.sub (local.get $n) (i64.const 1)))
        (br $next)))
    (local.get $acc)))
