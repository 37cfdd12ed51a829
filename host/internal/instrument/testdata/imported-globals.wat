;; Imported globals come first in the index space: G = 2 imported + 2 defined.
(module
  (import "env" "base" (global $base i32))
  (import "env" "counter" (global $counter (mut i32)))
  (global $a i32 (global.get $base))
  (global $b (mut i64) (i64.const 5))
  (memory 1)
  (data (global.get $base) "hi")
  (func (export "run") (result i32)
    (global.set $counter (i32.add (global.get $counter) (i32.const 1)))
    (global.set $b (i64.const 6))
    (i32.add (global.get $a) (global.get $counter)))
  (export "a" (global $a))
  (export "b" (global $b)))
