;; Recursive fib, no loops: only function-entry checks can stop it. The
;; memory (unused) makes $yield exit to Go; see loop.wat.
(module
  (memory 1)
  (func $fib (export "fib") (param $n i64) (result i64)
    (if (result i64) (i64.lt_u (local.get $n) (i64.const 2))
      (then (local.get $n))
      (else (i64.add
        (call $fib (i64.sub (local.get $n) (i64.const 1)))
        (call $fib (i64.sub (local.get $n) (i64.const 2))))))))
