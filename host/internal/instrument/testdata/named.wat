;; Built with --debug-names: has a "name" custom section, kept unchanged.
(module
  (func $spin (export "run") (param $n i32) (local $i i32)
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))))
