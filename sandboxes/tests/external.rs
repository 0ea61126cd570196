//! An external reward written by hand against the documented ABI (all three column types,
//! null masks, several chunks) scores exactly what the equivalent compiled reward scores.

use sandboxes::{Columns, Limits, RewardFn, SandboxEngine};

/// `(r ?? 1.0) + n + (if b { 10 } else { 0 })`, where a null `n` or `b` reads as 0 / false.
const WAT: &str = r#"
(module
  (memory (export "memory") 1)
  (data (i32.const 64) "r:float,n:int,b:bool\00")
  (global $heap (mut i32) (i32.const 1024))
  (func (export "evo_abi_version") (result i32) (i32.const 1))
  (func (export "evo_schema") (result i32) (i32.const 64))
  (func (export "evo_alloc") (param $n i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (if (i32.eq
          (memory.grow (i32.add (i32.shr_u (local.get $n) (i32.const 16)) (i32.const 1)))
          (i32.const -1))
      (then (return (i32.const 0))))
    (global.set $heap (i32.add (local.get $p) (local.get $n)))
    (local.get $p))
  ;; Is row $i null in the mask at $mask (0 = no mask)?
  (func $null (param $mask i32) (param $i i32) (result i32)
    (if (result i32) (local.get $mask)
      (then (i32.ne (i32.load8_u (i32.add (local.get $mask) (local.get $i))) (i32.const 0)))
      (else (i32.const 0))))
  (func (export "evo_reward") (param $d i32) (param $rows i32) (result i32)
    (local $i i32) (local $v f64)
    (block $done (loop $row
      (br_if $done (i32.ge_u (local.get $i) (local.get $rows)))
      ;; r ?? 1.0
      (local.set $v
        (if (result f64) (call $null (i32.load offset=8 (local.get $d)) (local.get $i))
          (then (f64.const 1))
          (else (f64.load (i32.add (i32.load offset=4 (local.get $d))
                                   (i32.shl (local.get $i) (i32.const 3)))))))
      ;; + n
      (if (i32.eqz (call $null (i32.load offset=16 (local.get $d)) (local.get $i)))
        (then (local.set $v (f64.add (local.get $v)
          (f64.convert_i64_s (i64.load (i32.add (i32.load offset=12 (local.get $d))
                                                (i32.shl (local.get $i) (i32.const 3))))))))) 
      ;; + 10 if b
      (if (i32.eqz (call $null (i32.load offset=24 (local.get $d)) (local.get $i)))
        (then (if (i32.load8_u (i32.add (i32.load offset=20 (local.get $d)) (local.get $i)))
          (then (local.set $v (f64.add (local.get $v) (f64.const 10)))))))
      (f64.store (i32.add (i32.load (local.get $d)) (i32.shl (local.get $i) (i32.const 3)))
                 (local.get $v))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $row)))
    (i32.const 0)))
"#;

fn equivalent_ir() -> RewardFn {
    testdata::reward_fn(
        "dataset d = \"d.csv\" { r: float, n: int, b: bool }\n\
         reward by_ir(e: d) -> float {\n  (e.r ?? 1.0) + e.n + if e.b { 10 } else { 0 }\n}\n",
        "by_ir",
    )
}

#[test]
fn hand_written_module_matches_compiled_reward() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("handmade.wat");
    std::fs::write(&path, WAT).unwrap();
    let engine = SandboxEngine::new(Limits { chunk_rows: 7, ..Limits::default() }).unwrap();
    let external = engine.load_file(&path).unwrap();
    assert_eq!(external.name(), "handmade");
    assert_eq!(external.fields(), equivalent_ir().fields.as_slice());
    let compiled = engine.compile(&equivalent_ir()).unwrap();

    let n = 50;
    let r: Vec<f64> = (0..n).map(|i| f64::from(i) * 0.25 - 3.0).collect();
    let k: Vec<i64> = (0..n).map(|i| i64::from(i) * 7 - 100).collect();
    let b: Vec<bool> = (0..n).map(|i| i % 3 == 0).collect();
    let r_null: Vec<bool> = (0..n).map(|i| i % 4 == 1).collect();
    let k_null: Vec<bool> = (0..n).map(|i| i % 5 == 2).collect();
    // Columns may come in any order; binding is by name.
    let cols =
        Columns::new().with("b", &b[..]).with_nulls("n", &k[..], &k_null[..]).with_nulls("r", &r[..], &r_null[..]);
    let (mut got, mut want) = (Vec::new(), Vec::new());
    external.run(&cols, &mut got).unwrap();
    compiled.run(&cols, &mut want).unwrap();
    assert_eq!(got, want);
    // Spot-check one row by hand: row 1 has a null `r` (reads 1.0), n = -93, b = false.
    assert_eq!(got[1], 1.0 - 93.0);
}
