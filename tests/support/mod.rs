//! A builder for CLI tests: files in a temporary folder, a command line, and what comes out.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root (tests run with the cwd in `engine/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// One invocation of `evoflow` in a fresh temporary folder.
pub struct Test {
    dir: tempfile::TempDir,
    args: Vec<String>,
    cwd: Option<PathBuf>,
}

/// What an invocation printed and returned.
#[derive(Debug)]
pub struct Output {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
    /// The temporary folder, alive as long as the output.
    pub dir: tempfile::TempDir,
}

impl Output {
    /// The text of a file in the temporary folder.
    pub fn read(&self, path: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(path)).unwrap()
    }
}

impl Test {
    pub fn new() -> Self {
        Test { dir: tempfile::tempdir().unwrap(), args: Vec::new(), cwd: None }
    }

    /// Writes a file (relative to the temporary folder).
    pub fn file(self, path: &str, text: &str) -> Self {
        let full = self.dir.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
        self
    }

    /// Appends arguments.
    pub fn args<I: IntoIterator<Item = S>, S: Into<String>>(mut self, args: I) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Runs in the repository root instead of the temporary folder.
    pub fn in_repo(mut self) -> Self {
        self.cwd = Some(repo_root());
        self
    }

    /// Runs the command.
    pub fn run(self) -> Output {
        let cwd = self.cwd.clone().unwrap_or_else(|| self.dir.path().to_path_buf());
        let out = Command::new(env!("CARGO_BIN_EXE_evoflow"))
            .args(&self.args)
            .current_dir(&cwd)
            .env("NO_COLOR", "1")
            .env_remove("RUST_BACKTRACE")
            .output()
            .unwrap();
        Output {
            status: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).unwrap(),
            stderr: String::from_utf8(out.stderr).unwrap(),
            dir: self.dir,
        }
    }

    /// Runs and asserts the exit status.
    pub fn status(self, expected: i32) -> Output {
        let out = self.run();
        assert_eq!(out.status, expected, "exit status\nstdout:\n{}\nstderr:\n{}", out.stdout, out.stderr);
        out
    }
}
