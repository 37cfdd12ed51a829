;; A memory (so $yield exits to Go with memory.grow), a recursive function, a
;; loop, call-free functions, a call_indirect through an element segment, and
;; a passive data segment (so a data count section, between the element and
;; code sections). spin(n) loops n times, n = 0 meaning 2^64.
(module
  (type $r (func (result i32)))
  (memory 1)
  (table 1 funcref)
  (elem (i32.const 0) $leaf)
  (data $d "xy")
  (func $count (export "count") (param $n i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n))
      (then (i32.const 0))
      (else (i32.add (call $count (i32.sub (local.get $n) (i32.const 1))) (i32.const 1)))))
  (func (export "fill") (param $n i32)
    (loop $l
      (i32.store8 (local.get $n) (i32.const 1))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func $leaf (result i32)
    (memory.init $d (i32.const 0) (i32.const 0) (i32.const 2))
    (i32.load16_u (i32.const 0)))
  (func (export "indirect") (result i32)
    (call_indirect (type $r) (i32.const 0)))
  (func (export "spin") (param $n i64)
    (loop $l
      (br_if $l (i64.ne (local.tee $n (i64.sub (local.get $n) (i64.const 1))) (i64.const 0))))))
