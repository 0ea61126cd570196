//! Any bytes through the whole front end: parse, check, plan and format must never panic.
//! Run with `scripts/fuzz.sh SECONDS` (needs a nightly toolchain and cargo-fuzz).

#![no_main]

#[path = "../front_end.rs"]
mod front_end;

libfuzzer_sys::fuzz_target!(|data: &[u8]| front_end::front_end(data));
