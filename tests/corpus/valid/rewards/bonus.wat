;; An external reward by hand, against the reward ABI version 1 (sandboxes/SEMANTICS.md): it reads
;; no fields and scores every event 1.0.
(module
  (memory (export "memory") 1)
  ;; The empty schema: a NUL-terminated empty string.
  (data (i32.const 64) "\00")
  (func (export "evo_abi_version") (result i32) (i32.const 1))
  (func (export "evo_schema") (result i32) (i32.const 64))
  ;; One region from byte 1024 on, with memory grown to hold it.
  (func (export "evo_alloc") (param $bytes i32) (result i32)
    (if (i32.eq
          (memory.grow (i32.add (i32.shr_u (local.get $bytes) (i32.const 16)) (i32.const 1)))
          (i32.const -1))
      (then (return (i32.const 0))))
    (i32.const 1024))
  (func (export "evo_reward") (param $desc i32) (param $rows i32) (result i32)
    (local $i i32)
    (block $done (loop $row
      (br_if $done (i32.ge_u (local.get $i) (local.get $rows)))
      (f64.store (i32.add (i32.load (local.get $desc)) (i32.shl (local.get $i) (i32.const 3)))
                 (f64.const 1))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $row)))
    (i32.const 0)))
