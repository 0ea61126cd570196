//! Facts about processes and time that the journal records: pid, host, liveness, UTC now.

use std::time::{SystemTime, UNIX_EPOCH};

/// The current process id.
pub fn current_pid() -> i64 {
    i64::from(std::process::id())
}

/// This machine's host name, or `None` when the OS will not say.
pub fn hostname() -> Option<String> {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its whole length; gethostname NUL-terminates on success
    // (we also cap at the buffer end in case a truncated name is not terminated).
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return None;
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    let name = String::from_utf8_lossy(&buf[..end]).into_owned();
    (!name.is_empty()).then_some(name)
}

/// Whether a process with this pid exists on this host.
///
/// Uses `kill(pid, 0)`, which sends nothing and only checks: success or `EPERM` (exists but is
/// someone else's) mean alive, `ESRCH` means gone. Non-positive pids and pids beyond `pid_t` are
/// reported dead without calling `kill`, because `kill(0, ..)` and `kill(-n, ..)` address whole
/// process groups. A recycled pid reads as alive: that errs on the side of leaving a run marked
/// `running`, never of wrongly declaring a live run interrupted.
pub fn pid_alive(pid: i64) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else { return false };
    if pid <= 0 {
        return false;
    }
    // SAFETY: signal 0 performs only the existence and permission check.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Microseconds since the Unix epoch, UTC; what the journal stores in TIMESTAMP columns.
pub fn now_micros() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_micros()).unwrap_or(i64::MAX),
        // A clock before 1970 is misconfigured; record the epoch rather than fail a run.
        Err(_) => 0,
    }
}
