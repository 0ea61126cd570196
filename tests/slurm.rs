//! The Slurm executor on a real one-node cluster (`scripts/slurm.sh up` installs and starts it
//! when missing): a workflow runs unchanged with steps as jobs and ends as its local run does;
//! polling asks the scheduler once per interval whatever the jobs in flight; a job cancelled
//! from outside, or whose process dies, is retried; a driver killed mid-run reattaches to its
//! jobs instead of submitting them again.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use support::{events, repo_root, Dir};

/// The cluster, up; and the tests one at a time (they share its slots, and timing).
fn cluster() -> MutexGuard<'static, ()> {
    static UP: OnceLock<()> = OnceLock::new();
    static ONE: Mutex<()> = Mutex::new(());
    UP.get_or_init(|| {
        let out = Command::new(repo_root().join("scripts/slurm.sh")).arg("up").output().unwrap();
        assert!(out.status.success(), "scripts/slurm.sh up failed:\n{}", String::from_utf8_lossy(&out.stderr));
    });
    ONE.lock().unwrap_or_else(|e| e.into_inner())
}

const SLURM: &str = r#"
[executor]
kind = "slurm"
poll_interval = "300ms"
"#;

fn evoflow(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_evoflow"));
    command.current_dir(dir).env("NO_COLOR", "1");
    command
}

/// Runs `evoflow ARGS` to its end: exit status, stdout, stderr.
fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = evoflow(dir).args(args).output().unwrap();
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    (out.status.code().unwrap_or(-1), text(out.stdout), text(out.stderr))
}

/// A query on a run dir's journal, as CSV lines (header dropped).
fn query(dir: &Path, run_dir: &str, sql: &str) -> Vec<String> {
    let (status, stdout, stderr) =
        run(dir, &["journal", "w.evo", "--run-dir", run_dir, "--format", "csv", "--sql", sql]);
    assert_eq!(status, 0, "{stderr}");
    stdout.lines().skip(1).map(str::to_string).collect()
}

/// The scheduler log of a run dir.
fn scheduler_log(dir: &Path, run_dir: &str) -> String {
    std::fs::read_to_string(dir.join(run_dir).join("slurm/scheduler.log")).unwrap_or_default()
}

/// Waits until `ready` holds (checked every 100 ms), or fails after `limit`.
fn wait_until(limit: Duration, what: &str, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(start.elapsed() < limit, "gave up waiting for {what} after {limit:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The job folders of a run dir whose job has been submitted.
fn submitted(dir: &Path, run_dir: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir.join(run_dir).join("slurm")) else { return Vec::new() };
    entries.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.join("job-id").is_file()).collect()
}

