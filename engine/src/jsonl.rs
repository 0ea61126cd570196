//! Append-only logs of JSON lines (the cache index, the store's inline objects). A line is
//! appended with one `write`, so a SIGKILL never leaves half of one (the kernel keeps what
//! `write` accepted); power loss can, and a torn last line is cut off when the log is next
//! opened for writing. Why logs at all: a file per record costs an inode, a write and a rename,
//! which on our disks cost more than everything else the engine does for a step.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

/// A log as read from disk.
#[derive(Default)]
pub struct Log {
    bytes: Vec<u8>,
    /// Length of the prefix that ends with a newline: the lines written whole.
    sound: usize,
}

impl Log {
    /// Reads the log at `path`; a missing file is an empty log.
    pub fn read(path: &Path) -> io::Result<Log> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Log::default()),
            Err(e) => return Err(e),
        };
        let sound = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        Ok(Log { bytes, sound })
    }

    /// The whole lines, in order. A line that is not UTF-8 was torn and then appended to; it is
    /// skipped, like one that does not parse, and only costs what it recorded.
    pub fn lines(&self) -> impl Iterator<Item = &str> {
        self.bytes[..self.sound]
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .filter_map(|l| std::str::from_utf8(l).ok())
    }

    /// Whether a torn line follows the whole ones.
    pub fn is_torn(&self) -> bool {
        self.sound < self.bytes.len()
    }

    /// Where the whole lines end: all a writer needs to keep of the read.
    pub fn end(&self) -> End {
        End { sound: self.sound as u64, torn: self.is_torn() }
    }
}

/// Where a log's whole lines end, as a read found it.
#[derive(Clone, Copy, Debug, Default)]
pub struct End {
    sound: u64,
    torn: bool,
}

impl End {
    /// Opens the log at `path` for appending, cutting the torn line the read found, if any.
    pub fn open(self, path: &Path) -> io::Result<File> {
        let file = open_append(path)?;
        if self.torn {
            file.set_len(self.sound)?;
        }
        Ok(file)
    }
}

/// Opens (creating) the log at `path` for appending.
pub fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

/// Appends `line` and a newline to `file` in one `write`.
pub fn append(file: &mut File, line: &str) -> io::Result<()> {
    let mut bytes = Vec::with_capacity(line.len() + 1);
    bytes.extend_from_slice(line.as_bytes());
    bytes.push(b'\n');
    file.write_all(&bytes)
}
