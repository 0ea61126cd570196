//! File paths as a workflow writes them: relative to the `.evo` file, or spelt with `~` and
//! `${NAME}` so a default can point into a cache that lives in each user's home.
//!
//! The environment reaches the checker only through [`Loader::var`](super::Loader::var), so the
//! core stays free of I/O and a test can hand it any environment.

use crate::diagnostic::{Diagnostic, ErrorKind};
use crate::span::Span;

use super::Checker;

/// Expands a leading `~` (the home folder, `$HOME`) and every `${NAME}` / `${NAME:-fallback}`
/// (the fallback itself expanded, used when `NAME` is unset or empty). A `$` not followed by `{`
/// is kept as written. Errs with the name of the first unset variable that has no fallback.
pub fn expand(path: &str, var: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let set = |name: &str| var(name).filter(|v| !v.is_empty());
    let mut out = String::new();
    let mut rest = path;
    if rest == "~" || rest.starts_with("~/") {
        out.push_str(&set("HOME").ok_or("HOME")?);
        rest = &rest[1..];
    }
    while let Some(at) = rest.find("${") {
        out.push_str(&rest[..at]);
        let body_start = at + 2;
        let Some(len) = closing_brace(&rest[body_start..]) else {
            // An unclosed `${` is not a variable: keep the text as it is.
            out.push_str(&rest[at..]);
            return Ok(out);
        };
        let body = &rest[body_start..body_start + len];
        let value = match body.split_once(":-") {
            Some((name, fallback)) => match set(name) {
                Some(v) => v,
                None => expand(fallback, var)?,
            },
            None => set(body).ok_or_else(|| body.to_string())?,
        };
        out.push_str(&value);
        rest = &rest[body_start + len + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The length of a `${...}` body up to its matching `}` (fallbacks may nest `${...}`).
fn closing_brace(body: &str) -> Option<usize> {
    let mut depth = 0usize;
    let bytes = body.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'{' if i > 0 && bytes[i - 1] == b'$' => depth += 1,
            b'}' if depth == 0 => return Some(i),
            b'}' => depth -= 1,
            _ => {}
        }
    }
    None
}

impl Checker<'_> {
    /// A data file's path as the engine will open it: expanded, then joined to the folder of the
    /// module that wrote it. An unset variable is reported at `at`; the path is kept as written.
    pub(super) fn data_path(&mut self, module: usize, written: &str, at: Span) -> String {
        let loader = self.loader;
        let expanded = match expand(written, &|name| loader.var(name)) {
            Ok(path) => path,
            Err(name) => {
                let help = if name == "HOME" && written.starts_with('~') {
                    "`~` is the home folder: set `HOME`, or write the path in full".to_string()
                } else {
                    format!("set `{name}`, or give a fallback: `${{{name}:-...}}`")
                };
                self.error(
                    Diagnostic::new(ErrorKind::UnsetVariable { name: name.clone(), path: written.to_string() }, at)
                        .help(help),
                );
                return super::modules::join(&self.modules.get(module).path, written);
            }
        };
        super::modules::join(&self.modules.get(module).path, &expanded)
    }

    /// A data file a step reads ([`Checker::data_path`]) that must exist now: a run would fail
    /// on it after the steps before it, so the checker says so first.
    pub(super) fn data_file(&mut self, module: usize, written: &str, at: Span) -> String {
        let errors = self.diags.len();
        let path = self.data_path(module, written, at);
        if self.diags.len() == errors && !self.loader.exists(&path) {
            let shown = if path == written { String::new() } else { format!("`{written}` is `{path}`; ") };
            self.error(Diagnostic::new(ErrorKind::DataFileNotFound { path: path.clone() }, at).help(format!(
                "{shown}a path is relative to the `.evo` file that writes it; give another with `--set` when a \
                 param names it, or fetch or create the file first"
            )));
        }
        path
    }
}

#[cfg(test)]
mod tests {
    use super::expand;

    fn env(name: &str) -> Option<String> {
        match name {
            "HOME" => Some("/home/ada".into()),
            "DATA" => Some("/srv/data".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn home_and_variables_expand() {
        assert_eq!(expand("~/x.csv", &env).unwrap(), "/home/ada/x.csv");
        assert_eq!(expand("~", &env).unwrap(), "/home/ada");
        assert_eq!(expand("${DATA}/ml/r.csv", &env).unwrap(), "/srv/data/ml/r.csv");
        assert_eq!(expand("a/${DATA}b", &env).unwrap(), "a//srv/datab");
    }

    #[test]
    fn fallbacks_apply_when_unset_or_empty_and_expand_themselves() {
        assert_eq!(expand("${NOPE:-~/.cache/d}/r.csv", &env).unwrap(), "/home/ada/.cache/d/r.csv");
        assert_eq!(expand("${EMPTY:-${DATA}}/r.csv", &env).unwrap(), "/srv/data/r.csv");
        assert_eq!(expand("${DATA:-~/.cache}/r.csv", &env).unwrap(), "/srv/data/r.csv");
    }

    #[test]
    fn other_text_is_kept_as_written() {
        assert_eq!(expand("data/r.csv", &env).unwrap(), "data/r.csv");
        assert_eq!(expand("a~/$DATA/${x", &env).unwrap(), "a~/$DATA/${x");
    }

    #[test]
    fn an_unset_variable_is_named() {
        assert_eq!(expand("${NOPE}/r.csv", &env).unwrap_err(), "NOPE");
        assert_eq!(expand("${EMPTY}/r.csv", &env).unwrap_err(), "EMPTY");
        assert_eq!(expand("~/r.csv", &|_: &str| None).unwrap_err(), "HOME");
    }
}
