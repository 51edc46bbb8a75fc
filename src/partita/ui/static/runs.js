// partita ui, the runs, run and freshness pages. Loaded before app.js (which renders the page); every value
// from the server goes in as text, never parsed as HTML.
"use strict";

// --- runs ------------------------------------------------------------------------------

const countsText = (c) => Object.entries(c || {}).filter(([, v]) => v).map(([k, v]) => `${v} ${k}`).join(", ");

async function runsPage() {
  const data = await api("/api/runs?limit=100");
  renderRuns(data);
  live("/api/events/runs?limit=100", renderRuns,
    () => poll(data.runs.some((r) => r.status === "running") ? 1 : 5, route));
}

function renderRuns(data) {
  show(el("h1", {}, "Runs"), data.runs.length ? table(
    ["run", "status", "started", "duration", "counts", "command"],
    data.runs.map((r) => [link(runHref(r.run_id), r.run_id), stateSpan(r.status, "status-"), r.started,
      seconds(r.duration_s), countsText(r.counts), el("code", {}, r.command)]), { id: "runs" })
    : el("p", {}, "No run yet."));
}

async function runPage(runId) {
  const run = await api("/api/runs/" + enc(runId));
  renderRun(run);
  if (run.status === "running") live("/api/events/runs/" + enc(runId), renderRun, () => poll(1, route));
}

function renderRun(run) {
  const done = run.units_total;
  show(
    el("h1", {}, "Run ", el("span", { id: "run-id" }, run.run_id)),
    el("p", {}, "Status: ", el("strong", { id: "run-status", class: "status-" + run.status }, run.status),
      ` · started ${run.started} · ${seconds(run.duration_s)}`,
      run.status === "running" ? ` · ${done} units recorded so far (live)` : ` · ${countsText(run.counts)}`),
    el("p", {}, el("code", {}, run.command)),
    el("h2", {}, "Timeline (one lane per worker)"),
    el("canvas", { class: "bar", id: "timeline", width: 1000, height: 40 }),
    run.in_progress.length ? el("h2", {}, `In progress (${run.in_progress.length})`) : null,
    run.in_progress.length ? table(["asset", "partition"], run.in_progress.map((u) =>
      [link(assetHref(u.asset), u.asset), u.partition === null ? "-" : u.partition]), { id: "in-progress" }) : null,
    el("h2", {}, `Units (${done})`),
    done ? table(["asset", "partition", "status", "duration", "attempts", "error"],
      run.units.map((u) => [link(assetHref(u.asset), u.asset),
        link(partitionHref(u.asset, u.partition), u.partition === null ? "-" : u.partition),
        stateSpan(u.status, "status-"), seconds(u.duration_s), num(u.attempts),
        u.error ? el("pre", { class: "error" }, u.error) : ""]), { id: "units" }) : el("p", {}, "No unit recorded yet."));
  drawTimeline(run);
}

function timelineLanes(units) {
  // One lane per worker (the process that ran the unit, as recorded); units of a worker
  // that overlap (a worker with threads) get more lanes under it. Units recorded without
  // a worker share lanes by time, as before.
  const byWorker = new Map();
  for (const u of units) {
    const worker = u.worker || "";
    if (!byWorker.has(worker)) byWorker.set(worker, []);
    byWorker.get(worker).push(u);
  }
  const lanes = [];  // {worker, end}
  for (const [worker, list] of [...byWorker.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
    const mine = [];
    for (const u of list) {
      let lane = mine.find((l) => l.end <= u.s);
      if (!lane) { lane = { worker, end: 0, index: lanes.length }; mine.push(lane); lanes.push(lane); }
      lane.end = u.f;
      u.lane = lane.index;
    }
  }
  return lanes;
}

function drawTimeline(run) {
  const canvas = document.getElementById("timeline");
  const units = run.units.map((u) => ({ ...u, s: Date.parse(u.started), f: Date.parse(u.finished) }))
    .sort((a, b) => a.s - b.s);
  const lanes = timelineLanes(units);
  const LABEL = 180, ROW = 18;
  canvas.width = barWidth();
  canvas.height = Math.max(1, lanes.length) * ROW + 4;
  document.body.dataset.timelineLanes = JSON.stringify(lanes.map((l) => l.worker));
  if (!units.length) return;
  const t0 = Math.min(...units.map((u) => u.s)), t1 = Math.max(...units.map((u) => u.f));
  const scale = (canvas.width - LABEL) / Math.max(t1 - t0, 1);
  const context = canvas.getContext("2d");
  context.font = "11px system-ui, sans-serif";
  context.fillStyle = "#607d8b";
  lanes.forEach((lane, i) => {
    const shown = lanes.findIndex((l) => l.worker === lane.worker) === i;
    if (shown) context.fillText(lane.worker || "(worker not recorded)", 4, 2 + i * ROW + 12, LABEL - 8);
  });
  const color = { materialized: COLORS.fresh, failed: COLORS.failed, interrupted: COLORS.stale };
  for (const u of units) {
    context.fillStyle = color[u.status] || COLORS.missing;
    context.fillRect(LABEL + (u.s - t0) * scale, 2 + u.lane * ROW, Math.max(2, (u.f - u.s) * scale - 1), ROW - 3);
  }
}

// --- freshness board ----------------------------------------------------------------------

async function freshnessPage() {
  const data = await api("/api/freshness");
  setNow(data.now);
  show(el("h1", {}, "Freshness"), data.assets.length ? table(
    ["asset", "verdict", "expected", "latest", "deadline", "lag", "reason"],
    data.assets.map((f) => [link(assetHref(f.asset), f.asset), stateSpan(f.verdict, "verdict-"),
      f.expected_partition || "-", f.latest_partition || "-", f.deadline || "-", seconds(f.lag_s),
      f.reason || ""]), { id: "freshness-board" }) : el("p", {}, "No asset has a freshness policy."));
}
