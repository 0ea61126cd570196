// Draws the report from the JSON in #report-data with Observable Plot (inlined above).
// One block per run; the selector shows one at a time. Charts carry data-chart="NAME" so tests
// can count their marks.
"use strict";

const DATA = JSON.parse(document.getElementById("report-data").textContent);
const LINEAGE_BEST = 30; // the lineage tree shows the best N experiments' ancestry, and every winner

const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
};
const fmt = (x, digits = 4) => (x === null || x === undefined ? "—" : Number(x).toFixed(digits));
const pct = (x) => (x === null || x === undefined ? "—" : `${x >= 0 ? "+" : ""}${(100 * x).toFixed(2)}%`);
const secs = (s) => {
  if (s === null || s === undefined) return "—";
  if (s < 120) return `${s.toFixed(1)} s`;
  if (s < 7200) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${(s / 3600).toFixed(1)} h`;
};

function figure(name, plot, caption) {
  const fig = el("figure", { "data-chart": name });
  fig.append(plot);
  if (caption) fig.append(el("figcaption", {}, caption));
  return fig;
}

function missing(run, section) {
  return el("p", { class: "missing", "data-missing": section }, run.missing[section] || "nothing to show");
}

// A table whose columns sort on click: cols are [header, value(row), kind], kind "num" or "text".
function sortable(name, rows, cols) {
  const table = el("table", { "data-table": name });
  const head = el("tr");
  const body = el("tbody");
  const fill = (list) => {
    body.replaceChildren(
      ...list.map((r) => el("tr", {}, ...cols.map(([, f, kind]) => el("td", kind === "num" ? { class: "num" } : {}, f(r) ?? "—"))))
    );
  };
  cols.forEach(([title, f, kind]) => {
    const th = el("th", { scope: "col" }, title);
    th.addEventListener("click", () => {
      const asc = th.getAttribute("aria-sort") !== "ascending";
      head.querySelectorAll("th").forEach((h) => h.removeAttribute("aria-sort"));
      th.setAttribute("aria-sort", asc ? "ascending" : "descending");
      const key = (r) => {
        const v = f(r);
        return kind === "num" ? (v === "—" || v === null || v === undefined ? -Infinity : parseFloat(v)) : String(v ?? "");
      };
      const sorted = [...rows].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0) * (asc ? 1 : -1));
      fill(sorted);
    });
    head.append(th);
  });
  table.append(el("thead", {}, head), body);
  fill(rows);
  return el("div", { class: "scroll" }, table);
}

function overview(run) {
  const section = el("section", { "data-section": "run" }, el("h2", {}, `Run ${run.id}`));
  const steps = Object.entries(run.steps).map(([k, v]) => `${v} ${k}`).join(", ") || "none";
  const total = Object.values(run.steps).reduce((a, b) => a + b, 0);
  const cached = run.steps.cached || 0;
  const cards = [
    ["status", run.status],
    ["duration", run.seconds === null ? "still running or killed" : secs(run.seconds)],
    ["started", run.started_at.replace(/\.\d+$/, "")],
    ["steps", steps],
    ["cache hits", total ? `${cached} of ${total} (${Math.round((100 * cached) / total)}%)` : "—"],
    ["step time (summed)", secs(run.step_seconds)],
    ["candidate training (summed)", secs(run.train_seconds)],
    ["LLM", run.llm.calls ? `${run.llm.calls} calls, ${run.llm.input_tokens + run.llm.output_tokens} tokens, $${run.llm.cost_usd.toFixed(4)}` : "no calls (built-in search agent)"],
    ["evoflow", run.version],
  ];
  section.append(el("div", { class: "cards" }, ...cards.map(([k, v]) => el("div", { class: "card" }, el("b", {}, v), el("span", {}, k)))));
  const params = Object.entries(run.params || {});
  if (params.length) {
    // A param is journaled as {ty, value: {kind: v}, overridden}.
    const value = (p) => (p && typeof p.value === "object" && p.value !== null ? Object.values(p.value)[0] : p);
    section.append(
      el("h3", {}, "Params"),
      sortable("params", params, [
        ["param", (p) => p[0]], ["value", (p) => JSON.stringify(value(p[1]))], ["type", (p) => p[1]?.ty ?? ""],
        ["set by", (p) => (p[1]?.overridden ? "--set or evoflow.toml" : "the workflow")],
      ])
    );
  }
  return section;
}

function bestScore(run) {
  const section = el("section", { "data-section": "best-score" }, el("h2", {}, "Best score over experiments"));
  const evo = run.evolution;
  if (!evo) return section.append(missing(run, "evolution")), section;
  const scored = evo.experiments.filter((e) => e.score !== null);
  const label = (e) => `#${e.id} ${e.persona ?? "baseline"} · ${e.operator ?? e.kind ?? ""}\nscore ${fmt(e.score)} (test ${fmt(e.test)})\n${e.explanation ?? ""}`;
  const baseline = evo.baseline === null ? [] : [Plot.ruleY([evo.baseline], { stroke: "#888", strokeDasharray: "4,3" })];
  const rounds = [...new Set(evo.experiments.map((e) => e.round).filter((r) => r !== null && r > 0))];
  const roundStarts = rounds.map((r) => ({ round: r, id: Math.min(...evo.experiments.filter((e) => e.round === r).map((e) => e.id)) }));
  const byExperiment = Plot.plot({
    width: 1180, height: 340, marginLeft: 60,
    x: { label: "experiment" }, y: { label: "offline score", grid: true },
    color: { legend: true, label: "persona" },
    marks: [
      ...baseline,
      Plot.ruleX(roundStarts, { x: (d) => d.id - 0.5, stroke: "#ddd" }),
      Plot.text(roundStarts, { x: (d) => d.id - 0.5, frameAnchor: "top", text: (d) => `round ${d.round}`, dx: 26, fill: "#999" }),
      Plot.line(scored, { x: "id", y: "best_so_far", curve: "step-after", stroke: "#1d2733" }),
      Plot.dot(scored, { x: "id", y: "score", fill: (e) => e.persona ?? "baseline", r: 3, tip: true, title: label }),
      Plot.dot(scored.filter((e) => e.winner), { x: "id", y: "score", r: 7, stroke: "#c62828", strokeWidth: 2 }),
    ],
  });
  section.append(figure("best-by-experiment", byExperiment, `${scored.length} scored of ${evo.experiments.length} experiments; the line is the best so far, dashed the baseline; winners are ringed in red.`));
  const byTime = Plot.plot({
    width: 1180, height: 260, marginLeft: 60,
    x: { label: "seconds since the run started" }, y: { label: "offline score", grid: true },
    color: { legend: false },
    marks: [
      ...baseline,
      Plot.line(scored, { x: "at", y: "best_so_far", curve: "step-after", stroke: "#1d2733" }),
      Plot.dot(scored, { x: "at", y: "score", fill: (e) => e.persona ?? "baseline", r: 3, tip: true, title: label }),
    ],
  });
  section.append(figure("best-by-time", byTime, "The same experiments by when they were recorded."));
  return section;
}

