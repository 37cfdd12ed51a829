;; No function or code section: only an imported function, a memory and an
;; active data segment. Instrument adds function and code sections (the code
;; section before the data section) holding only $yield, whose index is 1.
(module
  (import "host" "log" (func (param i32)))
  (memory 1)
  (data (i32.const 0) "hi"))
