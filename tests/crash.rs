//! Crash safety: SIGKILL a run at several moments, run again, and the journal ends up as an
//! uninterrupted run's — nothing lost, nothing twice.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use support::Dir;

const WORKFLOW: &str = r#"use std::debug::{sleep}
let a = sleep(150ms, value: 1)
let b1 = sleep(150ms, value: 2, after: [a])
let b2 = sleep(150ms, value: 3, after: [a])
let b3 = sleep(150ms, value: 4, after: [a])
let c = sleep(150ms, value: 5, after: [b1, b2, b3])
let d = sleep(150ms, value: 6, after: [c])
"#;

fn sql(dir: &Dir, query: &str) -> String {
    dir.status(["journal", "w.evo", "--format", "csv", "--sql", query], 0).stdout.replace("\r\n", "\n")
}

/// What a finished workflow's journal must hold, whatever happened on the way.
fn final_state(dir: &Dir) -> (String, String) {
    let outputs = sql(
        dir,
        "SELECT node_id, output_hash FROM steps WHERE status IN ('done', 'cached') \
         AND run_id = (SELECT max(id) FROM runs) ORDER BY node_id",
    );
    let artifacts = sql(dir, "SELECT hash, node_id FROM artifacts ORDER BY hash");
    (outputs, artifacts)
}

fn spawn(dir: &Dir) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_evoflow"))
        .args(["run", "w.evo", "-q", "--jobs", "4"])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
fn killed_runs_resume_to_the_same_journal() {
    let clean = Dir::new();
    clean.file("w.evo", WORKFLOW);
    clean.status(["run", "w.evo", "-q"], 0);
    let expected = final_state(&clean);
    assert_eq!(expected.0.lines().count(), 7, "header and six steps: {}", expected.0);

    for kill_after_ms in [30, 120, 260, 420, 700] {
        let dir = Dir::new();
        dir.file("w.evo", WORKFLOW);
        // Kill twice, at the same moment of two successive runs, then let one finish.
        for _ in 0..2 {
            let mut child = spawn(&dir);
            std::thread::sleep(Duration::from_millis(kill_after_ms));
            child.kill().unwrap();
            child.wait().unwrap();
        }
        dir.status(["run", "w.evo", "-q"], 0);
        assert_eq!(final_state(&dir), expected, "killed after {kill_after_ms} ms");
        let duplicates = sql(&dir, "SELECT hash FROM artifacts GROUP BY hash HAVING count(*) > 1");
        assert_eq!(duplicates.trim(), "hash", "no artifact twice");
        let stale = sql(&dir, "SELECT count(*) AS n FROM runs WHERE status = 'running'");
        assert_eq!(stale.trim(), "n\n0", "killed runs are marked interrupted");
    }
}

#[test]
fn ctrl_c_and_sigterm_stop_the_run_and_leave_the_journal_consistent() {
    // SIGTERM is what `timeout`, systemd, Kubernetes and Slurm send: it stops a run as Ctrl-C does.
    for (signal, code) in [("INT", 130), ("TERM", 143)] {
        stops_the_run(signal, code);
    }
}

