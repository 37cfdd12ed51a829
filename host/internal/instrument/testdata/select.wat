;; select with value types, including reference types.
(module
  (table 1 funcref)
  (func $f)
  (elem declare func $f)
  (func (export "run") (param $c i32) (result i32)
    (table.set 0 (i32.const 0)
      (select (result funcref) (ref.func $f) (ref.null func) (local.get $c)))
    (i32.add
      (select (result i32) (i32.const 10) (i32.const 20) (local.get $c))
      (ref.is_null (table.get 0 (i32.const 0))))))
