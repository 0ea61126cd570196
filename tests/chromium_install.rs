//! `scripts/chromium.sh` installs Chromium when it is missing. The report's browser tests call it
//! from parallel threads, so on a fresh machine several callers arrive at once: one must install
//! while the others wait, never two apt-gets racing for dpkg's lock (which failed a fresh CI).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

/// `name` on the real PATH.
fn real(name: &str) -> PathBuf {
    std::env::split_paths(&std::env::var_os("PATH").unwrap())
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{name} is not on the PATH"))
}

/// An `apt-get` that works for a while and, like the real one, refuses to run beside another:
/// `install` leaves a `chromium` in `bin` and counts itself in `installs`.
fn fake_apt_get(bin: &Path, lock: &Path, installs: &Path) {
    let script = format!(
        "#!/usr/bin/env bash\n\
         mkdir {lock:?} 2>/dev/null || {{ echo 'E: Could not get lock, held by another apt-get' >&2; exit 100; }}\n\
         sleep 0.5\n\
         if [ \"$1\" = install ]; then\n\
           printf '#!/usr/bin/env bash\\n' > {chromium:?}; chmod +x {chromium:?}; echo install >> {installs:?}\n\
         fi\n\
         rmdir {lock:?}\n",
        chromium = bin.join("chromium"),
    );
    let path = bin.join("apt-get");
    std::fs::write(&path, script).unwrap();
    assert!(Command::new("chmod").arg("+x").arg(&path).status().unwrap().success());
}

#[test]
fn callers_arriving_together_on_a_machine_without_chromium_share_one_install() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    // Only what the script needs, so the machine's own Chromium is not found.
    for tool in ["bash", "id", "mkdir", "rmdir", "flock", "sleep", "chmod", "printf"] {
        std::os::unix::fs::symlink(real(tool), bin.join(tool)).unwrap();
    }
    let installs = dir.path().join("installs");
    fake_apt_get(&bin, &dir.path().join("apt.lock"), &installs);

    let script = support::repo_root().join("scripts/chromium.sh");
    let callers: Vec<_> = (0..3)
        .map(|_| {
            Command::new(&script)
                .env("PATH", &bin)
                .env("EVOFLOW_CACHE", dir.path().join("cache"))
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for caller in callers {
        let out = caller.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), bin.join("chromium").to_str().unwrap());
    }
    assert_eq!(std::fs::read_to_string(&installs).unwrap(), "install\n", "one install for three callers");
}