/// The state `squeue` gives job `id` (empty when it left the queue).
fn queue_state(id: &str) -> String {
    let out = Command::new("squeue").args(["--noheader", "--format=%T", "--jobs", id]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Waits until the job of the single folder submitted in `run_dir` runs; its id and folder.
fn running_job(dir: &Path, run_dir: &str) -> (String, PathBuf) {
    wait_until(Duration::from_secs(60), "the job to be submitted", || !submitted(dir, run_dir).is_empty());
    let folder = submitted(dir, run_dir).remove(0);
    let id = std::fs::read_to_string(folder.join("job-id")).unwrap();
    wait_until(Duration::from_secs(60), "the job to run", || queue_state(&id) == "RUNNING");
    // The worker is past its start (it has read its request) once its step sleeps.
    std::thread::sleep(Duration::from_millis(1500));
    (id, folder)
}

/// A small evolution: simulated logs, a split, and an offline loop whose candidates are jobs.
const LOOP: &str = r#"
use std::sim::{logs}
use std::data::{random_split}
use std::loops::{offline}
use std::personas::{optimizer}

dataset events = logs(users: 150, items: 40, days: 2, seed: 4)
let split = random_split(events, valid: 0.1, test: 0.1, seed: 4)

model mf {
  input user: id, item: id
  score = dot(embed(user, 8), embed(item, 8))
}

optimizer opt = adam(lr: 0.01)
optimizer quick = adam(lr: 0.05)

let fast = offline(
  baseline: { model: mf, optimizer: opt },
  data: split,
  candidates: [{ optimizer: quick }],
  personas: [optimizer],
  budget: 3,
  epochs: 1,
  device: "cpu",
) with { executor: "slurm" }
"#;

#[test]
fn a_workflow_on_slurm_records_what_its_local_run_records() {
    let _cluster = cluster();
    let dir = Dir::new();
    dir.file("w.evo", LOOP).file("slurm.toml", SLURM);
    let (status, _, stderr) = run(dir.path(), &["run", "w.evo", "-q", "--run-dir", "local"]);
    assert_eq!(status, 0, "{stderr}");
    // The same file, the executor from the command line.
    let args = ["run", "w.evo", "-q", "--run-dir", "cluster", "--executor", "slurm"];
    let (status, _, stderr) = run(dir.path(), &args);
    assert_eq!(status, 0, "{stderr}");

    let jobs = query(dir.path(), "cluster", "SELECT count(*) FROM jobs WHERE state = 'COMPLETED'");
    let candidates = query(dir.path(), "cluster", "SELECT count(*) FROM steps WHERE node_id LIKE 'fast/%'");
    assert_eq!(jobs, candidates, "every candidate of the loop ran as a job");
    let proposed = "SELECT count(*) FROM experiments WHERE persona = 'optimizer' AND status = 'trained'";
    assert_eq!(query(dir.path(), "cluster", proposed), ["3"], "the persona's proposals trained");
    // A round's proposals went to the cluster side by side, not one after another.
    let log = scheduler_log(dir.path(), "cluster");
    assert!(log.contains("3 jobs in flight"), "{log}");
    assert_eq!(query(dir.path(), "local", "SELECT count(*) FROM jobs"), ["0"]);

    let steps = "SELECT node_id, cache_key, status FROM steps ORDER BY node_id";
    assert_eq!(query(dir.path(), "local", steps), query(dir.path(), "cluster", steps));
    // The outputs: the same bytes, but for the files that hold training's wall time.
    let outputs = "SELECT node_id, output_hash FROM steps ORDER BY node_id";
    for (here, there) in query(dir.path(), "local", outputs).iter().zip(query(dir.path(), "cluster", outputs)) {
        let (node, a) = here.split_once(',').unwrap();
        let b = there.split_once(',').unwrap().1;
        let (a, b) = (dir.path().join("local/objects").join(a), dir.path().join("cluster/objects").join(b));
        if node == "fast" {
            continue; // the loop's summary holds its candidates' training times: the experiments below
        }
        if !a.join("weights.safetensors").is_file() {
            assert_eq!(a.file_name(), b.file_name(), "the output of `{node}`");
            continue;
        }
        for file in ["weights.safetensors", "ids.json", "model.evo"] {
            let same = std::fs::read(a.join(file)).unwrap() == std::fs::read(b.join(file)).unwrap();
            assert!(same, "`{file}` of `{node}` differs between the local and the cluster run");
        }
    }
    let experiments = "SELECT key, status, round, offline_score, test_score FROM experiments ORDER BY key";
    assert_eq!(query(dir.path(), "local", experiments), query(dir.path(), "cluster", experiments));

    // `explain` and the cache see no difference either: a local run reuses the cluster's outputs.
    let (status, stdout, stderr) = run(dir.path(), &["run", "w.evo", "--json", "--run-dir", "cluster"]);
    assert_eq!(status, 0, "{stderr}");
    assert!(events(&stdout).iter().all(|e| e["event"] != "step_started"), "all cached: {stdout}");
}

#[test]
fn two_hundred_jobs_in_flight_are_polled_with_one_squeue_a_time() {
    let _cluster = cluster();
    let dir = Dir::new();
    let mut workflow = String::from("use std::debug::{sleep}\n");
    for i in 0..200 {
        workflow += &format!("let s{i} = sleep(duration: 0s, value: {i}) with {{ executor: \"slurm\" }}\n");
    }
    // Held for a few seconds after submission, so that every job is in flight at once.
    let config =
        "[executor]\nkind = \"slurm\"\npoll_interval = \"500ms\"\nmax_jobs = 500\nsbatch_flags = [\"--begin=now+6\"]\n";
    dir.file("w.evo", &workflow).file("evoflow.toml", config);
    // `squeue` on the PATH counts its calls, then runs the real one.
    let real =
        String::from_utf8(Command::new("sh").args(["-c", "command -v squeue"]).output().unwrap().stdout).unwrap();
    let calls = dir.path().join("squeue-calls");
    dir.file("bin/squeue", &format!("#!/bin/sh\necho \"$*\" >> '{}'\nexec {} \"$@\"\n", calls.display(), real.trim()));
    Command::new("chmod").args(["+x", "bin/squeue"]).current_dir(dir.path()).status().unwrap();
    let path = format!("{}:{}", dir.path().join("bin").display(), std::env::var("PATH").unwrap());
    let out = evoflow(dir.path()).args(["run", "w.evo", "-q"]).env("PATH", path).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let log = scheduler_log(dir.path(), ".evoflow/w");
    let polls: Vec<usize> = log
        .lines()
        .filter_map(|l| l.split("1 squeue for ").nth(1))
        .map(|rest| rest.split(' ').next().unwrap().parse().unwrap())
        .collect();
    let squeue_calls = std::fs::read_to_string(&calls).unwrap().lines().count();
    assert_eq!(squeue_calls, polls.len(), "one squeue per poll, and none besides:\n{log}");
    assert!(polls.contains(&200), "a poll saw all 200 jobs in flight: {polls:?}");
    assert!(log.contains("200 sbatch"), "{log}");
    assert_eq!(query(dir.path(), ".evoflow/w", "SELECT count(*) FROM jobs WHERE state = 'COMPLETED'"), ["200"]);
}

/// One step that sleeps long enough to be interfered with, retried once.
const SLOW: &str = r#"
use std::debug::{sleep}
let slow = sleep(duration: 20s, value: 1) with { executor: "slurm", retries: 1 }
"#;

/// The `step_retrying` events of a `--json` run.
fn retries(stdout: &str) -> Vec<serde_json::Value> {
    events(stdout).into_iter().filter(|e| e["event"] == "step_retrying").collect()
}

/// Runs the slow step, does `interfere(job id, job folder)` once its job runs, and returns the
/// run's one retry (a `step::scheduler` error, after which the run succeeded) and the job id.
fn interfered_once(dir: &Dir, interfere: impl FnOnce(&str, &Path)) -> (serde_json::Value, String) {
    dir.file("w.evo", &SLOW.replace("20s", "8s")).file("evoflow.toml", SLURM);
    let driver = evoflow(dir.path()).args(["run", "w.evo", "--json"]).stdout(Stdio::piped()).spawn().unwrap();
    let (id, folder) = running_job(dir.path(), ".evoflow/w");
    interfere(&id, &folder);
    let out = driver.wait_with_output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{stdout}");
    let mut retried = retries(&stdout);
    assert_eq!(retried.len(), 1, "{stdout}");
    assert_eq!(retried[0]["code"], "step::scheduler");
    (retried.remove(0), id)
}

#[test]
fn a_job_cancelled_from_outside_is_reported_and_retried() {
    let _cluster = cluster();
    let dir = Dir::new();
    let (retry, id) = interfered_once(&dir, |id, _| {
        assert!(Command::new("scancel").arg(id).status().unwrap().success());
    });
    let message = retry["error"].as_str().unwrap();
    assert!(message.contains(&format!("job {id} was cancelled outside evoflow")), "{message}");
    let jobs = query(dir.path(), ".evoflow/w", "SELECT attempt, state FROM jobs ORDER BY attempt");
    assert_eq!(jobs, ["1,CANCELLED", "2,COMPLETED"]);
}

#[test]
fn a_job_whose_process_dies_is_retried() {
    let _cluster = cluster();
    let dir = Dir::new();
    let (retry, _) = interfered_once(&dir, |id, folder| {
        // What a node that dies under a job leaves: a process gone without its result.
        let request = folder.join("request.json");
        let killed = Command::new("pkill").args(["-KILL", "-f", &request.display().to_string()]).status().unwrap();
        assert!(killed.success(), "the worker of job {id} was running");
    });
    let message = retry["error"].as_str().unwrap();
    assert!(message.contains("without a result"), "{message}");
}

#[test]
fn a_driver_killed_mid_run_reattaches_to_its_jobs() {
    let _cluster = cluster();
    let dir = Dir::new();
    let workflow = "use std::debug::{sleep}\n".to_string()
        + &(0..3)
            .map(|i| format!("let s{i} = sleep(duration: 6s, value: {i}) with {{ executor: \"slurm\" }}\n"))
            .collect::<String>();
    dir.file("w.evo", &workflow).file("evoflow.toml", SLURM);
    let mut driver = evoflow(dir.path()).args(["run", "w.evo", "-q"]).spawn().unwrap();
    wait_until(Duration::from_secs(60), "three jobs submitted", || submitted(dir.path(), ".evoflow/w").len() == 3);
    driver.kill().unwrap(); // SIGKILL: nothing of the driver runs after it
    driver.wait().unwrap();
    let (status, _, stderr) = run(dir.path(), &["run", "w.evo", "-q"]);
    assert_eq!(status, 0, "{stderr}");
    let log = scheduler_log(dir.path(), ".evoflow/w");
    assert_eq!(log.matches("] submitted `").count(), 3, "no job was submitted twice:\n{log}");
    let picked_up = log.matches("] reattached to job").count() + log.matches("] collected job").count();
    assert_eq!(picked_up, 3, "{log}");
    let done = query(dir.path(), ".evoflow/w", "SELECT count(*) FROM steps WHERE status = 'done' AND run_id = 2");
    assert_eq!(done, ["3"]);
}

#[test]
fn a_workflow_that_asks_for_slurm_runs_here_in_a_run_without_it_and_says_so() {
    let dir = Dir::new();
    dir.file("w.evo", &SLOW.replace("20s", "10ms"));
    let out = dir.status(["run", "w.evo"], 0);
    assert!(out.stderr.contains("note: `slow` asks for the Slurm executor, and this run has none"), "{}", out.stderr);
    assert!(!dir.path().join(".evoflow/w/slurm").exists(), "no job was submitted");
}

/// How the scheduler says job `id` ended.
fn job_state(id: &str) -> String {
    let out = Command::new("scontrol").args(["show", "job", "--oneliner", id]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    text.split_whitespace().find_map(|f| f.strip_prefix("JobState=")).unwrap_or_default().to_string()
}

#[test]
fn ctrl_c_and_a_timeout_cancel_the_jobs_they_abandon() {
    let _cluster = cluster();
    let dir = Dir::new();
    dir.file("w.evo", SLOW).file("evoflow.toml", SLURM);
    let driver = evoflow(dir.path()).args(["run", "w.evo", "-q"]).spawn().unwrap();
    let (id, _) = running_job(dir.path(), ".evoflow/w");
    assert!(Command::new("kill").args(["-INT", &driver.id().to_string()]).status().unwrap().success());
    let out = driver.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "interrupted");
    wait_until(Duration::from_secs(30), "the job to leave the queue", || queue_state(&id).is_empty());
    assert_eq!(job_state(&id), "CANCELLED", "Ctrl-C cancelled job {id}");

    let dir = Dir::new();
    dir.file("w.evo", &SLOW.replace("retries: 1", "timeout: 4s")).file("evoflow.toml", SLURM);
    let (status, stdout, _) = run(dir.path(), &["run", "w.evo", "--json"]);
    assert_eq!(status, 1, "{stdout}");
    assert!(stdout.contains("timed out after 4s"), "{stdout}");
    let folder = submitted(dir.path(), ".evoflow/w").remove(0);
    let id = std::fs::read_to_string(folder.join("job-id")).unwrap();
    wait_until(Duration::from_secs(30), "the job to leave the queue", || queue_state(&id).is_empty());
    assert_eq!(job_state(&id), "CANCELLED", "the timeout cancelled job {id}");
}

#[test]
fn a_step_holding_a_gpu_goes_to_the_cluster_without_being_told() {
    let _cluster = cluster();
    let dir = Dir::new();
    let workflow = "use std::debug::{sleep}\nlet c = sleep(duration: 10ms, value: 2)\n\
                    let g = sleep(duration: 10ms, value: 1, after: [c]) with { resources: { gpu: 1 } }\n";
    dir.file("w.evo", workflow);
    // The one-node cluster has no GPU: the submission itself says where the step went, and how.
    let (status, stdout, _) = run(dir.path(), &["run", "w.evo", "--json", "--executor", "slurm"]);
    assert_eq!(status, 1, "{stdout}");
    let failed = support::finished(&stdout);
    let g = failed.iter().find(|(node, ..)| node == "g").expect("g ran");
    let error = g.2.as_deref().unwrap_or_default();
    assert!(error.starts_with("cannot submit the job: sbatch failed"), "{error}");
    let log = scheduler_log(dir.path(), ".evoflow/w");
    assert!(!log.contains("submitted `c`"), "a step without a GPU stays in the driver:\n{log}");
    assert!(failed.iter().any(|(node, status, _)| node == "c" && status == "done"), "{stdout}");
}

#[test]
fn a_worker_refuses_a_step_whose_cache_key_differs_from_the_drivers() {
    let dir = Dir::new();
    dir.file("w.evo", "use std::debug::{sleep}\nlet s = sleep(duration: 10ms, value: 1)\n");
    let request = serde_json::json!({
        "workflow": "w.evo", "overrides": [], "run_dir": dir.path().join("run"), "run_id": 1,
        "node": "s", "step": "std::debug::sleep",
        "args": { "duration": { "duration": 10 }, "value": { "int": 1 } },
        "blocks": {}, "inputs": {}, "attempt": 1,
        "key": "0123456789abcdef0123456789abcdef",
    });
    dir.file("job/request.json", &request.to_string());
    let (status, _, stderr) = run(dir.path(), &["worker", "job/request.json"]);
    assert_eq!(status, 0, "a refusal is a result, for the driver to read: {stderr}");
    let result: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("job/result.json")).unwrap()).unwrap();
    assert_eq!(result["result"], "failed");
    assert_eq!(result["class"], "permanent");
    let message = result["message"].as_str().unwrap();
    assert!(message.contains("`s` has another cache key on this node"), "{message}");
    assert!(!dir.path().join("job/out").exists(), "the step did not run");
}

#[test]
fn the_slurm_executor_without_slurm_is_refused_before_anything_runs() {
    let dir = Dir::new();
    dir.file("w.evo", SLOW);
    let out =
        evoflow(dir.path()).args(["run", "w.evo", "--executor", "slurm"]).env("PATH", "/nonexistent").output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("the Slurm executor needs `sbatch` on the PATH"), "{stderr}");
    assert!(!dir.path().join(".evoflow/w/journal.duckdb").exists(), "nothing ran");
}
