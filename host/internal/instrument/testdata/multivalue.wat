;; Multi-value blocks and a loop with parameters (block types as type indices).
(module
  (type $pair (func (param i32 i32) (result i32 i32)))
  (func $swap (param i32 i32) (result i32 i32) (local.get 1) (local.get 0))
  (func (export "run") (param $n i32) (result i32)
    (local.get $n) (i32.const 0)
    (loop $l (param i32 i32) (result i32 i32)
      ;; (k, acc) -> (k-1, acc+k) while k > 0
      (call $swap)
      (block (param i32 i32) (result i32 i32)
        (call $swap))
      (local.set $n) ;; acc
      (local.tee 0)  ;; reuse param 0 as k
      (local.get 0) (i32.add (local.get $n))
      (local.set $n)
      (i32.sub (i32.const 1))
      (local.get $n)
      (br_if $l (i32.gt_s (local.get 0) (i32.const 1))))
    (i32.add)))
