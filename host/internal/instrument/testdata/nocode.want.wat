;; What Instrument must produce for nocode.wasm (compared byte for byte).
(module
  (type (func (param i32)))
  (type $yield (func))
  (import "host" "log" (func (type 0)))
  (memory 1)
  (data (i32.const 0) "hi")
  (func $yield (type $yield)
    (drop (memory.grow (i32.const 0)))
    (global.set 1 (i32.const 1000))
    (if (global.get 0) (then unreachable)))
  (global (mut i32) (i32.const 0))
  (global (mut i32) (i32.const 1000))
  (export "fnhost.stop" (global 0)))
