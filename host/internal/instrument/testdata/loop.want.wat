;; What Instrument must produce for loop.wasm (compared byte for byte): checks
;; at the loop headers only, as neither function makes a call.
(module
  (type (func))
  (type (func (param i64) (result i64)))
  (type $yield (func))
  (memory 1)
  (func (export "run") (type 0)
    (loop
      (global.set 1 (i32.add (global.get 1) (i32.const -1)))
      (if (global.get 1) (then) (else (call $yield)))
      (br 0)))
  (func (export "sum") (type 1) (param $n i64) (result i64)
    (local $acc i64)
    (block $done
      (loop $next
        (global.set 1 (i32.add (global.get 1) (i32.const -1)))
        (if (global.get 1) (then) (else (call $yield)))
        (br_if $done (i64.eqz (local.get $n)))
        (local.set $acc (i64.add (local.get $acc) (local.get $n)))
        (local.set $n (i64.sub (local.get $n) (i64.const 1)))
        (br $next)))
    (local.get $acc))
  (func $yield (type $yield)
    (drop (memory.grow (i32.const 0)))
    (global.set 1 (i32.const 1000))
    (if (global.get 0) (then unreachable)))
  (global (mut i32) (i32.const 0))
  (global (mut i32) (i32.const 1000))
  (export "fnhost.stop" (global 0)))
