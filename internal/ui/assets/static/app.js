// ingot's fleet dashboard: a hash-routed page over /ui/api/ (no framework, no build step).
"use strict";
(function () {
  const $ = (sel) => document.querySelector(sel);
  const TOKEN = "ingot.token", WHO = "ingot.who";
  let version = "", route = null, watching = false, firstRender = true, authMode = "noauth2";

  const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  const num = (n) => Number(n ?? 0).toLocaleString("en-US", { maximumFractionDigits: 1 });
  const ago = (t) => {
    if (!t) return "";
    const s = Math.max(0, (Date.now() - new Date(t).getTime()) / 1000);
    if (s < 60) return Math.round(s) + "s ago";
    if (s < 3600) return Math.round(s / 60) + "m ago";
    if (s < 86400) return Math.round(s / 3600) + "h ago";
    return Math.round(s / 86400) + "d ago";
  };
  const short = (u) => esc(String(u || "").slice(0, 8));

  // Status colours: one class per kind of state.
  function provClass(p) {
    if (/failed|error/.test(p)) return "s-bad";
    if (p === "available") return "s-ok";
    if (p === "active") return "s-info";
    if (/clean|deploy|wait|inspect|verif|deleting|rescu|servic/.test(p)) return "s-warn";
    return "s-idle";
  }
  const badge = (text, cls) => `<span class="s ${cls}">${esc(text)}</span>`;
  const prov = (p) => badge(p || "—", provClass(p || ""));
  const power = (p) => badge(p || "unknown", p === "power on" ? "s-ok" : p === "error" || !p ? "s-bad" : "s-idle");
  const tracker = (t) => badge(t, t === "managed" ? "s-ok" : t === "orphaned" ? "s-bad" : t === "untracked" ? "s-idle" : "s-warn");
  const instState = (s) => badge(s, s === "active" ? "s-ok" : s === "error" ? "s-bad" : s === "deleted" ? "s-idle" : "s-warn");

  // --- authentication -------------------------------------------------------------
  const token = () => sessionStorage.getItem(TOKEN);
  function logout(message) {
    sessionStorage.removeItem(TOKEN);
    sessionStorage.removeItem(WHO);
    showLogin(message || "");
  }
  function showLogin(message) {
    $("#top").hidden = true;
    $("#view").hidden = true;
    $("#login").hidden = false;
    $("#login-error").textContent = message;
    $("#login-token").hidden = authMode !== "noauth2";
    $("#login-password").hidden = authMode === "noauth2";
    (authMode === "noauth2" ? $("#token") : $("#username")).focus();
  }
  async function login(ev) {
    ev.preventDefault();
    $("#login-error").textContent = "";
    let t = "", who = "";
    if (authMode === "noauth2") {
      t = $("#token").value.trim();
      who = t;
    } else {
      const r = await fetch("api/login", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ username: $("#username").value, password: $("#password").value,
          project: $("#project").value, user_domain: $("#domain").value, project_domain: $("#domain").value }),
      });
      const body = await r.json().catch(() => ({}));
      if (!r.ok) { $("#login-error").textContent = errorText(body, r.status); return; }
      t = body.token;
      who = body.user + " @ " + body.project;
    }
    if (!t) { $("#login-error").textContent = "A token is required."; return; }
    sessionStorage.setItem(TOKEN, t);
    sessionStorage.setItem(WHO, who);
    try {
      await api("/summary"); // the token works and may read the fleet
    } catch (e) {
      return;
    }
    start();
  }
  function errorText(body, status) {
    const e = body && body.errors && body.errors[0];
    return e ? e.detail || e.title : "HTTP " + status;
  }

  class AuthError extends Error {}
  async function api(path) {
    const r = await fetch("api" + path, { headers: { "X-Auth-Token": token() || "" } });
    const body = await r.json().catch(() => ({}));
    if (r.status === 401 || r.status === 403) {
      logout(r.status === 401 ? "The token was refused; log in again." : "This token may not read the fleet (" + errorText(body, r.status) + ").");
      throw new AuthError("auth");
    }
    if (!r.ok) throw new Error(errorText(body, r.status));
    return body;
  }

  // --- routing --------------------------------------------------------------------
  function parseRoute() {
    const h = location.hash.replace(/^#/, "") || "/";
    const [path, qs] = h.split("?");
    const parts = path.split("/").filter(Boolean);
    return { name: parts[0] || "overview", arg: parts[1] ? decodeURIComponent(parts[1]) : "", params: new URLSearchParams(qs || "") };
  }
  function go(name, params) {
    const qs = params && params.toString();
    location.hash = "#/" + name + (qs ? "?" + qs : "");
  }
  async function render() {
    route = parseRoute();
    document.querySelectorAll("[data-nav]").forEach((a) => a.classList.toggle("active", a.dataset.nav === (route.name === "node" ? "nodes" : route.name)));
    const view = $("#view");
    try {
      const pages = { overview, nodes, node, instances, tracker: trackerPage };
      const page = pages[route.name] || overview;
      const focus = document.activeElement && document.activeElement.id;
      const html = await page(route);
      view.innerHTML = html;
      wire(view);
      if (focus && document.getElementById(focus)) {
        const el = document.getElementById(focus);
        el.focus();
        if (el.setSelectionRange && el.value) el.setSelectionRange(el.value.length, el.value.length);
      }
      document.body.dataset.rendered = route.name + ":" + version;
      if (firstRender) {
        firstRender = false;
        window.ingotFirstRender = performance.now();
      }
    } catch (e) {
      if (!(e instanceof AuthError)) view.innerHTML = `<p class="error">${esc(e.message)}</p>`;
    }
  }

  // --- pages ----------------------------------------------------------------------
  function card(n, label, href, cls) {
    const inner = `<div class="n ${cls || ""}">${num(n)}</div><div class="l">${esc(label)}</div>`;
    return `<div class="card">${href ? `<a href="${href}">${inner}</a>` : inner}</div>`;
  }
  function capacityTable(caps) {
    const rows = caps.map((c) => {
      const u = c.total ? (100 * c.used) / c.total : 0, r = c.total ? (100 * c.reserved) / c.total : 0;
      return `<tr><td class="mono">${esc(c.class)}</td><td class="num">${num(c.providers)}</td><td class="num">${num(c.total)}</td>
        <td class="num">${num(c.reserved)}</td><td class="num">${num(c.used)}</td><td class="num">${num(c.free)}</td>
        <td><span class="bar"><span class="u" style="width:${u}%"></span><span class="r" style="width:${r}%"></span></span></td>
        <td class="num">${c.nodes ? num(c.available) : ""}</td><td class="num">${c.nodes ? num(c.allocated) : ""}</td>
        <td class="num">${c.nodes ? num(c.unavailable) : ""}</td><td class="num">${c.nodes ? num(c.maintenance) : ""}</td></tr>`;
    }).join("");
    return `<table id="capacity"><thead><tr><th>Resource class</th><th class="num">Providers</th><th class="num">Total</th>
      <th class="num">Reserved</th><th class="num">Used</th><th class="num">Free</th><th>used / reserved</th>
      <th class="num">Nodes available</th><th class="num">allocated</th><th class="num">unavailable</th><th class="num">maintenance</th></tr></thead>
      <tbody>${rows || `<tr><td colspan="11" class="muted">No inventory.</td></tr>`}</tbody></table>`;
  }
  function eventsTable(events) {
    if (!events.length) return `<p class="muted">No changes seen yet.</p>`;
    return `<table class="events"><thead><tr><th>When</th><th>Node</th><th>Change</th><th>From</th><th>To</th></tr></thead><tbody>` +
      events.map((e) => `<tr><td title="${esc(e.time)}">${ago(e.time)}</td><td><a href="#/node/${esc(e.node)}">${esc(e.name || e.node)}</a></td>
        <td>${esc(e.field)}</td><td class="trunc">${esc(e.from)}</td><td class="trunc">${esc(e.to)}</td></tr>`).join("") + `</tbody></table>`;
  }
  async function overview() {
    const [s, problems] = await Promise.all([api("/summary"), api("/nodes?problem=true&limit=15")]);
    version = s.version;
    const n = s.nodes, i = s.instances, t = s.tracker;
    const instCount = (st) => (i.states.find((x) => x.value === st) || { count: 0 }).count;
    let trackerLine = `<span class="muted">No Ironic tracker (ingot runs without --ironic-url).</span>`;
    if (t.enabled) {
      const last = t.last;
      trackerLine = last ? `Last pass ${ago(last.start)}: ${num(last.duration_ms)} ms, ${num(last.nodes)} nodes, ${num(last.changes)} changes, ` +
        (last.error ? badge("failed: " + last.error, "s-bad") : last.errors ? badge(last.errors + " errors", "s-warn") : badge("ok", "s-ok")) +
        ` · <a href="#/tracker">history</a>` : `<span class="muted">No pass yet.</span>`;
    }
    return `<h1>Fleet</h1>
      <div class="cards" id="node-cards">
        ${card(n.total, "nodes", "#/nodes")}
        ${card(n.allocated, "allocated", "#/nodes?allocated=true")}
        ${card(n.maintenance, "maintenance", "#/nodes?maintenance=true", n.maintenance ? "s-warn" : "")}
        ${card(n.problems, "errors / faults", "#/nodes?problem=true", n.problems ? "s-bad" : "")}
        ${card(n.cleaning, "cleaning", "#/nodes?cleaning=true")}
        ${card((n.tracker.find((x) => x.value === "orphaned") || { count: 0 }).count, "orphaned", "#/nodes?tracker=orphaned")}
        ${card(i.total, "instances", "#/instances")}
        ${card(instCount("building"), "building", "#/instances?state=building")}
        ${card(i.faults, "instances with faults", "#/instances?fault=true", i.faults ? "s-bad" : "")}
      </div>
      <p>${trackerLine}</p>${replicasPanel(s.replicas)}
      <h2>Capacity by resource class</h2>${capacityTable(s.capacity)}
      <div class="grid">
        <div><h2>Nodes by provision state</h2>${facetTable(n.provision_states, "provision_state", prov)}</div>
        <div><h2>Nodes needing attention (${num(problems.total)})</h2>${nodeTable(problems.nodes, true)}</div>
      </div>
      <h2>Recent changes</h2>${eventsTable(s.events)}`;
  }
  // The replicas sharing the PostgreSQL database (absent on SQLite: one process).
  function replicasPanel(list) {
    if (!list) return "";
    const rows = list.map((r) => `<tr data-replica="${esc(r.id)}"><td>${esc(r.id)}</td><td class="mono">${esc(r.address)}</td>
      <td>${r.draining ? badge("draining", "s-warn") : r.live ? badge("live", "s-ok") : badge("expired", "s-bad")}</td>
      <td class="num" title="${num(r.lease_remaining_seconds)} s left">${num(r.lease_age_seconds)} s</td>
      <td class="num">${num(r.nodes_owned)}</td><td class="mono">${esc(r.version)}</td></tr>`).join("");
    return `<h2>Replicas (${list.length})</h2><table id="replicas"><thead><tr><th>Replica</th><th>Address</th><th>Lease</th>
      <th class="num">Lease age</th><th class="num">Nodes owned</th><th>Version</th></tr></thead><tbody>${rows ||
      `<tr><td colspan="6" class="muted">No replica holds a lease.</td></tr>`}</tbody></table>`;
  }
  function facetTable(counts, param, fmt) {
    return `<table><tbody>${counts.map((c) => `<tr><td>${fmt ? fmt(c.value) : esc(c.value || "—")}</td>
      <td class="num"><a href="#/nodes?${param}=${encodeURIComponent(c.value || "-")}">${num(c.count)}</a></td></tr>`).join("")}</tbody></table>`;
  }
  function nodeTable(nodes, compact) {
    const head = compact ? `<th>Node</th><th>Provision</th><th>Problem</th>` :
      `<th>Node</th><th>UUID</th><th>Class</th><th>Provision</th><th>Power</th><th>Maint.</th><th>Tracker</th>
       <th class="num">Rsv</th><th class="num">Used</th><th>Instance</th><th>Group</th><th>Owner</th><th class="num">Traits</th><th>Problem</th><th>Updated</th>`;
    const rows = nodes.map((n) => {
      const name = `<a href="#/node/${esc(n.uuid)}">${esc(n.name || n.uuid)}</a>`;
      const prob = n.problem ? `<span class="s s-bad" title="${esc(n.last_error || n.fault || n.problem)}">${esc(n.problem)}</span>` : "";
      if (compact) return `<tr><td>${name}</td><td>${prov(n.provision_state)}</td><td>${prob}</td></tr>`;
      const maint = n.maintenance ? `<span class="s s-warn" title="${esc(n.maintenance_reason)}">yes</span>` : "";
      const target = n.target_provision_state ? ` → ${esc(n.target_provision_state)}` : "";
      return `<tr data-uuid="${esc(n.uuid)}"><td>${name}</td><td class="mono">${short(n.uuid)}</td><td class="mono">${esc(n.class)}</td>
        <td>${prov(n.provision_state)}${target}</td><td>${power(n.power_state)}</td><td>${maint}</td><td>${tracker(n.tracker)}</td>
        <td class="num">${n.provider ? n.reserved : "—"}</td><td class="num">${n.provider ? n.used : "—"}</td>
        <td>${esc(n.instance || (n.instance_uuid ? n.instance_uuid.slice(0, 8) : ""))}</td><td>${esc(n.conductor_group)}</td><td>${esc(n.owner)}</td>
        <td class="num">${n.traits}</td><td>${prob}</td><td title="${esc(n.updated)}">${ago(n.updated)}</td></tr>`;
    }).join("");
    return `<table class="nodes"><thead><tr>${head}</tr></thead><tbody>${rows || `<tr><td colspan="15" class="muted">No nodes.</td></tr>`}</tbody></table>`;
  }
  function select(id, label, counts, current, fmtAll) {
    const opts = counts.map((c) => `<option value="${esc(c.value || "-")}"${(c.value || "-") === current ? " selected" : ""}>${esc(c.value || "(none)")} (${num(c.count)})</option>`).join("");
    return `<label>${label} <select id="${id}" data-param="${id.replace("f-", "")}"><option value="">${fmtAll || "any"}</option>${opts}</select></label>`;
  }
  function boolSelect(id, label, current) {
    return `<label>${label} <select id="${id}" data-param="${id.replace("f-", "")}"><option value="">any</option>
      <option value="true"${current === "true" ? " selected" : ""}>yes</option><option value="false"${current === "false" ? " selected" : ""}>no</option></select></label>`;
  }
  function pager(total, offset, limit) {
    const from = total ? offset + 1 : 0, to = Math.min(total, offset + limit);
    return `<div class="pager"><button type="button" data-page="${offset - limit}" ${offset <= 0 ? "disabled" : ""}>‹ Prev</button>
      <span id="page-info">${num(from)}–${num(to)} of ${num(total)}</span>
      <button type="button" data-page="${offset + limit}" ${to >= total ? "disabled" : ""}>Next ›</button></div>`;
  }
  async function nodes(r) {
    const p = r.params;
    if (!p.get("limit")) p.set("limit", "50");
    const d = await api("/nodes?" + p.toString());
    version = d.version;
    const f = d.facets;
    return `<h1>Nodes <span class="muted" id="node-total">${num(d.total)} of ${num(f.total)}</span></h1>
      <div class="filters" id="node-filters">
        <label>Search <input id="f-q" data-param="q" value="${esc(p.get("q") || "")}" placeholder="name or UUID"></label>
        ${boolSelect("f-maintenance", "Maintenance", p.get("maintenance"))}
        ${boolSelect("f-problem", "Errors/faults", p.get("problem"))}
        ${boolSelect("f-cleaning", "Cleaning", p.get("cleaning"))}
        ${boolSelect("f-allocated", "Allocated", p.get("allocated"))}
        ${select("f-provision_state", "Provision", f.provision_states, p.get("provision_state"))}
        ${select("f-power_state", "Power", f.power_states, p.get("power_state"))}
        ${select("f-tracker", "Tracker", f.tracker, p.get("tracker"))}
        ${select("f-conductor_group", "Group", f.conductor_groups, p.get("conductor_group"))}
        ${select("f-owner", "Owner", f.owners, p.get("owner"))}
        ${select("f-resource_class", "Class", f.classes, p.get("resource_class"))}
      </div>
      ${pager(d.total, d.offset, d.limit)}${nodeTable(d.nodes, false)}`;
  }
  function kv(obj, keys) {
    return `<dl class="kv">${keys.filter((k) => obj[k] !== undefined && obj[k] !== "" && obj[k] !== null)
      .map((k) => `<dt>${esc(k)}</dt><dd>${fmtValue(k, obj[k])}</dd>`).join("")}</dl>`;
  }
  function fmtValue(k, v) {
    if (k === "provision_state") return prov(v);
    if (k === "power_state") return power(v);
    if (k === "state") return tracker(v);
    if (typeof v === "boolean") return v ? badge("yes", k === "maintenance" ? "s-warn" : "s-info") : "no";
    if (Array.isArray(v)) return v.length ? v.map((x) => `<span class="mono">${esc(x)}</span>`).join("<br>") : "—";
    if (/_at$/.test(k)) return `${esc(v)} <span class="muted">(${ago(v)})</span>`;
    if (k === "last_error" || k === "fault") return `<span class="error">${esc(v)}</span>`;
    return esc(v);
  }
  async function node(r) {
    const d = await api("/nodes/" + encodeURIComponent(r.arg));
    version = d.version;
    const n = d.node, p = d.provider;
    const ironic = d.ironic ? kv(d.ironic, ["name", "uuid", "resource_class", "provision_state", "target_provision_state", "power_state",
      "maintenance", "maintenance_reason", "fault", "last_error", "instance_uuid", "conductor_group", "owner", "lessee", "shard", "retired", "traits", "listed_at"])
      : `<p class="muted">Not in the tracker's last listing.</p>`;
    const record = d.record ? kv(d.record, ["state", "scope", "generation", "provider_uuid", "resource_class", "provision_state", "power_state",
      "maintenance", "instance_uuid", "conductor_group", "owner", "shard", "traits", "aggregates", "created_at", "updated_at"])
      : `<p class="muted">The tracker has no record of this node.</p>`;
    let provider = `<p class="muted">No resource provider.</p>`;
    if (p) {
      provider = kv(p, ["uuid", "generation", "modified"]) +
        `<table id="inventory"><thead><tr><th>Class</th><th class="num">Total</th><th class="num">Reserved</th><th class="num">Used</th>
        <th class="num">min</th><th class="num">max</th><th class="num">step</th><th class="num">ratio</th></tr></thead><tbody>` +
        p.inventories.map((i) => `<tr><td class="mono">${esc(i.class)}</td><td class="num">${i.total}</td><td class="num">${i.reserved}</td>
          <td class="num">${i.used}</td><td class="num">${i.min_unit}</td><td class="num">${i.max_unit}</td><td class="num">${i.step_size}</td>
          <td class="num">${i.allocation_ratio}</td></tr>`).join("") + `</tbody></table>` +
        `<h2>Traits (${p.traits.length})</h2><p class="mono">${p.traits.map(esc).join(" ") || "—"}</p>` +
        `<h2>Aggregates</h2><table><tbody>${p.aggregates.map((a) => `<tr><td class="mono">${esc(a.uuid)}</td><td>${esc(a.label)}</td></tr>`).join("") ||
          `<tr><td class="muted">none</td></tr>`}</tbody></table>` +
        `<h2>Allocations</h2><table><tbody>${(d.allocations || []).map((a) => `<tr><td class="mono">${esc(a.consumer)}</td><td class="mono">${esc(a.class)}</td>
          <td class="num">${a.used}</td><td>${ago(a.created_at)}</td></tr>`).join("") || `<tr><td class="muted">none</td></tr>`}</tbody></table>`;
    }
    const inst = d.instance ? `<h2>Instance</h2>${instanceTable([d.instance])}` : "";
    return `<h1 id="node-title">${esc(n.name || n.uuid)} ${prov(n.provision_state)} ${power(n.power_state)}
        ${n.maintenance ? badge("maintenance", "s-warn") : ""} ${tracker(n.tracker)}</h1>
      <p class="mono muted">${esc(n.uuid)}</p>${ownerLine(d.ownership)}
      <div class="grid">
        <div><h2>Ironic, as the tracker last saw it</h2>${ironic}</div>
        <div><h2>Tracker record</h2>${record}</div>
        <div><h2>Resource provider</h2>${provider}</div>
      </div>${inst}
      <h2>Recent changes</h2>${eventsTable(d.events)}`;
  }
  function ownerLine(o) {
    if (!o) return "";
    const who = o.replica ? `Owned by replica <b>${esc(o.replica)}</b> at epoch ${num(o.epoch)} for ${num(o.owned_for_seconds)} s`
      : `${badge("unowned", "s-bad")} (epoch ${num(o.epoch)})`;
    return `<p id="node-owner">${who}${o.handoff_to ? `, being handed to <b>${esc(o.handoff_to)}</b>` : ""}</p>`;
  }
  function instanceTable(list) {
    return `<table class="instances"><thead><tr><th>Name</th><th>UUID</th><th>State</th><th>Task</th><th>Project</th><th>Class</th>
      <th>Node</th><th class="num">Attempts</th><th>Fault</th><th>Updated</th></tr></thead><tbody>` +
      (list.map((i) => `<tr><td>${esc(i.name)}</td><td class="mono">${short(i.uuid)}</td><td>${instState(i.state)}</td><td>${esc(i.task)}</td>
        <td>${esc(i.project_id)}</td><td class="mono">${esc(i.resource_class)}</td>
        <td>${i.node ? `<a href="#/node/${esc(i.node)}">${esc(i.node_name || i.node.slice(0, 8))}</a>` : ""}</td>
        <td class="num">${i.attempts}</td><td class="trunc">${i.fault ? `<span class="s s-bad">${esc(i.fault.code)}</span> <span title="${esc(i.fault.message)}">${esc(i.fault.message)}</span>` : ""}</td>
        <td title="${esc(i.updated_at)}">${ago(i.updated_at)}</td></tr>`).join("") || `<tr><td colspan="10" class="muted">No instances.</td></tr>`) + `</tbody></table>`;
  }
  async function instances(r) {
    const p = r.params;
    const d = await api("/instances?" + p.toString());
    version = d.version;
    const f = d.facets;
    const states = f.states.map((s) => `<option value="${esc(s.value)}"${s.value === p.get("state") ? " selected" : ""}>${esc(s.value)} (${num(s.count)})</option>`).join("");
    return `<h1>Instances <span class="muted">${num(d.total)} of ${num(f.total)}</span></h1>
      <div class="cards">${f.states.map((s) => card(s.count, s.value, "#/instances?state=" + encodeURIComponent(s.value))).join("")}
        ${card(f.faults, "with faults", "#/instances?fault=true", f.faults ? "s-bad" : "")}</div>
      <div class="filters"><label>Search <input id="f-q" data-param="q" value="${esc(p.get("q") || "")}" placeholder="name, UUID or node"></label>
        <label>State <select id="f-state" data-param="state"><option value="">any</option>${states}</select></label>
        ${boolSelect("f-fault", "Fault", p.get("fault"))}</div>
      ${pager(d.total, d.offset, d.limit)}${instanceTable(d.instances)}`;
  }
  function chart(passes) {
    if (!passes.length) return `<p class="muted">No passes yet.</p>`;
    // Right-aligned, at least 60 slots wide, so that a few passes are not a few wide bars.
    const W = 1000, H = 180, pad = 56, n = passes.length, slots = Math.max(n, 60), bw = (W - pad) / slots, x0 = pad + (slots - n) * bw;
    const maxD = Math.max(1, ...passes.map((p) => p.duration_ms)), maxC = Math.max(1, ...passes.map((p) => p.changes));
    const bars = passes.map((p, i) => {
      const h = ((H - 20) * p.duration_ms) / maxD;
      return `<rect class="${p.error ? "err" : "ok"}" x="${x0 + i * bw}" y="${H - 14 - h}" width="${Math.max(1, bw - 1)}" height="${Math.max(1, h)}"><title>${esc(p.start)}: ${num(p.duration_ms)} ms, ${p.changes} changes${p.error ? ", " + esc(p.error) : ""}</title></rect>`;
    }).join("");
    const line = passes.map((p, i) => `${x0 + i * bw + bw / 2},${H - 14 - ((H - 20) * p.changes) / maxC}`).join(" ");
    return `<svg class="chart" id="pass-chart" viewBox="0 0 ${W} ${H}" preserveAspectRatio="none">
      <text x="2" y="10">${num(maxD)} ms</text><text x="2" y="${H - 2}">0</text><text x="2" y="22">changes ≤ ${num(maxC)}</text>
      ${bars}<polyline class="chg" points="${line}"/></svg>`;
  }
  async function trackerPage() {
    const d = await api("/passes");
    version = d.version;
    const passes = d.passes || [];
    const t = d.tracker;
    if (!t.enabled) return `<h1>Tracker</h1><p class="muted">No Ironic tracker (ingot runs without --ironic-url).</p>`;
    const rows = passes.slice().reverse().slice(0, 100).map((p) => `<tr><td title="${esc(p.start)}">${ago(p.start)}</td><td class="num">${num(p.duration_ms)}</td>
      <td class="num">${num(p.list_ms)}</td><td class="num">${num(p.nodes)}</td><td class="num">${num(p.changes)}</td><td class="num">${num(p.conflicts)}</td>
      <td class="num">${num(p.errors)}</td><td class="num">${num(p.orphaned)}</td><td>${p.error ? badge(p.error, "s-bad") : badge("ok", "s-ok")}</td></tr>`).join("");
    return `<h1>Tracker passes</h1><p>${num(t.listed)} nodes in the last listing${t.last_success ? ", last success " + ago(t.last_success) : ""}.
      Bars: pass duration (red: failed); line: changes written.</p>${chart(passes)}
      <table id="passes"><thead><tr><th>Start</th><th class="num">Duration ms</th><th class="num">Listing ms</th><th class="num">Nodes</th>
      <th class="num">Changes</th><th class="num">Conflicts</th><th class="num">Errors</th><th class="num">Orphaned</th><th>Result</th></tr></thead><tbody>${rows}</tbody></table>`;
  }

  // wire connects a rendered page's filters and pager to the route.
  function wire(view) {
    view.querySelectorAll("[data-param]").forEach((el) => {
      const apply = () => {
        const p = new URLSearchParams(route.params);
        if (el.value) p.set(el.dataset.param, el.value); else p.delete(el.dataset.param);
        p.delete("offset");
        go(route.name, p);
      };
      if (el.tagName === "INPUT") {
        let timer;
        el.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(apply, 250); });
      } else el.addEventListener("change", apply);
    });
    view.querySelectorAll("[data-page]").forEach((b) => b.addEventListener("click", () => {
      const p = new URLSearchParams(route.params);
      p.set("offset", String(Math.max(0, Number(b.dataset.page))));
      go(route.name, p);
    }));
  }

  // watch re-renders the page whenever the fleet's version moves (long polling).
  async function watch() {
    if (watching) return;
    watching = true;
    while (token()) {
      try {
        const r = await fetch("api/watch?version=" + encodeURIComponent(version), { headers: { "X-Auth-Token": token() } });
        $("#live").classList.toggle("on", r.ok);
        if (r.status === 401 || r.status === 403) { logout("The token was refused; log in again."); break; }
        const d = await r.json();
        if (d.changed && d.version !== version) { version = d.version; await render(); }
      } catch (e) {
        $("#live").classList.remove("on");
        await new Promise((res) => setTimeout(res, 2000));
      }
    }
    watching = false;
  }

  function start() {
    $("#login").hidden = true;
    $("#top").hidden = false;
    $("#view").hidden = false;
    $("#who").textContent = sessionStorage.getItem(WHO) || "";
    render().then(watch);
  }

  async function init() {
    $("#login-form").addEventListener("submit", login);
    $("#logout").addEventListener("click", () => logout(""));
    window.addEventListener("hashchange", render);
    try {
      const r = await fetch("api/config");
      authMode = (await r.json()).auth || "noauth2";
    } catch (e) { /* keep noauth2 */ }
    if (token()) start(); else showLogin("");
  }
  init();
})();
