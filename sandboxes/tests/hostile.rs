//! Hostile external rewards, written as WAT: each is stopped or rejected with the right error
//! kind, and afterwards the same engine still scores a good reward correctly.

use std::time::{Duration, Instant};

use sandboxes::{Columns, Limits, SandboxEngine, SandboxError, TrapKind};

/// The ABI scaffolding every module needs; `reward` is the body of `evo_reward`, `extra` any
/// further module fields.
fn module(reward: &str, extra: &str) -> String {
    format!(
        r#"(module
  (memory (export "memory") 1)
  (data (i32.const 16) "x:float\00")
  (global $heap (mut i32) (i32.const 1024))
  (func (export "evo_abi_version") (result i32) (i32.const 1))
  (func (export "evo_schema") (result i32) (i32.const 16))
  (func (export "evo_alloc") (param $n i32) (result i32)
    (local $p i32) (local $end i32)
    (local.set $p (global.get $heap))
    (local.set $end (i32.add (local.get $p) (local.get $n)))
    (if (i32.gt_u (local.get $end) (i32.mul (memory.size) (i32.const 65536)))
      (then
        (if (i32.eq
              (memory.grow (i32.sub (i32.shr_u (i32.add (local.get $end) (i32.const 65535))
                                               (i32.const 16))
                                    (memory.size)))
              (i32.const -1))
          (then (return (i32.const 0))))))
    (global.set $heap (i32.and (i32.add (local.get $end) (i32.const 7)) (i32.const -8)))
    (local.get $p))
  (func (export "evo_reward") (param $desc i32) (param $rows i32) (result i32)
    (local $i i32) (local $out i32) (local $x i32)
    (local.set $out (i32.load (local.get $desc)))
    (local.set $x (i32.load offset=4 (local.get $desc)))
    {reward})
  {extra})"#
    )
}

/// `out[i] = 2 * x[i]` for every row, calling `$hook` with `x[i]` first. Hooks key on the
/// value because the module only sees chunk-local row indices.
fn doubling_with_hook(hook: &str) -> String {
    module(
        r#"(block $done (loop $row
      (br_if $done (i32.ge_u (local.get $i) (local.get $rows)))
      (call $hook (f64.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 3)))))
      (f64.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 3)))
        (f64.mul (f64.const 2)
          (f64.load (i32.add (local.get $x) (i32.shl (local.get $i) (i32.const 3))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $row)))
    (i32.const 0)"#,
        &format!("(func $hook (param $x f64) {hook})"),
    )
}

fn good() -> String {
    doubling_with_hook("")
}

fn limits() -> Limits {
    Limits {
        fuel_per_event: 10_000,
        fuel_per_call: 1_000_000,
        deadline: Duration::from_secs(10),
        max_memory_bytes: 16 << 20,
        chunk_rows: 4,
        ..Limits::default()
    }
}

const XS: [f64; 10] = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0];

fn columns() -> Columns<'static> {
    Columns::new().with("x", &XS[..])
}

/// The host is healthy: a good reward on the same engine scores every row correctly.
fn assert_healthy(engine: &SandboxEngine) {
    let sandbox = engine.load("good", good().as_bytes()).expect("good reward loads");
    let mut out = Vec::new();
    sandbox.run(&columns(), &mut out).expect("good reward runs");
    let want: Vec<f64> = XS.iter().map(|x| 2.0 * x).collect();
    assert_eq!(out, want);
}

/// Loads `wat` and runs it, expecting a trap of `kind` at `row`.
fn expect_trap(engine: &SandboxEngine, wat: &str, kind: TrapKind, row: Option<usize>) {
    let result = engine.load("hostile", wat.as_bytes()).and_then(|s| s.run(&columns(), &mut Vec::new()));
    match result {
        Err(SandboxError::Trap { kind: got, row: got_row, .. }) => {
            assert_eq!(got, kind);
            assert_eq!(got_row, row);
        }
        other => panic!("expected a {kind:?} trap, got {other:?}"),
    }
    assert_healthy(engine);
}

fn expect_load_error(engine: &SandboxEngine, bytes: &[u8], code: &str, needle: &str) {
    let err = engine.load("hostile", bytes).expect_err("the module must be rejected");
    assert_eq!(err.code(), code, "{err}");
    let msg = err.to_string();
    assert!(msg.contains(needle), "`{msg}` should mention `{needle}`");
    assert_healthy(engine);
}

#[test]
fn good_reward_scores_all_chunks() {
    assert_healthy(&SandboxEngine::new(limits()).unwrap());
}

#[test]
fn endless_loop_runs_out_of_fuel() {
    let engine = SandboxEngine::new(limits()).unwrap();
    // Row 5 never finishes: it lies in the second chunk of four.
    let wat = doubling_with_hook("(if (f64.eq (local.get $x) (f64.const 6)) (then (loop $l (br $l))))");
    expect_trap(&engine, &wat, TrapKind::OutOfFuel, Some(5));
}

#[test]
fn endless_loop_hits_the_deadline_when_fuel_is_plentiful() {
    let engine =
        SandboxEngine::new(Limits { fuel_per_call: u64::MAX / 2, deadline: Duration::from_millis(200), ..limits() })
            .unwrap();
    let started = Instant::now();
    expect_trap(&engine, &doubling_with_hook("(loop $l (br $l))"), TrapKind::Deadline, Some(0));
    assert!(started.elapsed() < Duration::from_secs(5), "deadline not enforced promptly");
}

