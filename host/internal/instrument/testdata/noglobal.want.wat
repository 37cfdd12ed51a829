;; What Instrument must produce for noglobal.wasm (compared byte for byte): f
;; makes no call and has no loop, so it gets no check; $yield has no
;; memory.grow, as there is no memory.
(module
  (type (func (param i32) (result i32)))
  (type $yield (func))
  (func (export "f") (type 0) (param i32) (result i32)
    (i32.add (local.get 0) (i32.const 1)))
  (func $yield (type $yield)
    (global.set 1 (i32.const 1000))
    (if (global.get 0) (then unreachable)))
  (global (mut i32) (i32.const 0))
  (global (mut i32) (i32.const 1000))
  (export "fnhost.stop" (global 0)))
