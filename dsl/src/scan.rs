//! A quick pass over the raw text before the grammar runs: it finds comments (for the formatter)
//! and the mistakes a PEG parser reports badly — unterminated strings and unbalanced delimiters —
//! so they point at the opening quote or bracket instead of the end of the file.

use crate::diagnostic::{Diagnostic, ErrorKind};
use crate::span::{FileId, Span};

/// What the scan found.
pub struct Scan {
    pub comments: Vec<Span>,
    pub errors: Vec<Diagnostic>,
}

/// Scans `text` (file `file`).
pub fn scan(file: FileId, text: &str) -> Scan {
    let bytes = text.as_bytes();
    let mut comments = Vec::new();
    let mut errors = Vec::new();
    let mut open: Vec<(u8, usize)> = Vec::new();
    let span = |start: usize, end: usize| Span::new(file, start, end);
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                let end = text[i..].find('\n').map_or(text.len(), |n| i + n);
                comments.push(span(i, end));
                i = end;
            }
            b'"' if text[i..].starts_with("\"\"\"") => match text[i + 3..].find("\"\"\"") {
                Some(n) => i += 3 + n + 3,
                None => {
                    errors.push(
                        Diagnostic::new(ErrorKind::UnterminatedString, span(i, i + 3))
                            .help("close the text with `\"\"\"`"),
                    );
                    return Scan { comments, errors };
                }
            },
            b'"' => {
                let start = i;
                i += 1;
                loop {
                    match bytes.get(i) {
                        Some(b'\\') => i += 2,
                        Some(b'"') => {
                            i += 1;
                            break;
                        }
                        Some(b'\n') | None => {
                            errors.push(Diagnostic::new(ErrorKind::UnterminatedString, span(start, start + 1)).help(
                                "add the closing `\"` on the same line; for text over several lines use `\"\"\"`",
                            ));
                            // The string may have swallowed a closing bracket: stop here rather
                            // than report the bracket as unclosed too.
                            return Scan { comments, errors };
                        }
                        Some(_) => i += 1,
                    }
                }
            }
            c @ (b'(' | b'[' | b'{') => {
                open.push((c, i));
                i += 1;
            }
            c @ (b')' | b']' | b'}') => {
                let want = match c {
                    b')' => b'(',
                    b']' => b'[',
                    _ => b'{',
                };
                match open.last() {
                    Some(&(o, _)) if o == want => {
                        open.pop();
                    }
                    Some(&(o, at)) => {
                        errors.push(
                            Diagnostic::new(ErrorKind::UnclosedDelimiter { open: o as char }, span(at, at + 1))
                                .label(span(i, i + 1), format!("`{}` found here instead", c as char))
                                .help(format!("close it with `{}`", closer(o))),
                        );
                        return Scan { comments, errors };
                    }
                    None => {
                        errors.push(Diagnostic::new(ErrorKind::UnexpectedCloser { close: c as char }, span(i, i + 1)));
                        return Scan { comments, errors };
                    }
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    if let Some(&(o, at)) = open.last() {
        errors.push(
            Diagnostic::new(ErrorKind::UnclosedDelimiter { open: o as char }, span(at, at + 1))
                .help(format!("add the matching `{}`", closer(o))),
        );
    }
    Scan { comments, errors }
}

fn closer(open: u8) -> char {
    match open {
        b'(' => ')',
        b'[' => ']',
        _ => '}',
    }
}
