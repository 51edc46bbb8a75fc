// partita ui, the asset graph page. Loaded before app.js (which renders the page); every value
// from the server goes in as text, never parsed as HTML.
"use strict";

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
