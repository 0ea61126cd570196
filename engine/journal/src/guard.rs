//! The first, purely textual gate for read-only queries: the statement must begin with a read
//! keyword. It exists to refuse early with a clear message; DuckDB's own parser and statement
//! type (in `rawdb`) and the read-only, no-external-access database are the gates behind it.

use crate::error::{Error, Result};

/// The statement kinds a read-only query may start with, for messages.
pub const ALLOWED: &str = "SELECT, WITH, FROM, VALUES, TABLE, DESCRIBE, SUMMARIZE, SHOW, and EXPLAIN of those";

/// First keywords of statements that only read. PIVOT is left out: without an explicit value
/// list DuckDB expands it into two statements (a CREATE TYPE first).
const READ_KEYWORDS: &[&str] = &["SELECT", "WITH", "FROM", "VALUES", "TABLE", "DESCRIBE", "DESC", "SUMMARIZE", "SHOW"];

/// Checks the leading keyword of `sql` (after comments, whitespace and opening parentheses).
/// `EXPLAIN [ANALYZE]` is allowed only in front of another allowed statement, because
/// `EXPLAIN ANALYZE` executes what it explains.
pub fn check_leading_keyword(sql: &str) -> Result<()> {
    let rest = skip_trivia(sql, true);
    let (word, after) = leading_word(rest);
    if word.is_empty() {
        if skip_trivia(rest, false).trim_start_matches(';').trim().is_empty() {
            return Err(Error::EmptyQuery);
        }
        let shown: String = rest.chars().take(20).collect();
        return Err(Error::NotReadOnly { kind: format!("a statement starting {shown:?}"), allowed: ALLOWED });
    }
    let upper = word.to_ascii_uppercase();
    if upper == "EXPLAIN" {
        let mut rest = skip_trivia(after, false);
        // EXPLAIN (FORMAT json) ... : skip the option list.
        if rest.starts_with('(') {
            rest = skip_parenthesised(rest);
        }
        let (next, after_next) = leading_word(skip_trivia(rest, false));
        let rest = if next.eq_ignore_ascii_case("ANALYZE") || next.eq_ignore_ascii_case("ANALYSE") {
            after_next
        } else {
            rest
        };
        return check_leading_keyword(rest).map_err(|e| match e {
            Error::EmptyQuery => Error::NotReadOnly { kind: "EXPLAIN without a statement".into(), allowed: ALLOWED },
            other => other,
        });
    }
    if READ_KEYWORDS.contains(&upper.as_str()) {
        Ok(())
    } else {
        Err(Error::NotReadOnly { kind: upper, allowed: ALLOWED })
    }
}

/// Skips whitespace, `-- line` and `/* block */` comments (nested, as DuckDB allows), and, when
/// `parens` is set, opening parentheses (so `(SELECT 1)` is judged by its SELECT).
fn skip_trivia(mut s: &str, parens: bool) -> &str {
    loop {
        let before = s.len();
        s = s.trim_start();
        if let Some(rest) = s.strip_prefix("--") {
            s = rest.find('\n').map_or("", |i| &rest[i + 1..]);
        } else if s.starts_with("/*") {
            s = skip_block_comment(s);
        } else if parens && s.starts_with('(') {
            s = &s[1..];
        }
        if s.len() == before {
            return s;
        }
    }
}

fn skip_block_comment(s: &str) -> &str {
    let bytes = s.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i + 1 < bytes.len() {
        match (bytes[i], bytes[i + 1]) {
            (b'/', b'*') => {
                depth += 1;
                i += 2;
            }
            (b'*', b'/') => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return &s[i..];
                }
            }
            _ => i += 1,
        }
    }
    // An unterminated comment swallows the rest, as in DuckDB (which then reports an error).
    ""
}

/// Skips one balanced parenthesised group at the start of `s` (no strings expected inside the
/// EXPLAIN option lists this is used for; an unbalanced group swallows the rest).
fn skip_parenthesised(s: &str) -> &str {
    let mut depth = 0usize;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return &s[i + 1..];
                }
            }
            _ => {}
        }
    }
    ""
}

fn leading_word(s: &str) -> (&str, &str) {
    let end = s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(s.len());
    (&s[..end], &s[end..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_after_comments_and_parens() {
        assert!(check_leading_keyword("  -- hi\n /* a /* nested */ b */ (select 1)").is_ok());
        assert!(check_leading_keyword("from runs").is_ok());
        assert!(check_leading_keyword("EXPLAIN ANALYZE SELECT 1").is_ok());
        assert!(check_leading_keyword("explain (format json) select 1").is_ok());
        let err = check_leading_keyword("EXPLAIN ANALYZE DELETE FROM runs").unwrap_err();
        assert!(matches!(&err, Error::NotReadOnly { kind, .. } if kind == "DELETE"), "{err}");
        let err = check_leading_keyword("/* x */ pragma version").unwrap_err();
        assert!(matches!(&err, Error::NotReadOnly { kind, .. } if kind == "PRAGMA"), "{err}");
        assert!(matches!(check_leading_keyword(" -- only a comment\n ; "), Err(Error::EmptyQuery)));
        assert!(matches!(check_leading_keyword("'x'"), Err(Error::NotReadOnly { .. })));
    }
}
