// partita ui, the asset and partition pages. Loaded before app.js (which renders the page); every value
// from the server goes in as text, never parsed as HTML.
"use strict";

// --- asset page ------------------------------------------------------------------------

async function assetPage(name) {
  const params = new URLSearchParams(location.search);
  const first = params.get("first") || "", last = params.get("last") || "";
  const [asset, parts] = await Promise.all([api("/api/assets/" + enc(name)),
    api(`/api/assets/${enc(name)}/partitions?first=${enc(first)}&last=${enc(last)}`)]);
  setNow(asset.now);
  const actionBox = el("div", { id: "actions" });
  const fromInput = el("input", { type: "text", id: "backfill-from", value: first, placeholder: "from key" });
  const toInput = el("input", { type: "text", id: "backfill-to", value: last, placeholder: "to key" });
  const forceBox = el("input", { type: "checkbox", id: "force" });
  const request = (extra) => ({ selection: [name], force: forceBox.checked, ...extra });
  show(
    el("h1", {}, "Asset ", el("span", { id: "asset-name" }, asset.name)),
    el("p", {}, asset.description || ""),
    el("div", { class: "toolbar" },
      el("button", { id: "materialize", onclick: () => planThenLaunch(actionBox, request({}), "Materialize") }, "Materialize…"),
      fromInput, toInput,
      el("button", { id: "backfill", onclick: () => planThenLaunch(actionBox,
        request({ from: fromInput.value || null, to: toInput.value || null }), "Backfill range") }, "Backfill range…"),
      el("button", { id: "retry-failed", onclick: () => planThenLaunch(actionBox,
        request({ retry_failed: true }), "Retry failed") }, "Retry failed…"),
      el("label", {}, forceBox, " force")),
    actionBox,
    el("h2", {}, "Partitions"),
    healthSection(name, parts, first, last),
    el("h2", {}, "Freshness and watermark"),
    freshnessLine(asset),
    el("h2", {}, "Definition"),
    definitionList(asset),
    el("h2", {}, `Partitions that need work (${parts.needs_work_total})`),
    parts.needs_work.length ? table(["partition", "state", "reason"], parts.needs_work.map((p) =>
      [link(partitionHref(name, p.partition), p.partition === null ? "-" : p.partition),
       stateSpan(p.state), p.reason || ""]), { id: "needs-work" }) : el("p", {}, "None: every partition is fresh."),
    parts.needs_work_total > parts.needs_work.length
      ? el("p", {}, `(the first ${parts.needs_work.length} are listed)`) : null,
    parts.failed_checks.length ? el("h2", {}, "Failed checks") : null,
    parts.failed_checks.length ? table(["partition", "check", "severity", "message"], parts.failed_checks.map((c) =>
      [c.partition === null ? "-" : c.partition, c.check, c.severity, c.message || ""])) : null);
  drawBar(name, parts);
  const watermark = await api(`/api/assets/${enc(name)}/watermark`);
  for (const [id, value] of [["high-water", watermark.high_water], ["complete-through", watermark.complete_through]]) {
    document.getElementById(id).textContent = value || "-";
  }
}

function healthSection(name, parts, first, last) {
  const counts = parts.counts;
  const pickFirst = el("input", { type: "text", id: "range-first", value: first, placeholder: "first key" });
  const pickLast = el("input", { type: "text", id: "range-last", value: last, placeholder: "last key" });
  const narrow = (event) => {
    event.preventDefault();
    const q = new URLSearchParams();
    if (pickFirst.value) q.set("first", pickFirst.value);
    if (pickLast.value) q.set("last", pickLast.value);
    location.href = assetHref(name) + (q.toString() ? "?" + q : "");
  };
  return el("div", {},
    el("p", { id: "counts" }, STATES.map((s) => el("span", { class: "state-" + s }, `${counts[s] || 0} ${s}  `))),
    el("canvas", { class: "bar", id: "health-bar", width: 1000, height: 36 }),
    legend(),
    el("form", { class: "toolbar", onsubmit: narrow }, "Range", pickFirst, pickLast,
      el("button", { type: "submit" }, "Narrow"),
      el("a", { href: assetHref(name) }, "all partitions"),
      el("span", {}, "(click the bar to zoom into a range)")),
    parts.ranges_merged ? el("p", {}, "Many short runs of states: neighbouring ones are merged, each showing its worst state. Narrow the range to see each.") : null);
}

function barWidth() {  // the page's width inside its padding
  return Math.min(Math.max(main.clientWidth - 52, 300), 1600);
}

