//! A query result as plain data, and its renderings: an aligned text table (for people and
//! prompts), CSV and JSON.

use duckdb::types::Value;
use serde::Serialize;
use serde_json::Value as Json;

/// A query result: column names, rows of JSON values, and whether limits cut it short.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    /// Column names, in result order.
    pub columns: Vec<String>,
    /// The rows; each has one value per column.
    pub rows: Vec<Vec<Json>>,
    /// True when rows were left out to stay within the query limits.
    pub truncated: bool,
    /// Why rows were left out, when `truncated`.
    pub note: Option<String>,
}

impl Table {
    /// An aligned text table with a header rule, `NULL` for nulls and the truncation note last.
    /// Newlines and tabs inside cells are escaped so every row stays on one line.
    pub fn to_text(&self) -> String {
        let header: Vec<String> = self.columns.iter().map(|c| escape_cell(c)).collect();
        let body: Vec<Vec<String>> =
            self.rows.iter().map(|row| row.iter().map(|v| escape_cell(&cell_text(v))).collect()).collect();
        let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
        for row in &body {
            for (i, cell) in row.iter().enumerate() {
                if let Some(w) = widths.get_mut(i) {
                    *w = (*w).max(cell.chars().count());
                }
            }
        }
        // Numbers align right, like every SQL shell, so magnitudes are easy to compare.
        let numeric: Vec<bool> = (0..self.columns.len())
            .map(|i| {
                let mut seen = false;
                for row in &self.rows {
                    match row.get(i) {
                        Some(Json::Number(_)) => seen = true,
                        Some(Json::Null) | None => {}
                        Some(_) => return false,
                    }
                }
                seen
            })
            .collect();

        let mut out = String::new();
        push_line(&mut out, &header, &widths, &vec![false; widths.len()]);
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        out.push_str(&rule.join("-+-"));
        out.push('\n');
        for row in &body {
            push_line(&mut out, row, &widths, &numeric);
        }
        let n = self.rows.len();
        out.push_str(&format!("({n} row{})\n", if n == 1 { "" } else { "s" }));
        if let Some(note) = &self.note {
            out.push_str(note);
            out.push('\n');
        }
        out
    }

    /// CSV with a header line, quoted as RFC 4180 says, lines ended by `\n` as DuckDB's own
    /// `COPY` and Unix tools write them; nulls are empty fields, nested values are JSON text.
    pub fn to_csv(&self) -> String {
        let mut out = String::new();
        let header: Vec<String> = self.columns.iter().map(|c| csv_field(c)).collect();
        out.push_str(&header.join(","));
        out.push('\n');
        for row in &self.rows {
            let fields: Vec<String> = row
                .iter()
                .map(|v| match v {
                    Json::Null => String::new(),
                    other => csv_field(&cell_text(other)),
                })
                .collect();
            out.push_str(&fields.join(","));
            out.push('\n');
        }
        out
    }

    /// `{"columns": [...], "rows": [[...], ...], "truncated": bool, "note": ...}` as one line.
    pub fn to_json(&self) -> String {
        // Serialising plain strings, numbers and JSON values cannot fail.
        serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }
}

fn push_line(out: &mut String, cells: &[String], widths: &[usize], right: &[bool]) {
    let mut parts = Vec::with_capacity(widths.len());
    for (i, width) in widths.iter().enumerate() {
        let cell = cells.get(i).map(String::as_str).unwrap_or("");
        let pad = width.saturating_sub(cell.chars().count());
        if right.get(i).copied().unwrap_or(false) {
            parts.push(format!("{}{cell}", " ".repeat(pad)));
        } else {
            parts.push(format!("{cell}{}", " ".repeat(pad)));
        }
    }
    out.push_str(parts.join(" | ").trim_end());
    out.push('\n');
}

