;; br_table inside a loop: count down n, classifying n mod 4.
(module
  (func (export "run") (param $n i32) (result i32)
    (local $acc i32)
    (loop $l
      (block $d (block $c (block $b (block $a
        (br_table $a $b $c $d (i32.and (local.get $n) (i32.const 3))))
        (local.set $acc (i32.add (local.get $acc) (i32.const 1))) (br $d))
        (local.set $acc (i32.add (local.get $acc) (i32.const 10))) (br $d))
        (local.set $acc (i32.add (local.get $acc) (i32.const 100))))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (i32.gt_s (local.get $n) (i32.const 0))))
    (local.get $acc)))
