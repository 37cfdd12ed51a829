;; Mutual recursion without loops, one edge a call_indirect: fib(n) calls
;; $g(n-1) + $g(n-2), and $g calls fib through the table. The memory (unused)
;; makes $yield exit to Go; see loop.wat.
(module
  (memory 1)
  (type $t (func (param i64) (result i64)))
  (table 1 funcref)
  (elem (i32.const 0) $fib)
  (func $fib (export "fib") (param $n i64) (result i64)
    (if (result i64) (i64.lt_u (local.get $n) (i64.const 2))
      (then (local.get $n))
      (else (i64.add
        (call $g (i64.sub (local.get $n) (i64.const 1)))
        (call $g (i64.sub (local.get $n) (i64.const 2)))))))
  (func $g (param $n i64) (result i64)
    (call_indirect (type $t) (local.get $n) (i32.const 0))))
