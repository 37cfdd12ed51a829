;; A start function that initialises state, and no export section.
(module
  (global $g (mut i32) (i32.const 1))
  (func $init (global.set $g (i32.const 7)))
  (start $init))
