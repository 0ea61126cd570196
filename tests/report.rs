//! `evoflow report`: the data the page is drawn from (snapshotted for a fixed journal), and the
//! page itself opened in a real headless Chromium (installed by `scripts/chromium.sh` when
//! missing): no console message, every section, and one mark per experiment, decision and step.
//! Screenshots are kept in `$CARGO_TARGET_TMPDIR/report/`.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use serde_json::Value;
use support::{repo_root, Dir};

/// A journal written row by row with fixed times: two runs (one finished with an evolution and
/// an online study, one still running with only a cached step).
const FIXED: &str = r#"
INSERT INTO runs (id, workflow, file, started_at, finished_at, status, params, evoflow_version) VALUES
  (1, 'w', 'w.evo', TIMESTAMP '2026-12-01 10:00:00', TIMESTAMP '2026-12-01 10:05:00', 'succeeded',
   '{"budget":{"ty":"int","value":{"int":4},"overridden":true}}', '0.1.0'),
  (2, 'w', 'w.evo', TIMESTAMP '2026-12-01 11:00:00', NULL, 'running', NULL, '0.1.0');
INSERT INTO steps (run_id, node_id, step, cache_key, status, attempts, started_at, finished_at, duration_ms, error) VALUES
  (1, 'events', 'std::sim::logs', 'a', 'done', 1, TIMESTAMP '2026-12-01 10:00:00', TIMESTAMP '2026-12-01 10:00:02', 2000, NULL),
  (1, 'fast', 'std::loops::offline', 'b', 'done', 2, TIMESTAMP '2026-12-01 10:00:02', TIMESTAMP '2026-12-01 10:03:00', 178000, NULL),
  (1, 'slow', 'std::loops::online', 'c', 'done', 1, TIMESTAMP '2026-12-01 10:03:00', TIMESTAMP '2026-12-01 10:05:00', 120000, NULL),
  (2, 'events', 'std::sim::logs', 'a', 'cached', 0, TIMESTAMP '2026-12-01 11:00:00', TIMESTAMP '2026-12-01 11:00:00', 0, NULL);
INSERT INTO experiments (id, run_id, parent_id, round, persona, kind, operator, explanation, delta, status, reason,
                         offline_score, test_score, key, cost, created_at, updated_at) VALUES
  (1, 1, NULL, 0, NULL, 'baseline', NULL, 'the workflow''s baseline', NULL, 'trained', NULL, 0.10, 0.11, 'k1',
   '{"train_seconds": 3.0}', TIMESTAMP '2026-12-01 10:00:10', TIMESTAMP '2026-12-01 10:00:10'),
  (2, 1, 1, 1, 'optimizer', 'explore', 'lr_up', 'learning rate ×2',
   '[{"op":"replace","block":"opt","source":"optimizer opt = adam(lr: 0.02)"}]', 'trained', NULL, 0.12, 0.115, 'k2',
   '{"train_seconds": 4.0}', TIMESTAMP '2026-12-01 10:00:30', TIMESTAMP '2026-12-01 10:00:30'),
  (3, 1, 2, 2, 'architecture', 'exploit', 'width', 'wider </script><!-- layers',
   '[{"op":"replace","block":"m","source":"model m { }"}]', 'launched', NULL, 0.13, 0.125, 'k3',
   '{"train_seconds": 5.5}', TIMESTAMP '2026-12-01 10:01:00', TIMESTAMP '2026-12-01 10:04:00'),
  (4, 1, 1, 1, 'reward', 'explore', 'reward_drop', 'drops the survey term', '[]', 'failed', 'diverged at epoch 2',
   NULL, NULL, 'k4', NULL, TIMESTAMP '2026-12-01 10:01:30', TIMESTAMP '2026-12-01 10:01:30'),
  (5, 1, 1, 1, 'optimizer', 'explore', 'clip', 'clips gradients', '[]', 'rejected', 'E0201 shape mismatch',
   NULL, NULL, 'k5', NULL, TIMESTAMP '2026-12-01 10:01:40', TIMESTAMP '2026-12-01 10:01:40');
INSERT INTO llm_calls (run_id, persona, provider, model, prompt, response, input_tokens, output_tokens, cost_usd,
                       latency_ms, status, created_at) VALUES
  (1, 'optimizer', 'openai', 'm', 'p', 'r', 1000, 200, 0.0125, 900, 'ok', TIMESTAMP '2026-12-01 10:00:20');