function operators(run) {
  const section = el("section", { "data-section": "operators" }, el("h2", {}, "Operators and personas"));
  const evo = run.evolution;
  if (!evo) return section.append(missing(run, "evolution")), section;
  const rows = evo.operators.map((o) => ({ ...o, label: `${o.persona} · ${o.operator}` }));
  const bars = Plot.plot({
    width: 1180, height: Math.max(120, 22 * rows.length + 50), marginLeft: 260,
    x: { label: "candidates", grid: true }, y: { label: null },
    marks: [
      Plot.barX(rows, { y: "label", x1: 0, x2: "proposed", fill: "#d9dee5" }),
      Plot.barX(rows, { y: "label", x1: 0, x2: "trained", fill: "#8fb3ef" }),
      Plot.barX(rows, { y: "label", x1: 0, x2: "improved", fill: "#1a7f37", tip: true, title: (o) => `${o.label}\nproposed ${o.proposed}, verified ${o.verified}, trained ${o.trained}, improved ${o.improved}\nmean gain ${fmt(o.mean_gain)}` }),
    ],
  });
  section.append(figure("operators", bars, "Grey: proposed; blue: trained; green: scored above the baseline. These are the search agent's bandit arms: it favours the operators whose candidates improve."));
  const cols = [
    ["persona", (o) => o.persona], ["operator", (o) => o.operator || "(all)"], ["proposed", (o) => o.proposed, "num"],
    ["verified", (o) => o.verified, "num"], ["trained", (o) => o.trained, "num"], ["improved", (o) => o.improved, "num"],
    ["mean gain", (o) => fmt(o.mean_gain), "num"],
  ];
  section.append(el("h3", {}, "By persona"), sortable("personas", evo.personas, cols));
  section.append(el("h3", {}, "By persona and operator"), sortable("operators", evo.operators, cols));
  return section;
}

