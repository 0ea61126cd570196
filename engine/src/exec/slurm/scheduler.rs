//! The Slurm commands the executor runs — `sbatch`, `squeue`, `scontrol`, `scancel` — and what
//! their output means. The commands are found on the `PATH`, as a person at the login node
//! would run them.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::process::Command;

/// Runs the scheduler's commands and counts them (the scheduler log and the benchmark show the
/// counts: polling must not grow with the jobs in flight).
#[derive(Default)]
pub struct Scheduler {
    /// Calls of each command so far.
    pub calls: Calls,
}

/// How many times each command ran.
#[derive(Default)]
pub struct Calls {
    pub sbatch: AtomicU64,
    pub squeue: AtomicU64,
    pub scontrol: AtomicU64,
    pub scancel: AtomicU64,
}

/// How a job that left the queue ended, as `scontrol show job` tells it.
#[derive(Clone, Debug, PartialEq)]
pub struct JobEnd {
    /// `COMPLETED`, `FAILED`, `CANCELLED`, `TIMEOUT`, `NODE_FAIL`, `PREEMPTED`, `OUT_OF_MEMORY`, ...
    pub state: String,
    /// `ExitCode=code:signal`.
    pub exit_code: String,
    pub reason: String,
}

impl Scheduler {
    /// Submits `script` with `flags`; the job's id.
    pub async fn submit(&self, script: &Path, flags: &[String]) -> Result<String, String> {
        self.calls.sbatch.fetch_add(1, Ordering::Relaxed);
        let out = run(Command::new("sbatch").arg("--parsable").args(flags).arg(script), "sbatch").await?;
        // `--parsable` prints `id` or `id;cluster`.
        let id = out.trim().split(';').next().unwrap_or_default().to_string();
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
            return Err(format!("sbatch printed no job id: {out:?}"));
        }
        Ok(id)
    }

    /// The state of every job of this user in the queue, by id: one call, whatever their number.
    pub async fn queue(&self) -> Result<HashMap<String, String>, String> {
        self.calls.squeue.fetch_add(1, Ordering::Relaxed);
        let out = run(Command::new("squeue").args(["--me", "--noheader", "--format=%i %T"]), "squeue").await?;
        Ok(out
            .lines()
            .filter_map(|line| line.split_once(' '))
            .map(|(id, state)| (id.trim().to_string(), state.trim().to_string()))
            .collect())
    }

    /// How a job that left the queue ended; `None` when the controller no longer knows it.
    pub async fn end_of(&self, id: &str) -> Result<Option<JobEnd>, String> {
        self.calls.scontrol.fetch_add(1, Ordering::Relaxed);
        let out = Command::new("scontrol").args(["show", "job", "--oneliner", id]).output().await;
        let out = out.map_err(|e| format!("cannot run scontrol: {e}"))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            if stderr.contains("Invalid job id") {
                return Ok(None);
            }
            return Err(format!("scontrol show job {id} failed: {}", stderr.trim()));
        }
        Ok(parse_job_end(&stdout))
    }

    /// Cancels jobs (best effort: a job that already ended is not an error).
    pub async fn cancel(&self, ids: &[String]) {
        if ids.is_empty() {
            return;
        }
        self.calls.scancel.fetch_add(1, Ordering::Relaxed);
        let _ = Command::new("scancel").args(ids).output().await;
    }

    /// Cancels a job from a destructor, where nothing can be awaited.
    pub fn cancel_now(&self, id: &str) {
        self.calls.scancel.fetch_add(1, Ordering::Relaxed);
        let _ = std::process::Command::new("scancel")
            .arg(id)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
}

async fn run(command: &mut Command, name: &str) -> Result<String, String> {
    let out = command.output().await.map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => format!("`{name}` is not on the PATH: is this a Slurm login node?"),
        _ => format!("cannot run {name}: {e}"),
    })?;
    if !out.status.success() {
        return Err(format!("{name} failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr).trim()));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `JobState`, `ExitCode` and `Reason` of `scontrol show job --oneliner`.
fn parse_job_end(text: &str) -> Option<JobEnd> {
    let field = |name: &str| {
        text.split_whitespace().find_map(|f| f.strip_prefix(name).and_then(|v| v.strip_prefix('='))).map(str::to_string)
    };
    Some(JobEnd {
        state: field("JobState")?,
        exit_code: field("ExitCode").unwrap_or_default(),
        reason: field("Reason").unwrap_or_default(),
    })
}

/// States in which a job is still the scheduler's: waiting, running, or on its way out.
pub fn in_queue(state: &str) -> bool {
    !matches!(
        state,
        "COMPLETED"
            | "FAILED"
            | "CANCELLED"
            | "TIMEOUT"
            | "NODE_FAIL"
            | "PREEMPTED"
            | "OUT_OF_MEMORY"
            | "BOOT_FAIL"
            | "DEADLINE"
            | "SPECIAL_EXIT"
            | "REVOKED"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_end_of_a_job_is_read_from_scontrol() {
        let text =
            "JobId=7 JobName=evo JobState=CANCELLED Reason=None Dependency=(null) ExitCode=0:15 RunTime=00:00:01";
        assert_eq!(
            parse_job_end(text),
            Some(JobEnd { state: "CANCELLED".into(), exit_code: "0:15".into(), reason: "None".into() })
        );
        assert_eq!(parse_job_end("nothing useful"), None);
        assert!(in_queue("PENDING") && in_queue("COMPLETING") && !in_queue("NODE_FAIL"));
    }
}