INSERT INTO decisions (run_id, study, experiment_key, decision, reason, offline_score, primary_metric, delta, ci_low,
                       ci_high, guardrails, days, created_at, mde) VALUES
  (1, 's1', 'k3', 'launched', 'return_rate +1.20% [+0.40%, +2.00%]', 0.13, 'return_rate', 0.012, 0.004, 0.02,
   '[{"guardrail":{"metric":"watch_time","bound":"at_least","limit":-0.01},"delta":{"relative":-0.002,"low":-0.008,"high":0.004},"breached":false}]',
   14, TIMESTAMP '2026-12-01 10:05:00', 0.008),
  (1, 's1', 'k2', 'no_change', 'inside the interval', 0.12, 'return_rate', 0.001, -0.007, 0.009, '[]', 14,
   TIMESTAMP '2026-12-01 10:05:00', 0.008);
"#;

/// A run dir holding a journal made by `sql`.
fn journal_from(sql: &str) -> Dir {
    let dir = Dir::new();
    let journal = journal::Journal::open(&dir.path().join("journal.duckdb")).unwrap();
    journal.connection().execute_batch(sql).unwrap();
    drop(journal);
    dir
}

/// `evoflow report` of the journal in `run_dir` (against the quick start's plan): the page's path
/// and what the command printed.
fn report(run_dir: &Path) -> (PathBuf, String) {
    let page = run_dir.join("report.html");
    let out = Command::new(env!("CARGO_BIN_EXE_evoflow"))
        .args(["report", "workflows/quickstart.evo", "--run-dir"])
        .arg(run_dir)
        .arg("-o")
        .arg(&page)
        .current_dir(repo_root())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "report failed: {stderr}");
    (page, stderr)
}

/// The JSON the page draws from.
fn data(page: &Path) -> Value {
    let html = std::fs::read_to_string(page).unwrap();
    let start = html.find(r#"id="report-data">"#).unwrap() + r#"id="report-data">"#.len();
    let end = start + html[start..].find("</script>").unwrap();
    serde_json::from_str(&html[start..end]).unwrap()
}

#[test]
fn the_data_of_a_fixed_journal() {
    let dir = journal_from(FIXED);
    let (page, _) = report(dir.path());
    insta::assert_json_snapshot!("report_data_fixed_journal", data(&page));
}

#[test]
fn the_page_is_self_contained() {
    let dir = journal_from(FIXED);
    let (page, _) = report(dir.path());
    let html = std::fs::read_to_string(&page).unwrap();
    for remote in ["http://", "https://", "//cdn", "<link "] {
        let outside_libraries = html.split("<script>").next().unwrap();
        assert!(!outside_libraries.contains(remote), "the page head loads `{remote}`");
    }
    assert!(!html.contains("<script src"), "every script is inlined");
    assert!(html.contains("@observablehq/plot v0.6.17") && html.contains("d3js.org v7.9.2"), "the pinned libraries");
    // An explanation cannot end the data's script element.
    assert!(!html.contains("wider </script>"), "the data escapes `</script>`");
}

// ------------------------------------------------------------------ a real browser

/// Chromium's path; `scripts/chromium.sh` installs it when missing.
fn chromium() -> PathBuf {
    let out = Command::new(repo_root().join("scripts/chromium.sh")).output().unwrap();
    assert!(out.status.success(), "scripts/chromium.sh: {}", String::from_utf8_lossy(&out.stderr));
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

/// A page as headless Chromium left it once its scripts ran: the DOM and every console line.
struct Loaded {
    dom: String,
    console: Vec<String>,
    seconds: f64,
}

fn load(page: &Path) -> Loaded {
    let start = Instant::now();
    let out = Command::new(chromium())
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0"])
        .args(["--virtual-time-budget=20000", "--dump-dom"])
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    let seconds = start.elapsed().as_secs_f64();
    assert!(out.status.success(), "chromium: {}", String::from_utf8_lossy(&out.stderr));
    // Every console message, whatever its level, is logged as `INFO:CONSOLE`; the page logs none.
    let console =
        String::from_utf8_lossy(&out.stderr).lines().filter(|l| l.contains(":CONSOLE")).map(str::to_string).collect();
    Loaded { dom: String::from_utf8(out.stdout).unwrap(), console, seconds }
}

/// Saves a full-page screenshot as a test artifact and returns its path.
fn screenshot(page: &Path, name: &str, height: u32) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report");
    std::fs::create_dir_all(&dir).unwrap();
    let png = dir.join(format!("{name}.png"));
    let out = Command::new(chromium())
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--virtual-time-budget=20000"])
        .arg(format!("--window-size=1300,{height}"))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(out.status.success() && png.is_file(), "screenshot: {}", String::from_utf8_lossy(&out.stderr));
    png
}

/// The part of `dom` from `marker` to the end of its element `closing`.
fn part<'a>(dom: &'a str, marker: &str, closing: &str) -> &'a str {
    let start = dom.find(marker).unwrap_or_else(|| panic!("no `{marker}` in the page"));
    let end = dom[start..].find(closing).map_or(dom.len(), |e| start + e);
    &dom[start..end]
}

