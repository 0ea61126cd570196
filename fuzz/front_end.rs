//! What the fuzzer checks on every input: parse, check, plan and format never panic, and
//! formatted code parses again. Shared by the libFuzzer target and the stable replay test.

/// Runs the whole front end on `data`; panics only on a defect.
pub fn front_end(data: &[u8]) {
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
}
