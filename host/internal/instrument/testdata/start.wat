;; A start function that loops forever: instantiation would never finish.
;; The memory (unused) makes $yield exit to Go; see loop.wat.
(module
  (memory 1)
  (func $forever (loop (br 0)))
  (start $forever)
  (func (export "ok") (result i32) (i32.const 42)))
