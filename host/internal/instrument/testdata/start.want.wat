;; What Instrument must produce for start.wasm (compared byte for byte): the
;; start section is gone and its function is exported instead.
(module
  (func $forever
    (global.set 1 (i32.add (global.get 1) (i32.const -1)))
    (if (i32.eqz (global.get 1))
      (then
        (global.set 1 (i32.const 1000))
        (if (global.get 0) (then unreachable))))
    (loop
      (global.set 1 (i32.add (global.get 1) (i32.const -1)))
      (if (i32.eqz (global.get 1))
        (then
          (global.set 1 (i32.const 1000))
          (if (global.get 0) (then unreachable))))
      (br 0)))
  (func (export "ok") (result i32)
    (global.set 1 (i32.add (global.get 1) (i32.const -1)))
    (if (i32.eqz (global.get 1))
      (then
        (global.set 1 (i32.const 1000))
        (if (global.get 0) (then unreachable))))
    (i32.const 42))
  (global (mut i32) (i32.const 0))
  (global (mut i32) (i32.const 1000))
  (export "fnhost.stop" (global 0))
  (export "fnhost.start" (func $forever)))