function lineage(run) {
  const section = el("section", { "data-section": "lineage" }, el("h2", {}, "Lineage"));
  const evo = run.evolution;
  if (!evo) return section.append(missing(run, "evolution")), section;
  const byId = new Map(evo.experiments.map((e) => [e.id, e]));
  const keep = new Set();
  const best = evo.experiments.filter((e) => e.score !== null).sort((a, b) => b.score - a.score).slice(0, LINEAGE_BEST);
  for (const e of [...best, ...evo.experiments.filter((x) => x.winner)]) {
    for (let x = e; x && !keep.has(x.id); x = byId.get(x.parent)) keep.add(x.id);
  }
  const shown = evo.experiments.filter((e) => keep.has(e.id));
  const root = { id: "root" };
  const nodes = d3
    .stratify()
    .id((d) => String(d.id))
    .parentId((d) => (d.id === "root" ? null : keep.has(d.parent) ? String(d.parent) : "root"))([root, ...shown]);
  d3.tree().nodeSize([18, 150])(nodes);
  const points = nodes.descendants().filter((n) => n.data.id !== "root");
  const links = nodes.links().filter((l) => l.source.data.id !== "root");
  const detail = el("div", { class: "detail", "data-detail": "lineage" }, "Point at a node (click to keep it) for its explanation and delta.");
  const explain = (e) => `#${e.id}  ${e.persona ?? "baseline"} · ${e.operator ?? e.kind}  (${e.status})\nscore ${fmt(e.score)}, test ${fmt(e.test)}${e.winner ? ", WINNER" : ""}\n${e.explanation ?? ""}\n${e.delta.join("\n")}${e.reason ? `\nreason: ${e.reason}` : ""}`;
  const plot = Plot.plot({
    width: 1180, height: Math.max(160, 18 * points.length + 60), marginLeft: 30, marginRight: 200, inset: 14,
    x: { axis: null }, y: { axis: null },
    color: { type: "linear", scheme: "viridis", legend: true, label: "offline score" },
    marks: [
      Plot.link(links, { x1: (l) => l.source.y, y1: (l) => l.source.x, x2: (l) => l.target.y, y2: (l) => l.target.x, stroke: "#bbb" }),
      Plot.dot(points.filter((n) => n.data.score !== null), { x: (n) => n.y, y: (n) => n.x, fill: (n) => n.data.score, r: 4, stroke: "#333", tip: true, title: (n) => explain(n.data) }),
      Plot.dot(points.filter((n) => n.data.score === null), { x: (n) => n.y, y: (n) => n.x, fill: "#ddd", r: 4, stroke: "#999", tip: true, title: (n) => explain(n.data) }),
      Plot.dot(points.filter((n) => n.data.winner), { x: (n) => n.y, y: (n) => n.x, r: 8, stroke: "#c62828", strokeWidth: 2 }),
      Plot.text(points, { x: (n) => n.y, y: (n) => n.x, text: (n) => `#${n.data.id} ${n.data.operator ?? n.data.kind ?? ""}`, dx: 8, textAnchor: "start", fill: "#444" }),
    ],
  });
  // Plot's pointer: the node under the pointer (kept on click) is the plot's value.
  plot.addEventListener("input", () => {
    if (plot.value) detail.textContent = explain(plot.value.data);
  });
  const note = shown.length < evo.experiments.length ? `The ancestry of the best ${LINEAGE_BEST} and of every winner: ${shown.length} of ${evo.experiments.length} experiments.` : `All ${shown.length} experiments.`;
  section.append(figure("lineage", plot, `${note} Parent → child left to right, coloured by score; winners ringed in red.`), detail);
  return section;
}

function online(run) {
  const section = el("section", { "data-section": "online" }, el("h2", {}, "Online decisions"));
  const on = run.online;
  if (!on) return section.append(missing(run, "online")), section;
  const rows = on.decisions.flatMap((d) =>
    d.metrics.map((m) => ({ ...m, decision: d.decision, label: `#${d.experiment ?? "?"} ${m.metric}${m.guardrail ? " (guardrail)" : ""}`, d }))
  );
  const forest = Plot.plot({
    width: 1180, height: Math.max(120, 26 * rows.length + 60), marginLeft: 260, marginRight: 160,
    x: { label: "relative change vs control, 95% interval", tickFormat: "+.1%", grid: true }, y: { label: null, domain: rows.map((r) => r.label) },
    color: { legend: true, label: "decision", domain: ["launched", "superseded", "no_change", "underpowered", "rejected", "blocked"], range: ["#1a7f37", "#6aa84f", "#888", "#e0a030", "#c62828", "#8e24aa"] },
    marks: [
      Plot.ruleX([0], { stroke: "#333" }),
      Plot.ruleY(rows.filter((r) => r.low !== null && r.high !== null), { y: "label", x1: "low", x2: "high", stroke: "decision", strokeWidth: 2, strokeDasharray: (r) => (r.guardrail ? "3,2" : null) }),
      Plot.dot(rows.filter((r) => r.delta !== null), { y: "label", x: "delta", fill: "decision", symbol: (r) => (r.breached ? "times" : "circle"), r: 4, tip: true, title: (r) => `${r.label}: ${pct(r.delta)} [${pct(r.low)}, ${pct(r.high)}]\n${r.decision}${r.d.reason ? ": " + r.d.reason : ""}` }),
      Plot.text(rows.filter((r) => !r.guardrail), { y: "label", frameAnchor: "right", text: "decision", dx: 150, textAnchor: "end", fill: "decision" }),
    ],
  });
  section.append(figure("forest", forest, "Each candidate's primary metric and guardrails; a cross marks a breached guardrail."));
  const pairs = on.decisions
    .filter((d) => d.offline_score !== null && d.metrics[0].delta !== null)
    .map((d) => ({ ...d.metrics[0], offline: d.offline_score, decision: d.decision, id: d.experiment }));
  const scatter = Plot.plot({
    width: 1180, height: 320, marginLeft: 70,
    x: { label: "offline score", grid: true }, y: { label: "online change (primary metric)", tickFormat: "+.1%", grid: true },
    marks: [
      Plot.ruleY([0], { stroke: "#333" }),
      Plot.ruleX(pairs.filter((p) => p.low !== null), { x: "offline", y1: "low", y2: "high", stroke: "#8fb3ef", strokeWidth: 2 }),
      Plot.dot(pairs, { x: "offline", y: "delta", fill: "#2f6fde", r: 4, tip: true, title: (p) => `#${p.id}: offline ${fmt(p.offline)}, online ${pct(p.delta)} [${pct(p.low)}, ${pct(p.high)}], ${p.decision}` }),
    ],
  });
  section.append(figure("offline-online", scatter, `Offline score against online change. Rank agreement (Spearman, bootstrap 95%): ${on.agreement_text}.`));
  return section;
}