/// How a value reads in a text cell: strings bare, null as `NULL`, the rest as JSON.
fn cell_text(value: &Json) -> String {
    match value {
        Json::Null => "NULL".to_string(),
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn escape_cell(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n").replace('\r', "\\r").replace('\t', "\\t")
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// Converts a DuckDB value to JSON. Integers beyond 2^53 and 128-bit integers become strings
/// so no consumer silently rounds them; temporal values become their SQL text.
pub(crate) fn value_to_json(value: Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Boolean(b) => Json::Bool(b),
        Value::TinyInt(i) => Json::from(i),
        Value::SmallInt(i) => Json::from(i),
        Value::Int(i) => Json::from(i),
        Value::BigInt(i) => int_json(i128::from(i)),
        Value::HugeInt(i) => int_json(i),
        Value::UTinyInt(i) => Json::from(i),
        Value::USmallInt(i) => Json::from(i),
        Value::UInt(i) => Json::from(i),
        Value::UBigInt(i) => int_json(i128::from(i)),
        Value::UHugeInt(i) => i128::try_from(i).map(int_json).unwrap_or_else(|_| Json::String(i.to_string())),
        Value::Float(f) => float_json(f64::from(f)),
        Value::Double(f) => float_json(f),
        // Decimals keep their exact digits as text; a JSON float would round them.
        Value::Decimal(d) => Json::String(d.to_string()),
        Value::Timestamp(unit, t) => Json::String(format_timestamp(unit.to_micros(t))),
        Value::Text(s) => Json::String(s),
        Value::Blob(b) | Value::Geometry(b) => Json::String(format!("\\x{}", hex(&b))),
        Value::Date32(days) => Json::String(format_date(i64::from(days))),
        Value::Time64(unit, t) => Json::String(format_time(unit.to_micros(t))),
        Value::Interval { months, days, nanos } => {
            Json::String(format!("{months} months {days} days {} us", nanos / 1000))
        }
        Value::List(items) | Value::Array(items) => Json::Array(items.into_iter().map(value_to_json).collect()),
        Value::Enum(s) => Json::String(s),
        Value::Struct(fields) => {
            Json::Object(fields.iter().map(|(k, v)| (k.clone(), value_to_json(v.clone()))).collect())
        }
        // Map keys may be any type; a list of {key, value} pairs keeps them exact.
        Value::Map(entries) => Json::Array(
            entries
                .iter()
                .map(|(k, v)| {
                    let mut pair = serde_json::Map::new();
                    pair.insert("key".into(), value_to_json(k.clone()));
                    pair.insert("value".into(), value_to_json(v.clone()));
                    Json::Object(pair)
                })
                .collect(),
        ),
        Value::Union(inner) => value_to_json(*inner),
        // Variants added by later crate versions: their debug form beats failing the query.
        other => Json::String(format!("{other:?}")),
    }
}

fn int_json(i: i128) -> Json {
    const SAFE: i128 = 1 << 53;
    if (-SAFE..=SAFE).contains(&i) {
        Json::from(i as i64)
    } else {
        Json::String(i.to_string())
    }
}

fn float_json(f: f64) -> Json {
    // NaN and infinities have no JSON number; their SQL spelling is the least surprising text.
    serde_json::Number::from_f64(f).map(Json::Number).unwrap_or_else(|| Json::String(f.to_string()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `YYYY-MM-DD HH:MM:SS[.ffffff]` for microseconds since the epoch, as DuckDB prints TIMESTAMP.
pub(crate) fn format_timestamp(micros: i64) -> String {
    let days = micros.div_euclid(86_400_000_000);
    let rest = micros.rem_euclid(86_400_000_000);
    format!("{} {}", format_date(days), format_time(rest))
}

fn format_time(micros: i64) -> String {
    let secs = micros.div_euclid(1_000_000);
    let frac = micros.rem_euclid(1_000_000);
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if frac == 0 {
        format!("{h:02}:{m:02}:{s:02}")
    } else {
        format!("{h:02}:{m:02}:{s:02}.{frac:06}")
    }
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's civil_from_days).
fn format_date(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_times_render_like_duckdb() {
        assert_eq!(format_timestamp(0), "1970-01-01 00:00:00");
        assert_eq!(format_timestamp(951_782_400_000_000 + 1), "2000-02-29 00:00:00.000001");
        assert_eq!(format_timestamp(-1), "1969-12-31 23:59:59.999999");
    }

    #[test]
    fn text_table_aligns_and_escapes() {
        let t = Table {
            columns: vec!["name".into(), "n".into()],
            rows: vec![vec![Json::from("a\nb"), Json::from(5)], vec![Json::Null, Json::from(12345)]],
            truncated: true,
            note: Some("cut".into()),
        };
        assert_eq!(t.to_text(), "name | n\n-----+------\na\\nb |     5\nNULL | 12345\n(2 rows)\ncut\n");
        assert_eq!(t.to_csv(), "name,n\n\"a\nb\",5\n,12345\n");
    }
}