/// For each of a chart's marks labelled `label` (Plot's `aria-label`: dot, rule, bar, link), in
/// order: how many `element`s it drew.
fn marks(figure: &str, label: &str, element: &str) -> Vec<usize> {
    figure
        .split(&format!(r#"aria-label="{label}""#))
        .skip(1)
        .map(|group| group[..group.find("</g>").unwrap_or(group.len())].matches(&format!("<{element}")).count())
        .collect()
}

/// The block of run `id` in the page.
fn run_block(dom: &str, id: i64) -> &str {
    let marker = format!(r#"data-run="{id}""#);
    let start = dom.find(&marker).unwrap_or_else(|| panic!("no block for run {id}"));
    let end = dom[start + 1..].find(r#"class="run" data-run="#).map_or(dom.len(), |e| start + 1 + e);
    &dom[start..end]
}

/// Everything a run block must show when it has an evolution and decisions.
fn assert_drawn(dom: &str, run: &Value) {
    let block = run_block(dom, run["id"].as_i64().unwrap());
    for section in ["run", "best-score", "operators", "lineage", "online", "timeline", "experiments"] {
        assert!(block.contains(&format!(r#"data-section="{section}""#)), "section {section} missing");
    }
    let experiments = run["evolution"]["experiments"].as_array().unwrap();
    let scored = experiments.iter().filter(|e| e["score"].is_number()).count();
    let best = part(block, r#"data-chart="best-by-experiment""#, "</figure>");
    assert_eq!(marks(best, "dot", "circle")[0], scored, "one point per scored experiment");
    let forest = part(block, r#"data-chart="forest""#, "</figure>");
    let intervals = run["online"]["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d["metrics"].as_array().unwrap())
        .filter(|m| m["low"].is_number() && m["high"].is_number())
        .count();
    assert_eq!(marks(forest, "rule", "line")[1], intervals, "one interval per decision and metric");
    let timeline = part(block, r#"data-chart="timeline""#, "</figure>");
    assert_eq!(marks(timeline, "bar", "rect")[0], run["timeline"].as_array().unwrap().len(), "one bar per step");
    let rows = part(block, r#"data-table="experiments""#, "</table>").matches("<tr").count() - 1;
    assert_eq!(rows, experiments.len(), "one table row per experiment");
}

#[test]
fn the_console_check_sees_a_script_error() {
    // The check below must be able to fail: a page with an uncaught error is caught.
    let dir = Dir::new();
    dir.file("bad.html", "<html><body><script>null.x;</script></body></html>");
    let loaded = load(&dir.path().join("bad.html"));
    assert!(loaded.console.iter().any(|l| l.contains("Uncaught TypeError")), "{:?}", loaded.console);
}

#[test]
fn the_quick_start_report_renders_in_a_browser() {
    let run_dir = Dir::new();
    let out = Command::new(env!("CARGO_BIN_EXE_evoflow"))
        .args(["run", "workflows/quickstart.evo", "-q", "--set", "users=1500", "--set", "budget=3", "--run-dir"])
        .arg(run_dir.path())
        .current_dir(repo_root())
        .output()
        .unwrap();
    assert!(out.status.success(), "quick start: {}", String::from_utf8_lossy(&out.stderr));
    let (page, _) = report(run_dir.path());
    let data = data(&page);
    let loaded = load(&page);
    assert!(loaded.console.is_empty(), "console: {:?}", loaded.console);
    assert!(loaded.dom.contains(r#"data-rendered="ok""#), "the drawing script ran to its end");
    let run = data["runs"].as_array().unwrap().iter().find(|r| r["evolution"].is_object()).unwrap();
    assert_drawn(&loaded.dom, run);
    let png = screenshot(&page, "quickstart", 4200);
    println!("screenshot: {}", png.display());
}

#[test]
fn a_thousand_experiments_render_in_a_browser() {
    let dir = journal_from(&thousand());
    let (page, printed) = report(dir.path());
    let bytes = std::fs::metadata(&page).unwrap().len();
    let loaded = load(&page);
    println!(
        "1,000 experiments: {printed}page {} KB, loaded and drawn by Chromium in {:.2} s",
        bytes / 1024,
        loaded.seconds
    );
    assert!(loaded.console.is_empty(), "console: {:?}", loaded.console);
    assert!(loaded.dom.contains(r#"data-rendered="ok""#));
    let data = data(&page);
    assert_drawn(&loaded.dom, &data["runs"][0]);
    let lineage = part(run_block(&loaded.dom, 1), r#"data-chart="lineage""#, "</figure>");
    let nodes = marks(lineage, "dot", "circle")[0];
    assert!((30..1000).contains(&nodes), "the lineage shows the best 30's ancestry, not all 1,000: {nodes}");
    assert!(bytes < 2 << 20, "the page stays under 2 MB: {bytes}");
    screenshot(&page, "thousand", 6000);
}

#[test]
fn an_unfinished_run_without_an_online_stage_explains_what_is_missing() {
    let sql = FIXED.split("INSERT INTO decisions").next().unwrap().replace("'succeeded'", "'interrupted'");
    let dir = journal_from(&sql);
    let (page, _) = report(dir.path());
    let loaded = load(&page);
    assert!(loaded.console.is_empty(), "console: {:?}", loaded.console);
    assert!(loaded.dom.contains(r#"data-rendered="ok""#));
    let first = run_block(&loaded.dom, 1);
    assert!(
        first.contains(r#"data-missing="online""#) && first.contains("made no online decisions"),
        "online explained"
    );
    assert!(first.contains(r#"data-chart="best-by-experiment""#), "the evolution is still drawn");
    let running = run_block(&loaded.dom, 2);
    for section in ["evolution", "online"] {
        assert!(running.contains(&format!(r#"data-missing="{section}""#)), "run 2 explains its {section}");
    }
}

/// One run of 1,000 experiments (each a child of an earlier one), a step per candidate, and 10
/// decisions.
fn thousand() -> String {
    r#"
INSERT INTO runs (id, workflow, file, started_at, finished_at, status, params, evoflow_version) VALUES
  (1, 'big', 'big.evo', TIMESTAMP '2026-12-01 10:00:00', TIMESTAMP '2026-12-01 12:00:00', 'succeeded', NULL, '0.1.0');
INSERT INTO experiments (id, run_id, parent_id, round, persona, kind, operator, explanation, delta, status,
                         offline_score, test_score, key, cost, created_at, updated_at)
  SELECT i, 1, CASE WHEN i = 1 THEN NULL ELSE 1 + (i * 7919) % (i - 1) END, i // 100,
         CASE WHEN i = 1 THEN NULL ELSE ['optimizer', 'architecture', 'reward'][1 + i % 3] END,
         CASE WHEN i = 1 THEN 'baseline' ELSE ['explore', 'exploit', 'innovate'][1 + i % 3] END,
         CASE WHEN i = 1 THEN NULL ELSE ['lr_up', 'width', 'reward_add', 'clip'][1 + i % 4] END,
         'candidate ' || i, '[]', 'trained', 0.1 + 0.02 * sin(i) + i / 100000.0, 0.1 + 0.02 * cos(i), 'key-' || i,
         '{"train_seconds": 4.5}', TIMESTAMP '2026-12-01 10:00:00' + INTERVAL (i * 7) SECOND,
         TIMESTAMP '2026-12-01 10:00:00' + INTERVAL (i * 7) SECOND
  FROM range(1, 1001) t(i);
INSERT INTO steps (run_id, node_id, step, cache_key, status, attempts, started_at, finished_at, duration_ms)
  SELECT 1, 'fast/candidate-' || i, 'std::loops::candidate', 'k' || i, 'done', 1,
         TIMESTAMP '2026-12-01 10:00:00' + INTERVAL (i * 7) SECOND,
         TIMESTAMP '2026-12-01 10:00:00' + INTERVAL (i * 7 + 5) SECOND, 5000
  FROM range(1, 1001) t(i);
INSERT INTO decisions (run_id, study, experiment_key, decision, reason, offline_score, primary_metric, delta, ci_low,
                       ci_high, guardrails, days, created_at)
  SELECT 1, 's', 'key-' || i, ['launched', 'no_change', 'rejected'][1 + i % 3], 'r', 0.1 + 0.02 * sin(i),
         'return_rate', 0.01 * sin(i), 0.01 * sin(i) - 0.005, 0.01 * sin(i) + 0.005, '[]', 14,
         TIMESTAMP '2026-12-01 12:00:00'
  FROM range(990, 1000) t(i);
"#
    .to_string()
}
