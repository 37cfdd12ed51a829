;; What Instrument must produce for noglobal.wasm (compared byte for byte).
(module
  (func (export "f") (param i32) (result i32)
    (global.set 1 (i32.add (global.get 1) (i32.const -1)))
    (if (i32.eqz (global.get 1))
      (then
        (global.set 1 (i32.const 1000))
        (if (global.get 0) (then unreachable))))
    (i32.add (local.get 0) (i32.const 1)))
  (global (mut i32) (i32.const 0))
  (global (mut i32) (i32.const 1000))
  (export "fnhost.stop" (global 0)))
