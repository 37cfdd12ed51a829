;; What Instrument must produce for loop.wasm (compared byte for byte).
(module
  (func (export "run")
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
  (func (export "sum") (param $n i64) (result i64)
    (local $acc i64)
    (global.set 1 (i32.add (global.get 1) (i32.const -1)))
    (if (i32.eqz (global.get 1))
      (then
        (global.set 1 (i32.const 1000))
        (if (global.get 0) (then unreachable))))
    (block $done
      (loop $next
        (global.set 1 (i32.add (global.get 1) (i32.const -1)))
        (if (i32.eqz (global.get 1))
          (then
            (global.set 1 (i32.const 1000))
            (if (global.get 0) (then unreachable))))
        (br_if $done (i64.eqz (local.get $n)))
        (local.set $acc (i64.add (local.get $acc) (local.get $n)))
        (local.set $n (i64.sub (local.get $n) (i64.const 1)))
        (br $next)))
    (local.get $acc))
  (global (mut i32) (i32.const 0))
  (global (mut i32) (i32.const 1000))
  (export "fnhost.stop" (global 0)))
