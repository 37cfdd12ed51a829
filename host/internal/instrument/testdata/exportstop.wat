;; Exports a name reserved for the host.
(module
  (func (export "fnhost.stop")))
