//! Runs left `running` by a dead process become `interrupted`, with their running steps; live
//! ones and other hosts' runs are left alone.

use std::process::Command;

use journal::{pid_alive, Journal, RunStart, RunStatus, StepRecord, StepStatus};

fn begin(j: &mut Journal) -> i64 {
    let run = j
        .begin_run(RunStart {
            workflow: "w".into(),
            file: "w.evo".into(),
            params: serde_json::Value::Null,
            evoflow_version: "v".into(),
        })
        .unwrap();
    j.step_started(run, "running-step", "train", "k", 1).unwrap();
    j.step_started(run, "done-step", "load", "k2", 1).unwrap();
    j.step_finished(&StepRecord {
        run_id: run,
        node_id: "done-step".into(),
        step: None,
        cache_key: None,
        status: StepStatus::Done,
        attempts: 1,
        error: None,
        output_hash: Some("h".into()),
        duration_ms: Some(1),
    })
    .unwrap();
    run
}

fn set(j: &Journal, run: i64, column: &str, value: &dyn duckdb::ToSql) {
    j.connection().execute(&format!("UPDATE runs SET {column} = ? WHERE id = ?"), duckdb::params![value, run]).unwrap();
}

fn dead_pid() -> i64 {
    let mut child = Command::new("true").spawn().unwrap();
    let pid = i64::from(child.id());
    child.wait().unwrap();
    assert!(!pid_alive(pid), "a reaped child must read as dead");
    pid
}

#[test]
fn pid_liveness() {
    assert!(pid_alive(i64::from(std::process::id())));
    assert!(pid_alive(1), "pid 1 exists (EPERM or not, it is alive)");
    for bogus in [0, -1, -12345, i64::MAX, i64::from(i32::MAX) + 1] {
        assert!(!pid_alive(bogus), "{bogus} must read as dead without signalling a group");
    }
}

#[test]
fn dead_runs_become_interrupted_and_live_ones_stay() {
    let mut j = Journal::open_in_memory().unwrap();
    let dead = begin(&mut j);
    set(&j, dead, "pid", &dead_pid());

    let mut sleeper = Command::new("sleep").arg("30").spawn().unwrap();
    let alive = begin(&mut j);
    set(&j, alive, "pid", &i64::from(sleeper.id()));

    let mine = begin(&mut j); // this process: alive

    let elsewhere = begin(&mut j);
    set(&j, elsewhere, "pid", &dead_pid());
    set(&j, elsewhere, "host", &"some-other-host.invalid");

    let finished = begin(&mut j);
    j.finish_run(finished, RunStatus::Succeeded).unwrap();
    set(&j, finished, "pid", &dead_pid());

    assert_eq!(j.mark_interrupted_runs().unwrap(), 1);
    fn status(j: &Journal, id: i64) -> RunStatus {
        j.run(id).unwrap().unwrap().status
    }
    assert_eq!(status(&j, dead), RunStatus::Interrupted);
    assert!(j.run(dead).unwrap().unwrap().finished_at.is_some());
    assert_eq!(status(&j, alive), RunStatus::Running);
    assert_eq!(status(&j, mine), RunStatus::Running);
    assert_eq!(status(&j, elsewhere), RunStatus::Running);
    assert_eq!(status(&j, finished), RunStatus::Succeeded);

    let steps: Vec<(String, StepStatus)> =
        j.steps_of_run(dead).unwrap().into_iter().map(|s| (s.node_id, s.status)).collect();
    assert_eq!(
        steps,
        [("done-step".to_string(), StepStatus::Done), ("running-step".to_string(), StepStatus::Interrupted)]
    );
    let alive_steps = j.steps_of_run(alive).unwrap();
    assert_eq!(alive_steps[1].status, StepStatus::Running);

    // Idempotent: nothing left to mark.
    assert_eq!(j.mark_interrupted_runs().unwrap(), 0);

    // Once the sleeper dies, its run is interrupted on the next check.
    sleeper.kill().unwrap();
    sleeper.wait().unwrap();
    assert_eq!(j.mark_interrupted_runs().unwrap(), 1);
    assert_eq!(status(&j, alive), RunStatus::Interrupted);
}
