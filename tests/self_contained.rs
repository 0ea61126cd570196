//! The repository is all a person needs: no test, workflow, script or benchmark reads from
//! beside the clone (a `../shared` folder exists on some machines and not on others). Real data
//! comes from `scripts/fetch-data.sh` into a cache; see `testdata`.

mod support;

use std::path::Path;

/// Folders that are not the project's sources: builds, run dirs, VCS data, fuzzing output.
const SKIP: &[&str] = &["target", ".git", ".evoflow", ".cargo", "corpus", "artifacts"];

/// Source files under `dir` (recursively) that code or workflows are written in.
fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if !SKIP.contains(&name.as_str()) {
                sources(&path, out);
            }
        } else if ["rs", "evo", "sh", "py", "toml", "j2"].iter().any(|x| name.ends_with(&format!(".{x}"))) {
            out.push(path);
        }
    }
}

#[test]
fn nothing_reads_from_beside_the_clone() {
    let root = support::repo_root();
    let mut files = Vec::new();
    sources(&root, &mut files);
    sources(&root.join("tests/corpus"), &mut files);
    assert!(files.len() > 100, "found only {} source files under {}", files.len(), root.display());
    let outside = ["../", "shared/"].concat();
    let offenders: Vec<String> = files
        .iter()
        .filter(|f| !f.ends_with("tests/self_contained.rs"))
        .filter(|f| std::fs::read_to_string(f).is_ok_and(|text| text.contains(&outside)))
        .map(|f| f.strip_prefix(&root).unwrap_or(f).display().to_string())
        .collect();
    assert!(offenders.is_empty(), "these read from a `{outside}` beside the clone: {offenders:?}");
}
