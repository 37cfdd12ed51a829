;; Invalid on purpose (built with --no-check): the module has one global, and
;; a function sets global 1, which is the index the stop global would get.
(module
  (global $g (mut i32) (i32.const 0))
  (func (export "run") (global.set 1 (i32.const 0))))