#[test]
fn memory_grow_bomb_hits_the_cap() {
    let engine = SandboxEngine::new(limits()).unwrap();
    let wat = doubling_with_hook(
        "(if (f64.eq (local.get $x) (f64.const 3)) (then (loop $l (drop (memory.grow (i32.const 16))) (br $l))))",
    );
    expect_trap(&engine, &wat, TrapKind::MemoryLimit, Some(2));
}

#[test]
fn huge_initial_memory_is_refused() {
    let engine = SandboxEngine::new(limits()).unwrap();
    let wat = good().replace("(memory (export \"memory\") 1)", "(memory (export \"memory\") 2000)");
    let err = engine.load("hostile", wat.as_bytes()).unwrap_err();
    assert_eq!(err.trap_kind(), Some(&TrapKind::MemoryLimit), "{err}");
    assert_healthy(&engine);
}

#[test]
fn deep_recursion_overflows_the_stack() {
    let engine = SandboxEngine::new(Limits { fuel_per_event: 100_000_000, ..limits() }).unwrap();
    let wat = module(
        "(drop (call $down (i64.const 0))) (i32.const 0)",
        "(func $down (param $n i64) (result i64) (call $down (i64.add (local.get $n) (i64.const 1))))",
    );
    expect_trap(&engine, &wat, TrapKind::StackOverflow, Some(0));
}

#[test]
fn unreachable_is_reported_with_its_row() {
    let engine = SandboxEngine::new(limits()).unwrap();
    let wat = doubling_with_hook("(if (f64.eq (local.get $x) (f64.const 10)) (then unreachable))");
    expect_trap(&engine, &wat, TrapKind::Unreachable, Some(9));
}

#[test]
fn out_of_bounds_store_is_a_trap() {
    let engine = SandboxEngine::new(limits()).unwrap();
    let wat = module("(f64.store (i32.const -8) (f64.const 1)) (i32.const 0)", "");
    expect_trap(&engine, &wat, TrapKind::OutOfBounds, Some(0));
}

#[test]
fn nonzero_status_is_a_failure() {
    let engine = SandboxEngine::new(limits()).unwrap();
    let sandbox = engine.load("grumpy", module("(i32.const 7)", "").as_bytes()).unwrap();
    let err = sandbox.run(&columns(), &mut Vec::new()).unwrap_err();
    assert_eq!(err.code(), "sandbox::failed");
    assert!(err.to_string().contains("error code 7"), "{err}");
    assert_healthy(&engine);
}

#[test]
fn wasi_import_is_rejected_before_running() {
    let engine = SandboxEngine::new(limits()).unwrap();
    let wat = module(
        "(i32.const 0)",
        r#"(import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))"#,
    );
    // Imports must come first in WAT text; move the line up.
    let wat = wat.replacen(
        "(module\n",
        "(module\n  (import \"wasi_snapshot_preview1\" \"fd_write\" (func (param i32 i32 i32 i32) (result i32)))\n",
        1,
    );
    let wat = wat
        .replace(r#"(import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32))))"#, ")");
    expect_load_error(&engine, wat.as_bytes(), "sandbox::import", "wasi_snapshot_preview1::fd_write");
}

#[test]
fn wrong_export_signature_is_rejected() {
    let engine = SandboxEngine::new(limits()).unwrap();
    let wat = good().replace("(export \"evo_reward\")", "(export \"evo_reward_v0\")");
    let wat = wat
        .replace("(func $hook", "(func (export \"evo_reward\") (param i32) (result f64) (f64.const 0))\n  (func $hook");
    expect_load_error(&engine, wat.as_bytes(), "sandbox::export", "evo_reward");
}

#[test]
fn missing_export_is_rejected() {
    let engine = SandboxEngine::new(limits()).unwrap();
    let wat = good().replace("(export \"evo_alloc\")", "");
    expect_load_error(&engine, wat.as_bytes(), "sandbox::export", "evo_alloc");
}

#[test]
fn bytes_that_are_not_wasm_are_rejected() {
    let engine = SandboxEngine::new(limits()).unwrap();
    expect_load_error(&engine, b"\x7fELF\x02\x01\x01\0", "sandbox::not_wasm", "7f");
    expect_load_error(&engine, b"(module (func", "sandbox::not_wasm", "WAT");
    expect_load_error(&engine, b"\0asm\x01\0\0\0\xff\xff", "sandbox::invalid", "hostile");
}

#[test]
fn bad_schema_is_rejected() {
    let engine = SandboxEngine::new(limits()).unwrap();
    let wat = good().replace("\"x:float\\00\"", "\"x:complex\\00\"");
    expect_load_error(&engine, wat.as_bytes(), "sandbox::schema", "complex");
}

#[test]
fn alloc_refusal_is_reported() {
    let engine = SandboxEngine::new(limits()).unwrap();
    let wat = good().replace("(local.get $p))", "(drop (local.get $p)) (i32.const 0))");
    let sandbox = engine.load("stingy", wat.as_bytes()).unwrap();
    let err = sandbox.run(&columns(), &mut Vec::new()).unwrap_err();
    assert_eq!(err.code(), "sandbox::alloc", "{err}");
    assert_healthy(&engine);
}

#[test]
fn missing_column_is_reported() {
    let engine = SandboxEngine::new(limits()).unwrap();
    let sandbox = engine.load("good", good().as_bytes()).unwrap();
    let ys = [1.0];
    let err = sandbox.run(&Columns::new().with("y", &ys[..]), &mut Vec::new()).unwrap_err();
    assert_eq!(err.code(), "sandbox::columns");
    assert!(err.to_string().contains("no column `x`"), "{err}");
}