function timeline(run) {
  const section = el("section", { "data-section": "timeline" }, el("h2", {}, "Timeline"));
  if (!run.timeline.length) return section.append(missing(run, "timeline")), section;
  const spans = run.timeline.map((s) => ({ ...s, shown_end: Math.max(s.end, s.start + Math.max(0.02, (run.seconds || 1) / 400)) }));
  const res = (s) => Object.entries(s.resources).map(([k, v]) => `${k} ${v}`).join(", ") || "—";
  const plot = Plot.plot({
    width: 1180, height: Math.max(120, Math.min(14 * spans.length, 4000) + 60), marginLeft: 260,
    x: { label: "seconds since the run started", grid: true },
    y: { label: null, domain: spans.map((s) => s.node), axis: spans.length > 80 ? null : "left" },
    color: { legend: true, label: "status", domain: ["done", "cached", "failed", "interrupted", "skipped", "running"], range: ["#2f6fde", "#9bbf85", "#c62828", "#e0a030", "#bbb", "#8e24aa"] },
    marks: [
      Plot.barX(spans, { y: "node", x1: "start", x2: "shown_end", fill: "status", tip: true, title: (s) => `${s.node} (${s.step})\n${s.status}, ${s.duration_ms === null ? "—" : secs(s.duration_ms / 1000)}, ${s.attempts} attempt(s)\nresources: ${res(s)}${s.error ? "\n" + s.error : ""}` }),
    ],
  });
  section.append(figure("timeline", plot, `${spans.length} steps, in the order they started.`));
  return section;
}

function experimentsTable(run) {
  const section = el("section", { "data-section": "experiments" }, el("h2", {}, "Experiments"));
  const evo = run.evolution;
  if (!evo) return section.append(missing(run, "evolution")), section;
  section.append(
    sortable("experiments", evo.experiments, [
      ["#", (e) => e.id, "num"], ["round", (e) => e.round, "num"], ["persona", (e) => e.persona ?? "baseline"],
      ["kind", (e) => e.kind], ["operator", (e) => e.operator], ["status", (e) => e.status],
      ["score", (e) => fmt(e.score), "num"], ["test", (e) => fmt(e.test), "num"],
      ["train s", (e) => fmt(e.train_seconds, 1), "num"], ["explanation", (e) => e.explanation ?? e.reason],
    ])
  );
  return section;
}

function render() {
  const main = document.getElementById("report");
  const select = document.getElementById("run-select");
  if (!DATA.runs.length) {
    main.append(el("p", { class: "missing", "data-missing": "runs" }, "The journal holds no run yet: run the workflow first."));
    return;
  }
  for (const run of DATA.runs) {
    const block = el("div", { class: "run", "data-run": run.id });
    for (const part of [overview, bestScore, operators, lineage, online, timeline, experimentsTable]) block.append(part(run));
    main.append(block);
    select.append(el("option", { value: run.id }, `#${run.id} · ${run.status} · ${run.started_at.replace(/\.\d+$/, "")}`));
  }
  // Show the newest run that evolved something; a cached re-run has nothing of its own to draw.
  const first = DATA.runs.find((r) => r.evolution || r.online) || DATA.runs[0];
  const show = (id) => main.querySelectorAll(".run").forEach((b) => (b.hidden = b.dataset.run !== String(id)));
  select.value = String(first.id);
  select.addEventListener("change", () => show(select.value));
  show(first.id);
}

render();
document.body.dataset.rendered = "ok";
