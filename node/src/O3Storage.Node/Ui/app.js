// The O3StorageOS dashboard: polls /ui/cluster.json (every member's own /health, gathered by the node
// serving this page, and its recent events) and draws it. Read-only without a key; an admin key (kept
// in this tab's sessionStorage only) turns maintenance on and off through /admin/maintenance.
"use strict";

const POLL_MS = 2000;
const SVG = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);
let last = null;

function bytes(n) {
  if (n === null || n === undefined) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = n, unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++; }
  return unit === 0 ? `${n} B` : `${value.toFixed(1)} ${units[unit]}`;
}

function el(tag, attributes, text) {
  const node = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

// Every member as the leader lists it, each with its own report (null: it does not answer).
function members(cluster) {
  const reports = new Map(cluster.members.map((m) => [m.id, m.health]));
  const answering = cluster.members.map((m) => m.health).filter(Boolean);
  const leaderId = answering.map((h) => h.cluster && h.cluster.leader).find(Boolean) || null;
  const view = (leaderId && reports.get(leaderId)) || answering[0] || null;
  const listed = view && view.cluster && view.cluster.members && view.cluster.members.length
    ? view.cluster.members.map((m) => ({ id: m.id, state: m.state || "active" }))
    : cluster.members.map((m) => ({ id: m.id, state: "active" }));
  const rows = listed.sort((a, b) => a.id.localeCompare(b.id)).map((m) => {
    const own = reports.get(m.id) || null;
    const state = own ? m.state : "down";
    const role = own ? own.cluster.role : "unreachable";
    return { id: m.id, own, state, role, leader: m.id === leaderId };
  });
  return { rows, leaderId, view };
}

function healthLine(rows, view) {
  const up = rows.filter((r) => r.own).length;
  const problems = [];
  const down = rows.filter((r) => !r.own).map((r) => r.id);
  if (down.length) problems.push(`${down.join(", ")} ${down.length === 1 ? "does" : "do"} not answer`);
  rows.filter((r) => r.state === "draining").forEach((r) => problems.push(`${r.id} is draining`));
  const cluster = view && view.cluster;
  if (!cluster || !cluster.has_quorum) problems.push("no quorum");
  else if (!cluster.leader) problems.push("no leader");
  if (cluster && cluster.maintenance && cluster.maintenance.enabled) problems.push(`maintenance mode (${cluster.maintenance.reason})`);
  const health = !cluster || !cluster.has_quorum || !cluster.leader ? "unavailable" : problems.length ? "degraded" : "healthy";
  const text = `${health}: ${up}/${rows.length} members up` + (cluster && cluster.leader ? `, leader ${cluster.leader} (term ${cluster.term})` : "")
    + (problems.length ? "; " + problems.join("; ") : "");
  return { health, text };
}

function drawPicture(rows) {
  const svg = $("picture");
  svg.replaceChildren();
  const cx = 200, cy = 150, radius = rows.length > 1 ? 105 : 0;
  const at = rows.map((row, i) => {
    const angle = -Math.PI / 2 + (2 * Math.PI * i) / rows.length;
    return { row, x: cx + radius * Math.cos(angle), y: cy + radius * Math.sin(angle) };
  });
  const leader = at.find((p) => p.row.leader);
  if (leader) {
    for (const p of at) {
      if (p === leader) continue;
      svg.append(el("svg:line", { x1: leader.x, y1: leader.y, x2: p.x, y2: p.y, class: p.row.own ? "link" : "link down" }));
    }
  }
  for (const p of at) {
    const kind = !p.row.own ? "down" : p.row.state === "draining" ? "draining" : p.row.leader ? "leader" : "follower";
    const group = el("svg:g", { class: "member", "data-id": p.row.id, "data-state": kind });
    group.append(el("svg:circle", { cx: p.x, cy: p.y, r: p.row.leader ? 24 : 20, class: `node ${kind}` }));
    group.append(el("svg:text", { x: p.x, y: p.y + 38 }, p.row.id));
    group.append(el("svg:text", { x: p.x, y: p.y + 51, class: "role" }, p.row.own ? p.row.role : "down"));
    svg.append(group);
  }
}

function bar(className, share) {
  const outer = el("div", { class: `bar ${className}` });
  const inner = el("div");
  inner.style.width = `${Math.max(0, Math.min(100, share * 100)).toFixed(1)}%`;
  outer.append(inner);
  return outer;
}

function row(label, value) {
  const line = el("div", { class: "row" });
  line.append(el("span", {}, label), el("span", {}, value));
  return line;
}

function drawNodes(rows) {
  const cards = rows.map((r) => {
    const card = el("div", { class: `node-card ${r.own ? r.state : "down"}`, "data-id": r.id });
    const title = el("h4", {}, r.id);
    title.append(" ", el("span", { class: "role" }, r.own ? r.role : "down"));
    card.append(title);
    if (!r.own) {
      card.append(row("state", "not answering"));
      return card;
    }
    const storage = r.own.storage || {};
    const hardware = r.own.hardware || {};
    card.append(row("objects", (storage.total_objects ?? 0).toLocaleString("en")));
    card.append(row("used", `${bytes(storage.used_space_bytes)} of ${bytes(storage.capacity_bytes)}`));
    card.append(bar("used", storage.capacity_bytes ? storage.used_space_bytes / storage.capacity_bytes : 0));
    card.append(row("LED", hardware.led || "–"));
    card.append(row("temperature", hardware.temperature_celsius == null ? "no sensor" : `${hardware.temperature_celsius.toFixed(1)} °C`));
    const scrub = storage.scrub || {};
    card.append(row("scrub", scrub.state === "scrubbing" ? `${Math.round(scrub.pass_progress * 100)} %` : scrub.state || "–"));
    card.append(bar("scrub", scrub.state === "scrubbing" ? scrub.pass_progress : 0));
    card.append(row("version", r.own.version));
    return card;
  });
  $("nodes").replaceChildren(...cards);
}

function drawFacts(view, rows) {
  const cluster = (view && view.cluster) || {};
  const facts = [
    ["cluster", cluster.cluster_id || "–"], ["leader", cluster.leader || "none"], ["term", cluster.term ?? "–"],
    ["members", `${rows.filter((r) => r.own).length} of ${rows.length} answering`],
    ["writes", cluster.write_enabled ? "accepted" : "refused"], ["objects under-replicated", view ? view.storage.under_replicated_objects ?? 0 : "–"],
  ];
  $("facts").replaceChildren(...facts.flatMap(([name, value]) => [el("dt", {}, name), el("dd", {}, String(value))]));
  const progress = rows.map((r) => r.own && r.own.rebalance_progress).find(Boolean);
  const line = (view && view.rebalance) || "–";
  $("rebalance-line").textContent = line;
  const share = progress ? (progress.bytes_total > 0 ? progress.bytes_moved / progress.bytes_total : progress.percent / 100) : 0;
  $("rebalance-bar").firstElementChild.style.width = `${(Math.min(1, share) * 100).toFixed(1)}%`;
  const maintenance = cluster.maintenance || { enabled: false };
  $("maintenance-line").textContent = maintenance.enabled ? `on since ${maintenance.since}: ${maintenance.reason}` : "off: writes accepted";
  const button = $("maintenance-button");
  button.disabled = !cluster.leader;
  button.textContent = maintenance.enabled ? "Leave maintenance" : "Enter maintenance";
  button.dataset.enable = maintenance.enabled ? "false" : "true";
}

function drawEvents(cluster) {
  $("events-node").textContent = `(on ${cluster.node_id})`;
  const items = (cluster.events || []).map((e) => {
    const item = el("li", { class: e.level });
    item.append(el("time", {}, e.time.replace("T", " ").replace(/\.\d+/, "")), `${e.level} [${e.event_id}] ${e.message}`);
    return item;
  });
  $("events").replaceChildren(...items);
}

async function poll() {
  try {
    const answer = await fetch("/ui/cluster.json", { cache: "no-store" });
    if (!answer.ok) throw new Error(`${answer.status}`);
    last = await answer.json();
    const { rows, view } = members(last);
    const { health, text } = healthLine(rows, view);
    $("health").className = `health ${health}`;
    $("health").textContent = text;
    document.body.dataset.health = health;
    drawPicture(rows);
    drawNodes(rows);
    drawFacts(view, rows);
    drawEvents(last);
  } catch (error) {
    $("health").className = "health unavailable";
    $("health").textContent = `this node does not answer (${error.message}); retrying`;
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

function key() { return sessionStorage.getItem("o3storage-admin-key"); }

function showKey() {
  $("key-state").textContent = key() ? "admin key set" : "read-only";
}

$("key-button").addEventListener("click", () => { $("key-input").value = ""; $("key-dialog").showModal(); });
$("key-dialog").addEventListener("close", () => {
  const dialog = $("key-dialog");
  if (dialog.returnValue === "save" && $("key-input").value.trim()) sessionStorage.setItem("o3storage-admin-key", $("key-input").value.trim());
  if (dialog.returnValue === "forget") sessionStorage.removeItem("o3storage-admin-key");
  showKey();
});

$("maintenance-button").addEventListener("click", async () => {
  const enable = $("maintenance-button").dataset.enable === "true";
  const headers = { "Content-Type": "application/json" };
  if (key()) headers.Authorization = `Bearer ${key()}`;
  $("admin-message").textContent = "";
  try {
    const answer = await fetch("/admin/maintenance", { method: "POST", headers, body: JSON.stringify(enable ? { enabled: true, reason: "from the dashboard" } : { enabled: false }) });
    const body = await answer.json();
    if (answer.status === 403) {
      $("admin-message").textContent = `${body.error}: give an admin key (Admin key…)`;
      $("key-dialog").showModal();
      return;
    }
    if (!answer.ok) { $("admin-message").textContent = `${body.error}${body.detail ? ": " + body.detail : ""}`; return; }
    $("admin-message").textContent = enable ? "maintenance on" : "maintenance off";
  } catch (error) {
    $("admin-message").textContent = `no answer: ${error.message}`;
  }
});

showKey();
poll();