function drawBar(name, parts) {
  const canvas = document.getElementById("health-bar");
  canvas.width = barWidth();
  const context = canvas.getContext("2d");
  const total = parts.ranges.reduce((sum, r) => sum + r.count, 0);
  const scale = total ? canvas.width / total : 0;
  const starts = [];
  let at = 0;
  for (const r of parts.ranges) {  // one rectangle per range: never one element per partition
    starts.push(at);
    context.fillStyle = COLORS[r.state];
    context.fillRect(Math.floor(at * scale), 0, Math.max(1, Math.ceil(r.count * scale)), canvas.height);
    at += r.count;
  }
  const reasons = new Map(parts.needs_work.map((p) => [p.partition, p.reason]));
  const rangeAt = (event) => {
    const x = (event.clientX - canvas.getBoundingClientRect().left) / scale;
    let lo = 0, hi = starts.length - 1;
    while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (starts[mid] <= x) lo = mid; else hi = mid - 1; }
    return { range: parts.ranges[lo], index: Math.min(Math.max(Math.floor(x), 0), total - 1) };
  };
  const showTip = (event, text) => {
    tooltip.textContent = text;
    tooltip.hidden = false;
    tooltip.style.left = event.clientX + 12 + "px";
    tooltip.style.top = event.clientY + 12 + "px";
  };
  // Over a range of many partitions, the server names the one under the cursor (by its
  // position): asked at most once per position, the latest answer wins.
  const first = new URLSearchParams(location.search).get("first") || "";
  let asked = -1;
  canvas.addEventListener("mousemove", (event) => {
    const { range: r, index } = rangeAt(event);
    if (!r) return;
    const span = `${r.first} .. ${r.last} (${r.count} partitions, ${parts.ranges_merged ? "worst state" : "state"} ${r.state})`;
    if (r.count === 1 || r.first === null) {
      const known = reasons.get(r.first);
      showTip(event, `${r.first === null ? "-" : r.first}\nstate: ${r.state}${known ? "\nreason: " + known : ""}`);
      return;
    }
    if (index === asked) { tooltip.style.left = event.clientX + 12 + "px"; tooltip.style.top = event.clientY + 12 + "px"; return; }
    asked = index;
    showTip(event, `…\nin ${span}`);
    api(`/api/assets/${enc(name)}/partition-at?index=${index}&first=${enc(first)}`).then((p) => {
      if (asked !== index || tooltip.hidden) return;
      tooltip.textContent = `${p.partition}\nstate: ${p.state}${p.reason ? "\nreason: " + p.reason : ""}\nin ${span}`;
      tooltip.dataset.partition = p.partition;
    }, (error) => { if (asked === index) tooltip.textContent = error.message; });
  });
  canvas.addEventListener("mouseleave", () => { tooltip.hidden = true; asked = -1; });
  canvas.addEventListener("click", (event) => {
    const r = rangeAt(event).range;
    if (!r || r.first === null) return;
    if (r.count === 1) { location.href = partitionHref(name, r.first); return; }
    location.href = `${assetHref(name)}?first=${enc(r.first)}&last=${enc(r.last)}`;
  });
  document.body.dataset.barDrawnMs = String(performance.now());
  document.body.dataset.barRanges = String(parts.ranges.length);
}

function freshnessLine(asset) {
  const f = asset.freshness;
  return el("dl", { class: "def", id: "freshness" },
    el("dt", {}, "verdict"), el("dd", {}, f ? stateSpan(f.verdict, "verdict-") : "no policy",
      f && f.reason ? ` (${f.reason})` : ""),
    el("dt", {}, "deadline"), el("dd", {}, f && f.deadline ? f.deadline : ""),
    el("dt", {}, "lag"), el("dd", {}, f ? seconds(f.lag_s) : ""),
    el("dt", {}, "high-water mark"), el("dd", { id: "high-water" }, "…"),
    el("dt", {}, "complete through"), el("dd", { id: "complete-through" }, "…"));
}

