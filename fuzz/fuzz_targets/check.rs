//! Any bytes through the whole front end: parse, check, plan and format must never panic, and
//! formatted code parses again. Run with `scripts/fuzz.sh SECONDS` (needs a nightly toolchain).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut sources = dsl::SourceMap::default();
    let file = sources.add("fuzz.evo", text);
    if let Ok(module) = dsl::parse::parse(file, text) {
        let formatted = dsl::fmt::format(&module, text);
        assert!(dsl::parse::parse(file, &formatted).is_ok(), "formatted code parses");
    }
    if let Ok(program) = dsl::check("fuzz.evo", text, &dsl::NoFiles, &[]).result {
        let _ = dsl::Plan::new(&program).to_json();
    }
});
