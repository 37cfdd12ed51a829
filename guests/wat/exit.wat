;; exit: the handler calls WASI proc_exit(3). Must fail with an exit error
;; (code 3).
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "fnhost_v1" "response_write" (func $write (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "handle")
    (call $proc_exit (i32.const 3))))
