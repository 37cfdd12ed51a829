;; ref.func in element segments of several forms, and call_indirect through
;; a second table.
(module
  (type $r (func (result i32)))
  (import "env" "base" (global $g i32))
  (table $t0 2 funcref)
  (table $t1 64 funcref)
  (func $a (result i32) (i32.const 1))
  (func $b (result i32) (i32.const 2))
  (func $c (result i32) (i32.const 3))
  (elem (i32.const 0) $a $b)                                         ;; flags 0
  (elem $p func $c)                                                  ;; flags 1
  (elem (table $t1) (i32.const 0) func $b $c)                        ;; flags 2
  (elem declare func $a)                                             ;; flags 3
  (elem (i32.const 1) funcref (ref.func $c))                         ;; flags 4 (table 0)
  (elem $q funcref (ref.func $a) (ref.null func))                    ;; flags 5
  (elem (table $t1) (global.get $g) funcref (ref.func $a) (item ref.func $b)) ;; flags 6
  (elem declare funcref (ref.func $b))                               ;; flags 7
  (func (export "run") (result i32)
    (i32.add (call_indirect $t0 (type $r) (i32.const 1))
      (call_indirect $t1 (type $r) (i32.const 1)))))
