//! `scripts/prune-target.sh` keeps the newest build of each test binary in the shared target dir
//! and removes the older ones (cargo never does, and they filled the disk).

mod support;

use std::process::Command;

#[test]
fn only_the_newest_build_of_each_binary_is_kept() {
    let target = tempfile::tempdir().unwrap();
    let deps = target.path().join("debug/deps");
    std::fs::create_dir_all(&deps).unwrap();
    let make = |name: &str, age_s: u64| {
        let path = deps.join(name);
        std::fs::write(&path, b"bin").unwrap();
        let status = Command::new("chmod").args(["+x"]).arg(&path).status().unwrap();
        assert!(status.success());
        let when = std::time::SystemTime::now() - std::time::Duration::from_secs(age_s);
        std::fs::File::options().write(true).open(&path).unwrap().set_modified(when).unwrap();
    };
    make("slurm-00e9d69f6e448caa", 300);
    make("slurm-0123456789abcdef", 10);
    make("cli-a34286b64a6381ed", 100);
    std::fs::write(deps.join("libdsl-0123456789abcdef.rlib"), b"lib").unwrap();
    let script = support::repo_root().join("scripts/prune-target.sh");
    let out = Command::new(script).arg(target.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut left: Vec<String> =
        std::fs::read_dir(&deps).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    left.sort();
    assert_eq!(left, ["cli-a34286b64a6381ed", "libdsl-0123456789abcdef.rlib", "slurm-0123456789abcdef"]);
}
