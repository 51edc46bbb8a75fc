// partita ui: renders each page from the JSON API. Every value from the server is put in
// the page as text (textContent, attributes set one by one), never parsed as HTML.
"use strict";

const TOKEN = document.querySelector('meta[name="partita-token"]').content;
const COLORS = { fresh: "#34a853", stale: "#f2b600", missing: "#bdc1c6", failed: "#d93025" };
const STATES = ["fresh", "stale", "missing", "failed"];
const main = document.getElementById("main");
const tooltip = document.getElementById("tooltip");
let pollTimer = null;

// --- small helpers -------------------------------------------------------------------

function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function svg(tag, attributes, ...children) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [key, value] of Object.entries(attributes || {})) {
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, String(value));
  }
  for (const child of children) {
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const enc = encodeURIComponent;
const assetHref = (name) => "/assets/" + enc(name);
const partitionHref = (name, key) => assetHref(name) + "/partitions/" + enc(key === null ? "-" : key);
const runHref = (id) => "/runs/" + enc(id);
const link = (href, text) => el("a", { href }, text);
const stateSpan = (state, prefix) => el("span", { class: (prefix || "state-") + state }, state);

function table(headers, rows, attributes) {
  return el("table", attributes || {},
    el("thead", {}, el("tr", {}, headers.map((h) => el("th", {}, h)))),
    el("tbody", {}, rows.map((cells) => el("tr", {}, cells.map((c) =>
      c instanceof Node && c.tagName === "TD" ? c : el("td", {}, c))))));
}

const num = (value) => el("td", { class: "num" }, value === null || value === undefined ? "" : value);

function seconds(value) {
  if (value === null || value === undefined) return "";
  if (value < 60) return value.toFixed(1) + " s";
  const m = Math.floor(value / 60);
  return m < 60 ? `${m}m ${Math.round(value % 60)}s` : `${Math.floor(m / 60)}h ${m % 60}m`;
}

async function api(path) {
  const response = await fetch(path, { headers: { Accept: "application/json" } });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Partita-Token": TOKEN },
    body: JSON.stringify(body),
  });
  const answer = await response.json();
  if (!response.ok) throw new Error(answer.error || response.statusText);
  return answer;
}

function show(...nodes) {
  main.replaceChildren(...nodes.filter((node) => node !== null && node !== undefined));
}

function showError(error) {
  show(el("h1", {}, "Something went wrong"), el("p", { class: "error banner" }, error.message));
}

function setNow(now) {
  if (now) document.getElementById("now").textContent = "now: " + now;
}

function poll(seconds, callback) {
  clearTimeout(pollTimer);
  pollTimer = setTimeout(callback, seconds * 1000);
}

// Live updates: the server pushes `update` events (server-sent events) carrying the same
// JSON as the read route; `render` redraws from it. If the stream cannot be opened (no
// EventSource, a proxy dropping it, the server refusing it) before any update came, the
// page falls back to asking again every second (`fallback`).
let liveSource = null;

function live(path, render, fallback) {
  if (liveSource) liveSource.close();
  if (!window.EventSource) { document.body.dataset.live = "poll"; fallback(); return; }
  const source = new EventSource(path);
  liveSource = source;
  let updates = 0;
  source.addEventListener("update", (message) => {
    updates += 1;
    document.body.dataset.live = "sse";
    document.body.dataset.liveUpdates = String(updates);
    render(JSON.parse(message.data));
  });
  source.addEventListener("end", () => { source.close(); document.body.dataset.live = "ended"; });
  source.onerror = () => {
    // After updates, the browser reconnects by itself unless the stream is closed for good.
    if (updates && source.readyState !== EventSource.CLOSED) return;
    source.close();
    liveSource = null;
    document.body.dataset.live = "poll";
    fallback();
  };
}

// --- asset graph -----------------------------------------------------------------------

function health(counts) {
  if (counts.failed) return "failed";
  if (counts.missing) return "missing";
  if (counts.stale) return "stale";
  return "fresh";
}

function layers(assets, edges) {
  // Columns by longest path from a source (assets come in topological order); a source
  // then moves right, next to its first reader, so no edge runs across a column for it.
  const depth = Object.fromEntries(assets.map((a) => [a.name, 0]));
  for (const a of assets) {
    for (const [u, d] of edges) if (u === a.name) depth[d] = Math.max(depth[d], depth[u] + 1);
  }
  for (const a of assets) {
    if (edges.some(([, d]) => d === a.name)) continue;
    const readers = edges.filter(([u]) => u === a.name).map(([, d]) => depth[d]);
    if (readers.length) depth[a.name] = Math.min(...readers) - 1;
  }
  return depth;
}