fn stops_the_run(signal: &str, code: i32) {
    let dir = Dir::new();
    dir.file("w.evo", WORKFLOW);
    // Interrupt once a step is running (not after a fixed delay: a loaded machine may not have
    // reached `main` yet, and a signal before the handler is installed is not this test's case).
    let mut child = Command::new(env!("CARGO_BIN_EXE_evoflow"))
        .args(["run", "w.evo", "--json", "--jobs", "4"])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert!(lines.any(|l| l.unwrap().contains("\"step_started\"")), "no step started");
    std::thread::spawn(move || lines.for_each(drop));
    let status = Command::new("kill").args([&format!("-{signal}"), &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert_eq!(exit.code(), Some(code), "runs stopped by SIG{signal} exit with {code}");
    let runs = sql(&dir, "SELECT status FROM runs");
    assert_eq!(runs.trim(), "status\ninterrupted");
    let steps = sql(&dir, "SELECT count(*) AS n FROM steps WHERE status = 'running'");
    assert_eq!(steps.trim(), "n\n0", "no step is left running");
    let interrupted = sql(&dir, "SELECT count(*) AS n FROM steps WHERE status = 'interrupted'");
    assert_ne!(interrupted.trim(), "n\n0", "the steps that were running are marked interrupted");
    dir.status(["run", "w.evo", "-q"], 0);
    assert_eq!(final_state(&dir).0.lines().count(), 7);
}

/// Simulated events, a split and a small model: what the loop workflows below start from.
const DATA: &str = r#"use std::sim::{logs, satisfaction}
use std::data::{random_split}
use std::personas::{optimizer, architecture}
use std::loops::{offline, top, online}

dataset events = logs(users: 300, items: 80, days: 3, seed: 5)
let split = random_split(events, valid: 0.1, test: 0.1, seed: 5)

model mf {
  input user: id, item: id
  score = dot(embed(user, 16), embed(item, 16))
}
"#;

const ONLINE: &str = r#"
model wider {
  input user: id, item: id
  score = dot(embed(user, 32), embed(item, 32))
}

let fast = offline(
  baseline: { model: mf, optimizer: adam(lr: 0.01) },
  data: split,
  candidates: [{ model: wider, optimizer: adam(lr: 0.01) }],
  epochs: 2,
  seed: 5,
)

let slow = online(
  candidates: top(fast, k: 1),
  env: satisfaction(users: 2000, items: 80, seed: 5, days: 40),
  primary: return_rate,
  traffic: 20%,
)
"#;

/// The simulated days an online study ran, in order, from `run --json` progress events.
fn simulated_days(stdout: &str) -> Vec<u64> {
    support::events(stdout)
        .iter()
        .filter(|e| e["event"] == "step_progress" && e["node"] == "slow")
        .filter_map(|e| e["message"].as_str()?.strip_prefix("simulated day ")?.split(' ').next()?.parse().ok())
        .collect()
}

#[test]
fn a_killed_online_study_resumes_at_the_next_simulated_day() {
    let reference = Dir::new();
    reference.file("w.evo", &format!("{DATA}{ONLINE}"));
    let out = reference.status(["run", "w.evo", "--json"], 0);
    // A 40-day pre-period on the control (as long as the study, unless said), then the study.
    assert_eq!(simulated_days(&out.stdout), (1..=80).collect::<Vec<_>>());
    let decisions =
        |dir: &Dir| sql(dir, "SELECT experiment_key, decision, round(delta, 9), round(ci_low, 9) FROM decisions");

    let dir = Dir::new();
    dir.file("w.evo", &format!("{DATA}{ONLINE}"));
    let (mut child, lines) = dir.spawn_json("w.evo");
    let mut seen = String::new();
    for line in lines {
        let line = line.unwrap();
        seen.push_str(&line);
        seen.push('\n');
        if simulated_days(&line).first().is_some_and(|&d| d >= 50) {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let killed_at = *simulated_days(&seen).last().expect("the study had started");
    let out = dir.status(["run", "w.evo", "--json"], 0);
    let resumed = simulated_days(&out.stdout);
    assert_eq!(resumed.first().copied(), Some(killed_at + 1), "the resumed study starts after the last saved day");
    assert_eq!(resumed.last().copied(), Some(80));
    assert_eq!(decisions(&dir), decisions(&reference), "the resumed study decides as the uninterrupted one");
}

const LOOPS: &str = r#"
optimizer opt = adam(lr: 0.01)

let fast = offline(
  baseline: { model: mf, optimizer: opt },
  data: split,
  personas: [optimizer, architecture],
  quota: { explore: 2, exploit: 1, innovate: 0 },
  budget: 8,
  rounds: 2,
  epochs: 2,
  seed: 5,
)

let slow = online(
  candidates: top(fast, k: 2),
  env: satisfaction(users: 1000, items: 80, seed: 5, days: 12),
  primary: return_rate,
  traffic: 20%,
  pre_days: 4,
)
"#;

/// What the loops leave in the journal: every experiment with its score, every decision.
fn loop_results(dir: &Dir) -> (String, String) {
    let experiments = sql(dir, "SELECT key, status, round(offline_score, 9) FROM experiments ORDER BY key");
    let decisions =
        sql(dir, "SELECT experiment_key, decision, round(delta, 9), round(ci_low, 9) FROM decisions ORDER BY 1");
    (experiments, decisions)
}

/// Whether a `run --json` line marks a moment to kill at: a step finished, or a simulated day.
fn kill_point(line: &str) -> bool {
    line.contains("\"step_finished\"") || line.contains("simulated day")
}

#[test]
fn loops_killed_anywhere_resume_to_the_uninterrupted_runs_experiments_and_decisions() {
    let reference = Dir::new();
    reference.file("w.evo", &format!("{DATA}{LOOPS}"));
    let out = reference.status(["run", "w.evo", "--json"], 0);
    let expected = loop_results(&reference);
    assert!(expected.0.lines().count() >= 5, "a header, the baseline and candidates: {}", expected.0);
    // Every step's end and every simulated day: inside offline (between its candidates),
    // top and every phase of online.
    let points = out.stdout.lines().filter(|l| kill_point(l)).count();
    assert!(points >= 20, "only {points} moments to kill at");
    for k in 1..points {
        let dir = Dir::new();
        dir.file("w.evo", &format!("{DATA}{LOOPS}"));
        let (mut child, lines) = dir.spawn_json("w.evo");
        let mut seen = 0;
        for line in lines {
            seen += usize::from(kill_point(&line.unwrap()));
            if seen == k {
                break;
            }
        }
        // Right at the moment, or once what follows it (a journaled experiment, the next
        // proposal) has had time to happen.
        if k % 2 == 1 {
            std::thread::sleep(Duration::from_millis(120));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        dir.status(["run", "w.evo", "-q"], 0);
        assert_eq!(loop_results(&dir), expected, "killed after moment {k} of {points}");
    }
}
