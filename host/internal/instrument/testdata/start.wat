;; A start function that loops forever: instantiation would never finish.
(module
  (func $forever (loop (br 0)))
  (start $forever)
  (func (export "ok") (result i32) (i32.const 42)))
