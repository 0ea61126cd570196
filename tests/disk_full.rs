//! A full disk, for real: the run dir on a small tmpfs, filled up before two models train. Each
//! training step fails with a transient I/O error — never `done`, never cached — and once space
//! is freed the next run trains them. Mounting needs root (the project's machines run the tests
//! as root); where it is refused the test says so and checks nothing.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use support::Dir;

const WORKFLOW: &str = r#"
use std::sim::{logs}
use std::data::{random_split}
use std::train::{train}

param epochs: int = 2
dataset events = logs(users: 300, items: 80, days: 3, seed: 5)
let split = random_split(events, valid: 0.1, test: 0.1, seed: 5)

model mf {
  input user: id, item: id
  score = dot(embed(user, 16), embed(item, 16))
}

optimizer opt = adam(lr: 0.01)
let m1 = train(mf, split, optimizer: opt, epochs: epochs, seed: 1)
let m2 = train(mf, split, optimizer: opt, epochs: epochs, seed: 2)
output a = m1
output b = m2
"#;

/// A tmpfs mounted for the test's life.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(at).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .output()
            .is_ok_and(|o| o.status.success());
        ok.then(|| Tmpfs(at.to_path_buf()))
    }

    /// Fills all but `keep` bytes with a file (room for the journal's log, not for a model);
    /// returns it.
    fn fill(&self, keep: u64) -> PathBuf {
        let out = Command::new("df").args(["--output=avail", "-B1"]).arg(&self.0).output().unwrap();
        let avail: u64 = String::from_utf8_lossy(&out.stdout).lines().last().unwrap().trim().parse().unwrap();
        let path = self.0.join("filler");
        std::fs::write(&path, vec![0u8; avail.saturating_sub(keep) as usize]).unwrap();
        path
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

fn steps(dir: &Dir, run: i64) -> Vec<Value> {
    let query = format!("SELECT node_id, status, error FROM steps WHERE run_id = {run} ORDER BY node_id");
    let out = dir.status(["journal", "w.evo", "--run-dir", "run", "--format", "json", "--sql", &query], 0);
    serde_json::from_str::<Value>(&out.stdout).unwrap()["rows"].as_array().cloned().unwrap_or_default()
}

#[test]
fn training_on_a_full_disk_fails_as_a_transient_io_error_and_trains_once_space_is_freed() {
    let dir = Dir::new();
    dir.file("w.evo", WORKFLOW);
    let Some(disk) = Tmpfs::mount(&dir.path().join("run"), "64m") else {
        eprintln!("skipped: mounting a tmpfs was refused (not root?)");
        return;
    };
    dir.status(["run", "w.evo", "--run-dir", "run", "-q"], 0);

    let filler = disk.fill(8 * 1024);
    let out = dir.status(["run", "w.evo", "--run-dir", "run", "--set", "epochs=3"], 1);
    let text = format!("{}{}", out.stdout, out.stderr);
    assert!(text.contains("No space left on device") && text.contains("[step::io]"), "{text}");
    for row in steps(&dir, 2).iter().filter(|r| r[0] == "m1" || r[0] == "m2") {
        assert!(row[1] == "failed" || row[1] == "interrupted", "nothing trained is recorded as such: {row:?}");
    }

    std::fs::remove_file(filler).unwrap();
    dir.status(["run", "w.evo", "--run-dir", "run", "--set", "epochs=3", "-q"], 0);
    let after = steps(&dir, 3);
    for node in ["m1", "m2"] {
        let row = after.iter().find(|r| r[0] == node).unwrap_or_else(|| panic!("{after:?}"));
        assert_eq!(row[1], "done", "trained once there is space, not served from a cache: {after:?}");
    }
}
