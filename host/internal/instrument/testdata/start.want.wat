;; What Instrument must produce for start.wasm (compared byte for byte): the
;; start section is gone and its function is exported instead.
(module
  (type (func))
  (type (func (result i32)))
  (type $yield (func))
  (memory 1)
  (func $forever (type 0)
    (loop
      (global.set 1 (i32.add (global.get 1) (i32.const -1)))
      (if (global.get 1) (then) (else (call $yield)))
      (br 0)))
  (func (export "ok") (type 1)
    (i32.const 42))
  (func $yield (type $yield)
    (drop (memory.grow (i32.const 0)))
    (global.set 1 (i32.const 1000))
    (if (global.get 0) (then unreachable)))
  (global (mut i32) (i32.const 0))
  (global (mut i32) (i32.const 1000))
  (export "fnhost.stop" (global 0))
  (export "fnhost.start" (func $forever)))
