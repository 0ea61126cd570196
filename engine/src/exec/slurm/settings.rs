//! `[executor]` in `evoflow.toml`: which executor runs the steps that may leave the driver, and
//! how the Slurm one submits them.

use std::time::Duration;

use serde::Deserialize;

/// The `[executor]` table. Unknown keys are errors, like the rest of the file.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecutorConfig {
    /// `local` (every step in the driver) or `slurm`.
    #[serde(default)]
    pub kind: ExecutorKind,
    /// `--partition`.
    pub partition: Option<String>,
    /// `--account`.
    pub account: Option<String>,
    /// `--qos`.
    pub qos: Option<String>,
    /// `--mem` of every job (e.g. `"8G"`); unset, the cluster's default.
    pub mem: Option<String>,
    /// More `sbatch` flags, as given (e.g. `["--constraint=a100"]`).
    #[serde(default)]
    pub sbatch_flags: Vec<String>,
    /// How often the queue is polled: `"2s"`, `"500ms"`, `"1m"` (default 2s).
    pub poll_interval: Option<String>,
    /// Jobs submitted and not yet finished, at most (default 100).
    pub max_jobs: Option<usize>,
}

/// Which executor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ExecutorKind {
    /// Every step in the driver's process.
    #[default]
    Local,
    /// Steps that ask for it (and those holding a GPU) as Slurm jobs.
    Slurm,
}

impl ExecutorConfig {
    /// Checks what the types cannot.
    pub fn validate(&self) -> Result<(), String> {
        self.poll_interval()?;
        if self.max_jobs == Some(0) {
            return Err("[executor]: `max_jobs` must be at least 1".into());
        }
        Ok(())
    }

    /// The poll interval.
    pub fn poll_interval(&self) -> Result<Duration, String> {
        match &self.poll_interval {
            None => Ok(Duration::from_secs(2)),
            Some(text) => parse_interval(text)
                .ok_or_else(|| format!("[executor]: `poll_interval = \"{text}\"` is not a duration such as \"2s\"")),
        }
    }

    /// The most jobs in flight.
    pub fn max_jobs(&self) -> usize {
        self.max_jobs.unwrap_or(100)
    }

    /// The flags every job gets from the configuration.
    pub fn common_flags(&self) -> Vec<String> {
        let mut flags = Vec::new();
        for (flag, value) in [("--partition", &self.partition), ("--account", &self.account), ("--qos", &self.qos)] {
            if let Some(v) = value {
                flags.push(format!("{flag}={v}"));
            }
        }
        if let Some(mem) = &self.mem {
            flags.push(format!("--mem={mem}"));
        }
        flags.extend(self.sbatch_flags.iter().cloned());
        flags
    }
}

/// `500ms`, `2s`, `1.5s`, `1m`: a positive duration.
fn parse_interval(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let n: f64 = number.trim().parse().ok()?;
    let seconds = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        _ => return None,
    };
    (seconds.is_finite() && seconds > 0.0).then(|| Duration::from_secs_f64(seconds))
}

/// The resources of one job, from the step's resource units and its timeout.
pub fn resource_flags(units: &[(String, f64)], timeout_ms: u64) -> Vec<String> {
    let amount = |name: &str| units.iter().filter(|(u, _)| u == name).map(|(_, a)| *a).sum::<f64>();
    let mut flags = vec![format!("--cpus-per-task={}", (amount("cpu").ceil() as u64).max(1))];
    let gpus = amount("gpu").ceil() as u64;
    if gpus > 0 {
        flags.push(format!("--gres=gpu:{gpus}"));
    }
    if timeout_ms > 0 {
        flags.push(format!("--time={}", slurm_time(timeout_ms)));
    }
    flags
}

/// `--time`'s `days-hours:minutes:seconds`, rounded up to the second.
fn slurm_time(ms: u64) -> String {
    let s = ms.div_ceil(1000);
    format!("{}-{:02}:{:02}:{:02}", s / 86_400, s % 86_400 / 3600, s % 3600 / 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_read_as_a_person_writes_them() {
        assert_eq!(parse_interval("2s"), Some(Duration::from_secs(2)));
        assert_eq!(parse_interval("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_interval("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_interval("1m"), Some(Duration::from_secs(60)));
        assert_eq!(parse_interval("0s"), None);
        assert_eq!(parse_interval("2"), None);
        assert_eq!(parse_interval("2h"), None);
    }

    #[test]
    fn a_step_s_units_and_timeout_become_sbatch_flags() {
        let units = vec![("cpu".to_string(), 1.5), ("gpu".to_string(), 0.25)];
        assert_eq!(
            resource_flags(&units, 90 * 60 * 1000 + 1),
            ["--cpus-per-task=2", "--gres=gpu:1", "--time=0-01:30:01"]
        );
        assert_eq!(resource_flags(&[], 0), ["--cpus-per-task=1"]);
        assert_eq!(slurm_time(3 * 86_400_000), "3-00:00:00");
    }
}
