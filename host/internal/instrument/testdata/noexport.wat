;; No export section.
(module
  (global $g (mut i32) (i32.const 0))
  (func $f (global.set $g (i32.const 1)))
  (func $h (loop (br_if 0 (i32.const 0)))))
