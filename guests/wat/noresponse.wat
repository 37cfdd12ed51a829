;; noresponse: logs one line and returns without calling any response
;; function. Must fail with "no response".
(module
  (import "fnhost_v1" "log" (func $log (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "noresponse guest ran")
  (func (export "handle")
    (drop (call $log (i32.const 1) (i32.const 0) (i32.const 20)))))
