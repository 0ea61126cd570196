//! The page: a minijinja template with the styles, the pinned chart libraries (`vendor/`), the
//! drawing script and the report's data inlined, so the file opens from disk with no network.

use minijinja::{context, Environment, Value};

use super::ReportData;

const TEMPLATE: &str = include_str!("report.html.j2");
const CSS: &str = include_str!("report.css");
const JS: &str = include_str!("report.js");
const D3: &str = include_str!("vendor/d3.min.js");
const PLOT: &str = include_str!("vendor/plot.umd.min.js");

/// The report page for `data`, read from the journal shown as `journal`.
pub fn render(data: &ReportData, journal: &str) -> Result<String, String> {
    let mut env = Environment::new();
    env.add_template("report.html", TEMPLATE).map_err(|e| e.to_string())?;
    let json = serde_json::to_string(data).map_err(|e| e.to_string())?;
    let safe = |text: &str| Value::from_safe_string(text.to_string());
    env.get_template("report.html")
        .and_then(|t| {
            t.render(context! {
                version => env!("CARGO_PKG_VERSION"),
                workflow => data.workflow,
                journal => journal,
                snapshot => data.snapshot_age_seconds.is_some(),
                data => safe(&script_safe(&json)),
                css => safe(CSS),
                js => safe(JS),
                d3 => safe(D3),
                plot => safe(PLOT),
            })
        })
        .map_err(|e| e.to_string())
}

/// JSON that cannot end the `<script>` element it sits in: `</script>` or `<!--` inside a
/// string (an explanation an LLM wrote) would otherwise cut the page. `<` only occurs inside
/// JSON strings, where `\u003c` means the same.
fn script_safe(json: &str) -> String {
    json.replace('<', "\\u003c")
}

#[cfg(test)]
mod tests {
    use super::script_safe;

    #[test]
    fn a_string_cannot_close_the_script_element() {
        let json = serde_json::json!({ "explanation": "</script><script>alert(1)</script> <!-- x" }).to_string();
        let safe = script_safe(&json);
        assert!(!safe.contains("</") && !safe.contains("<!--"), "{safe}");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&safe).unwrap(),
            serde_json::from_str::<serde_json::Value>(&json).unwrap()
        );
    }
}
