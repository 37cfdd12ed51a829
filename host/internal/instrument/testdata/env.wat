;; Provides the imports of imported-globals.wat (not instrumented).
(module
  (global (export "base") i32 (i32.const 40))
  (global (export "counter") (mut i32) (i32.const 1)))
