;; Nested loops: sum of i*j for i, j in [0, n).
(module
  (func (export "run") (param $n i32) (result i64)
    (local $i i32) (local $j i32) (local $acc i64)
    (block $out
      (loop $li
        (br_if $out (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $j (i32.const 0))
        (block $in
          (loop $lj
            (br_if $in (i32.ge_u (local.get $j) (local.get $n)))
            (local.set $acc (i64.add (local.get $acc)
              (i64.extend_i32_u (i32.mul (local.get $i) (local.get $j)))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $lj)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $li)))
    (local.get $acc)))