function definitionList(asset) {
  const p = asset.partitions;
  const rows = [
    ["partitions", asset.partitions_description || "unpartitioned"],
    ["partition keys", p ? `${p.count} (${p.first} .. ${p.last})` : "-"],
    ["storage", asset.storage], ["location", asset.storage_location],
    ["defined at", asset.location], ["group", asset.group],
    ["tags", Object.entries(asset.tags).map(([k, v]) => `${k}=${v}`).join(", ") || "-"],
    ["dependencies", asset.deps.length ? asset.deps.map((d) => el("div", {}, link(assetHref(d.asset), d.asset),
      ` via ${d.mapping}`)) : "-"],
    ["read by", asset.downstream.length ? asset.downstream.map((d) => el("div", {}, link(assetHref(d), d))) : "-"],
    ["code version", asset.code_version], ["checks", asset.checks.join(", ") || "-"],
    ["freshness policy", asset.freshness_policy || "-"],
    ["watermark column", asset.watermark_column || "-"],
    ["retry", asset.retry || "-"], ["schema", asset.schema],
  ];
  return el("dl", { class: "def", id: "definition" }, rows.map(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
}

// --- partition page ----------------------------------------------------------------------

async function partitionPage(name, key) {
  const asOf = (new URLSearchParams(location.search).get("as_of") || "").trim();
  const data = await api(`/api/assets/${enc(name)}/partitions/${enc(key)}`);
  const dataPath = `/api/assets/${enc(name)}/partitions/${enc(key)}/data`;
  let preview = null, previewError = null;
  try {
    preview = await api(dataPath + (asOf ? "?as_of=" + enc(asOf) : ""));
  } catch (error) {
    if (!asOf) throw error;
    previewError = error.message;  // that version was pruned, or there was no data then
  }
  const asOfInput = el("input", { type: "text", id: "as-of", value: asOf,
    placeholder: "run id or ISO time" });
  const showAsOf = (event) => {
    event.preventDefault();
    const value = asOfInput.value.trim();
    location.href = partitionHref(name, key) + (value ? "?as_of=" + enc(value) : "");
  };
  show(
    el("h1", {}, link(assetHref(name), name), " / ", el("span", { id: "partition-key" },
      data.partition === null ? "(unpartitioned)" : data.partition)),
    el("p", { id: "partition-state" }, "State: ", stateSpan(data.state), data.reason ? ` (${data.reason})` : ""),
    el("h2", {}, "Attempts"),
    attemptsTable(data.attempts),
    data.failed_checks.length ? el("h2", {}, "Checks that failed in the latest attempt") : null,
    data.failed_checks.length ? table(["check", "severity", "message"],
      data.failed_checks.map((c) => [c.check, c.severity, c.message || ""])) : null,
    el("h2", {}, "Data"),
    el("form", { class: "toolbar", id: "as-of-form", onsubmit: showAsOf }, "As of", asOfInput,
      el("button", { type: "submit" }, "Show"),
      asOf ? el("a", { href: partitionHref(name, key) }, "current data") : null),
    previewSection(preview, previewError, asOf));
}

function attemptsTable(attempts) {
  if (!attempts.length) return el("p", {}, "Never attempted.");
  return table(
    ["run", "status", "started", "duration", "rows", "bytes", "data version", "code version",
      "watermark", "worker", "inputs read", "checks", "error"],
    attempts.map((a) => [link(runHref(a.run_id), a.run_id), stateSpan(a.status, "status-"),
      a.started, seconds(a.duration_s), num(a.rows), num(a.bytes), a.data_version || "",
      a.code_version || "", a.watermark || "", a.worker || "",
      el("div", {}, a.inputs.map((i) => el("div", {}, `${i.asset} ${i.partition === null ? "" : i.partition} @ ${i.data_version}`))),
      el("td", { class: "checks" }, a.checks.map((c) => el("div", { class: c.passed ? "check-passed" : "check-failed" },
        `${c.passed ? "passed" : "FAILED"} ${c.check} (${c.severity})${c.message ? ": " + c.message : ""}`))),
      el("td", { class: "attempt-error" }, a.error ? el("pre", { class: "error" }, a.error) : "",
        a.traceback ? el("details", {}, el("summary", {}, "traceback"),
          el("pre", { class: "traceback" }, a.traceback)) : null)]), { id: "attempts" });
}

function previewSection(preview, error, asOf) {
  if (error) return el("p", { class: "error banner", id: "preview-error" }, error);
  const v = preview.version;
  const caption = asOf
    ? `As of ${asOf}: version ${v ? v.data_version : "?"} written by run ${v ? v.run_id : "?"} at ${v ? v.finished : "?"}; `
    : "";
  return el("div", {},
    el("p", { id: "preview-caption" }, caption + `first ${preview.rows.length} of ${preview.total_rows} rows`),
    preview.columns.length ? table(preview.columns, preview.rows.map((row) =>
      row.map((v) => (v === null ? el("td", { class: "null" }, "null") : v))), { id: "preview" })
      : el("p", {}, "No data published."));
}
