//! A quick pass over the raw text before the grammar runs: it finds comments (for the formatter)
//! and the mistakes a PEG parser reports badly — unterminated strings and unbalanced delimiters —
//! so they point at the opening quote or bracket instead of the end of the file.

use crate::diagnostic::{Diagnostic, ErrorKind};
use crate::span::{FileId, Span};

/// Deepest bracket nesting accepted. Parsing, checking and formatting recurse on nesting, so a
/// bound here keeps them far from the stack's end and linear in the text's size, whoever wrote
/// the text (an agent's proposal goes through the same front end).
pub const MAX_NESTING: usize = 128;

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
    // `else if`s inside each open bracket (and at the top): a chain nests one level per `if`.
    let mut else_ifs: Vec<usize> = vec![0];
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
            b'e' if is_else_if(text, i) => {
                let count = else_ifs.last_mut().expect("one count per open bracket, and the top");
                *count += 1;
                if *count > crate::parse::MAX_EXPR_DEPTH {
                    errors.push(
                        Diagnostic::new(ErrorKind::ExprTooDeep { limit: crate::parse::MAX_EXPR_DEPTH }, span(i, i + 4))
                            .help(
                                "an `else if` chain nests one level per `if`: look the value up instead, or split it",
                            ),
                    );
                    return Scan { comments, errors };
                }
                i += 4;
            }
            c @ (b'(' | b'[' | b'{') => {
                open.push((c, i));
                else_ifs.push(0);
                if open.len() > MAX_NESTING {
                    errors.push(
                        Diagnostic::new(ErrorKind::TooDeep { limit: MAX_NESTING }, span(i, i + 1)).help(
                            "give an inner part a name (`let`, or a line of its own in a model) and use the name",
                        ),
                    );
                    return Scan { comments, errors };
                }
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
                        else_ifs.pop();
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

/// Whether `else` followed by `if` (as words) starts at byte `i`.
fn is_else_if(text: &str, i: usize) -> bool {
    let word = |c: u8| c == b'_' || c.is_ascii_alphanumeric();
    let bytes = text.as_bytes();
    if !text[i..].starts_with("else") || (i > 0 && word(bytes[i - 1])) {
        return false;
    }
    let rest = text[i + 4..].trim_start();
    rest.len() < text.len() - i - 4 && rest.starts_with("if") && !rest.as_bytes().get(2).is_some_and(|&c| word(c))
}
