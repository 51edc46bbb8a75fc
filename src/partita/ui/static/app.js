// partita ui: helpers, actions and routing; graph.js, asset.js and runs.js (loaded first)
// hold the pages. Renders each page from the JSON API. Every value from the server is put in
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