async function graphPage() {
  const params = new URLSearchParams(location.search);
  const first = document.querySelector('meta[name="partita-selection"]').content;
  const selection = params.has("select") ? params.getAll("select").filter(Boolean)
    : first.split(/\s+/).filter(Boolean);
  const query = selection.map((s) => "select=" + enc(s)).join("&");
  const data = await api("/api/assets" + (query ? "?" + query : ""));
  setNow(data.now);
  const input = el("input", { type: "text", id: "selection", value: selection.join(" "),
    placeholder: "+name  group:x  tag:k=v" });
  const filter = (event) => {
    event.preventDefault();
    const parts = input.value.split(/\s+/).filter(Boolean);
    location.href = "/?" + (parts.length ? parts.map((p) => "select=" + enc(p)).join("&") : "select=");
  };
  const actionBox = el("div", { id: "actions" });
  show(
    el("h1", {}, "Asset graph"),
    el("form", { class: "toolbar", onsubmit: filter }, "Selection", input,
      el("button", { type: "submit" }, "Filter"),
      el("button", { type: "button", id: "materialize-selection",
        onclick: () => planThenLaunch(actionBox, { selection }) }, "Materialize selection…")),
    actionBox, legend(), el("div", { id: "graph" }, drawGraph(data)));
}

function graphLayout(assets, edges) {
  // Layered, left to right: a column per depth (see `layers`); each group gets its own band
  // of rows (so a box can enclose it), groups in the order they first appear (upstream
  // first); inside a band, each column is ordered by the barycentre of its neighbours in
  // the column before (then after), a few sweeps, which removes most edge crossings.
  const depth = layers(assets, edges);
  const groups = [...new Set(assets.map((a) => a.group))];
  const columnCount = Math.max(0, ...Object.values(depth)) + 1;
  const cells = new Map(groups.map((g) => [g, Array.from({ length: columnCount }, () => [])]));
  for (const a of assets) cells.get(a.group)[depth[a.name]].push(a.name);
  const ups = {}, downs = {};
  for (const a of assets) { ups[a.name] = []; downs[a.name] = []; }
  for (const [u, d] of edges) { ups[d].push(u); downs[u].push(d); }
  const row = {};
  const bandStart = {};
  let next = 0;
  for (const g of groups) {
    bandStart[g] = next;
    next += Math.max(...cells.get(g).map((c) => c.length));
  }
  const place = () => {
    for (const g of groups) cells.get(g).forEach((column) => column.forEach((n, i) => { row[n] = bandStart[g] + i; }));
  };
  for (const g of groups) cells.get(g).forEach((column) => column.sort());
  place();
  const bary = (names, fallback) => {
    const known = names.filter((n) => n in row);
    return known.length ? known.reduce((sum, n) => sum + row[n], 0) / known.length : fallback;
  };
  const snapshot = () => new Map(groups.map((g) => [g, cells.get(g).map((c) => [...c])]));
  let best = snapshot(), fewest = countCrossings(edges, depth, row);
  for (let sweep = 0; sweep < 6 && fewest > 0; sweep++) {
    const neighbours = sweep % 2 === 0 ? ups : downs;
    const order = [...Array(columnCount).keys()];
    if (sweep % 2) order.reverse();
    for (const c of order) {
      for (const g of groups) {
        const column = cells.get(g)[c];
        const key = Object.fromEntries(column.map((n) => [n, bary(neighbours[n], row[n])]));
        column.sort((a, b) => key[a] - key[b] || row[a] - row[b]);  // ties keep their order
      }
      place();
    }
    const crossings = countCrossings(edges, depth, row);
    if (crossings < fewest) { fewest = crossings; best = snapshot(); }
  }
  for (const g of groups) cells.set(g, best.get(g));
  place();
  return { depth, row, groups, bandStart, rows: next, columns: columnCount, cells };
}

function countCrossings(edges, depth, row) {
  // Crossings between edges that span the same pair of columns (the ones a layout orders).
  let crossings = 0;
  for (let i = 0; i < edges.length; i++) {
    for (let j = i + 1; j < edges.length; j++) {
      const [a, b] = edges[i], [c, d] = edges[j];
      if (depth[a] !== depth[c] || depth[b] !== depth[d]) continue;
      if ((row[a] - row[c]) * (row[b] - row[d]) < 0) crossings++;
    }
  }
  return crossings;
}

function drawGraph(data) {
  const layout = graphLayout(data.assets, data.edges);
  const W = 320, H = 50, GX = 70, GY = 18, PAD = 14, TOP = 22;
  const position = {};
  const groupIndex = Object.fromEntries(layout.groups.map((g, i) => [g, i]));
  for (const a of data.assets) {
    const bandOffset = groupIndex[a.group] * (TOP + 2 * PAD);
    position[a.name] = { x: 30 + layout.depth[a.name] * (W + GX),
      y: 20 + TOP + PAD + bandOffset + layout.row[a.name] * (H + GY) };
  }
  const height = 40 + layout.groups.length * (TOP + 2 * PAD) + layout.rows * (H + GY);
  const root = svg("svg", { width: 60 + layout.columns * (W + GX), height });
  for (const g of layout.groups) {  // a box around every group's nodes
    const members = data.assets.filter((a) => a.group === g).map((a) => position[a.name]);
    const x0 = Math.min(...members.map((p) => p.x)) - PAD, y0 = Math.min(...members.map((p) => p.y)) - PAD - TOP;
    const x1 = Math.max(...members.map((p) => p.x)) + W + PAD, y1 = Math.max(...members.map((p) => p.y)) + H + PAD;
    root.append(svg("g", { class: "group", "data-group": g },
      svg("rect", { class: "group-box", x: x0, y: y0, width: x1 - x0, height: y1 - y0, rx: 8 }),
      svg("text", { class: "group-label", x: x0 + 10, y: y0 + 16 }, "group " + g)));
  }
  for (const [u, d] of data.edges) {
    const a = position[u], b = position[d];
    const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2, mx = (x1 + x2) / 2;
    root.append(svg("path", { class: "edge", "data-edge": `${u} ${d}`,
      d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}` }));
  }
  for (const a of data.assets) {
    const p = position[a.name], c = a.counts, state = health(c);
    const kind = a.partitions ? `${a.partitions.kind} x${a.partitions.count}` : "unpartitioned";
    const node = svg("g", { class: "node", "data-asset": a.name, "data-column": layout.depth[a.name],
      "data-row": layout.row[a.name], tabindex: 0,
      transform: `translate(${p.x},${p.y})`, onclick: () => { location.href = assetHref(a.name); } },
      svg("rect", { width: W, height: H, rx: 6, fill: "#fff", stroke: COLORS[state], "stroke-width": 3 }),
      svg("rect", { width: 8, height: H, rx: 3, fill: COLORS[state] }),
      svg("text", { x: 16, y: 18, "font-weight": 600 }, a.name),
      svg("text", { x: 16, y: 36, class: "counts" },
        `${kind} · ${c.fresh || 0} fresh · ${c.stale || 0} stale · ${c.missing || 0} missing · ${c.failed || 0} failed`));
    node.append(svg("title", {}, `${a.name} (${state}, ${a.storage})`));
    root.append(node);
  }
  root.dataset.crossings = String(countCrossings(data.edges, layout.depth, layout.row));
  return root;
}

function legend() {
  return el("div", { class: "legend" }, STATES.map((s) =>
    el("span", {}, el("i", { class: "swatch-" + s }), s)));
}

// --- actions: plan first, launch on confirmation ------------------------------------------

async function planThenLaunch(box, request, title) {
  box.replaceChildren(el("p", {}, "Planning…"));
  try {
    const plan = await post("/api/plan", request);
    const rows = plan.rows.map((r) => [r.asset,
      r.count > 1 ? `${r.first} .. ${r.last} (${r.count} partitions)` : (r.first === null ? "-" : r.first),
      r.reason]);
    const launch = async () => {
      launchButton.disabled = true;
      try {
        const started = await post("/api/runs", request);
        location.href = started.run_id ? runHref(started.run_id) : "/runs";
      } catch (error) {
        box.append(el("p", { class: "error banner" }, error.message));
      }
    };
    const launchButton = el("button", { id: "confirm-launch", onclick: launch },
      `Launch: run ${plan.to_run} units`);
    box.replaceChildren(el("div", { class: "plan" },
      el("h2", {}, (title || "Plan") + `: ${plan.to_run} of ${plan.units} units would run`),
      plan.to_run ? table(["asset", "partition", "reason"], rows, { id: "plan-table" })
        : el("p", {}, "Nothing to do: every unit is up to date."),
      plan.rows_total > plan.rows.length ? el("p", {}, `… and ${plan.rows_total - plan.rows.length} more rows`) : null,
      el("div", { class: "toolbar" }, plan.to_run ? launchButton : null,
        el("button", { onclick: () => box.replaceChildren() }, "Cancel"))));
  } catch (error) {
    box.replaceChildren(el("p", { class: "error banner" }, error.message));
  }
}

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

// --- routing ---------------------------------------------------------------------------

function route() {
  // Split before decoding: a key may hold an encoded "/".
  const parts = location.pathname.split("/").filter(Boolean).map(decodeURIComponent);
  let page;
  if (parts.length === 0) page = graphPage();
  else if (parts[0] === "assets" && parts.length === 2) page = assetPage(parts[1]);
  else if (parts[0] === "assets" && parts.length === 4) page = partitionPage(parts[1], parts[3]);
  else if (parts[0] === "runs" && parts.length === 1) page = runsPage();
  else if (parts[0] === "runs" && parts.length === 2) page = runPage(parts[1]);
  else if (parts[0] === "freshness") page = freshnessPage();
  else page = Promise.reject(new Error("no such page: " + location.pathname));
  page.then(() => { document.body.dataset.ready = "1"; }, showError);
}

route();
