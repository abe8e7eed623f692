/* Review console: queues ordered by urgency, blurred media revealed per item, the signals and
   rule trace behind each item, actions with DSA reason codes, keyboard shortcuts, exposure counters. */
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const state = { key: sessionStorage.getItem("gf-key") || "", tab: "takedown", items: [], index: -1, role: "" };

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v; else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else if (v !== undefined && v !== null) e.setAttribute(k, v);
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c.nodeType ? c : String(c));
    return e;
  }
  async function api(method, url, body, withTotal) {
    const res = await fetch(url, {
      method, headers: Object.assign({ "X-API-Key": state.key }, body ? { "Content-Type": "application/json" } : {}),
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) { const e = new Error(data.message || ("HTTP " + res.status)); e.status = res.status; throw e; }
    if (withTotal) state.total = Number(res.headers.get("X-Total-Count") || data.length);
    return data;
  }
  const SHARED = { parent: "parent post", pdq: "near-identical image", bank: "victim-bank entry", consent: "protected person" };
  const ROLE = { media: "This case's image", parent: "Parent post's image" };
  const fmt = (t) => t ? new Date(t * 1000).toISOString().replace("T", " ").slice(0, 16) + " UTC" : "—";
  function left(s) {
    const a = Math.abs(s), h = Math.floor(a / 3600), m = Math.floor((a % 3600) / 60);
    return (s < 0 ? "overdue " : "") + h + " h " + m + " min" + (s < 0 ? "" : " left");
  }

  async function refreshExposure() {
    try {
      const me = await api("GET", "/v1/me");
      state.role = me.role;
      const x = me.exposure || {};
      const note = (x.media_revealed || 0) >= 50 ? " — you have revealed a lot today; consider a break" : "";
      $("exposure").textContent = me.name + " (" + me.role + ") · today: " + (x.items_viewed || 0) + " viewed, " +
        (x.media_revealed || 0) + " revealed, " + (x.decisions || 0) + " decisions" + note;
    } catch (e) { /* shown by the caller */ }
  }

  async function loadAlerts() {
    try {
      const a = await api("GET", "/v1/takedown/alerts");
      const box = $("alerts");
      box.textContent = "";
      if (a.length) {
        const breached = a.filter((x) => x.state === "breached").length;
        box.append(el("div", { class: "notice error" },
          a.length + " takedown request(s) near or past the deadline" + (breached ? " (" + breached + " breached)" : "") + ": " +
          a.map((x) => x.case_number).join(", ")));
      }
    } catch (e) { /* auditors and moderators both may read alerts */ }
  }

  async function loadQueue() {
    const list = $("queue");
    list.textContent = "";
    try {
      state.items = await api("GET", state.tab === "takedown" ? "/v1/takedown/requests" : "/v1/cases/clusters", null, true);
    } catch (e) {
      state.items = [];
      list.append(el("li", {}, e.status === 404 ? "This queue is not available on this server." : e.message));
      return;
    }
    if (!state.items.length) list.append(el("li", { "data-empty": "1" }, "Queue empty."));
    if (state.total > state.items.length) {  // a long queue is cut: say so, with the total
      list.append(el("li", { class: "notice", "data-truncated": "1" }, "Showing the " + state.items.length +
        " most urgent of " + state.total + "; decide these to bring the next ones in."));
    }
    state.items.forEach((it, i) => {
      // a cases item is a cluster of copies (one case when nothing groups it)
      const title = state.tab === "takedown" ? it.case_number
        : it.count > 1 ? "Cluster of " + it.count + " cases (case " + it.id + "…)" : "Case " + it.id;
      const clock = it.clock || {};
      const meta = state.tab === "takedown"
        ? [it.kind === "regulator_notice" ? "regulator " + it.issuer + (it.verified ? "" : " (unverified)") : "TAKE IT DOWN", it.status, left(clock.seconds_left || 0)].join(" · ")
        : [it.status, it.first.action, "severity " + it.severity, left(it.deadline_at - Date.now() / 1000),
           it.count > 1 ? "shared: " + it.shared.map((x) => SHARED[x] || x).join(", ") : null].filter(Boolean).join(" · ");
      const li = el("li", { role: "option", "aria-selected": "false", id: "item-" + i, "data-id": it.id, onclick: () => select(i) },
        el("strong", {}, title), " ", clock.state ? el("span", { class: "badge state-" + clock.state }, clock.state) : null,
        el("div", { class: "meta" }, meta));
      list.append(li);
    });
  }

  async function select(i) {
    if (i < 0 || i >= state.items.length) return;
    state.index = i;
    document.querySelectorAll("#queue li").forEach((li, j) => li.setAttribute("aria-selected", String(j === i)));
    const li = $("item-" + i);
    if (li) li.scrollIntoView({ block: "nearest" });
    const it = state.items[i];
    if (state.tab === "takedown") await showTakedown(it.id); else await showCase(it.id, it);
    refreshExposure();
  }

  function kv(pairs) {
    const dl = el("dl", { class: "kv" });
    for (const [k, v] of pairs) dl.append(el("dt", {}, k), el("dd", {}, v));
    return dl;
  }

  async function showTakedown(id) {
    const d = $("detail");
    let r;
    try {
      r = state.role === "auditor" ? await api("GET", "/v1/takedown/requests/" + id)
                                   : await api("POST", "/v1/takedown/requests/" + id + "/review");
    } catch (e) { d.textContent = e.message; return; }
    if (!r.removals) { try { r.removals = (await api("GET", "/v1/takedown/requests/" + id)).removals; } catch (e) { r.removals = []; } }
    d.textContent = "";
    const clock = r.clock;
    d.append(el("h2", {}, r.case_number + " — " + r.status),
      el("p", { class: "state-" + clock.state, id: "clock" }, "Deadline " + fmt(r.deadline_at) + " (" + r.window_hours + " h window): " +
        (r.closed_at ? clock.state : left(clock.seconds_left))),
      kv([
        ["Type", r.kind === "regulator_notice" ? "Regulator notice: " + r.issuer_name + " ref. " + r.issuer_reference +
          (r.verified ? " (verified: filed by staff)" : " (unverified: filed on the public form, ordinary deadline)") : "TAKE IT DOWN Act request"],
        ["Signature", r.signature.name + (r.signature.on_behalf ? " (on behalf; " + r.signature.authority + ")" : "")],
        ["Good-faith statement", r.good_faith_statement || "—"],
        ["Contact", [r.contact.email, r.contact.phone, r.contact.postal].filter(Boolean).join(" · ")],
        ["Description", r.description || "—"],
        ["Locations", r.location_list.join("\n") || "—"],
        ["Hashes", r.hash_list.map((h) => h.pdq + " q" + h.quality).join("\n") || "— (no hash: locate by links)"],
        ["Copies removed", String(r.copies_removed)],
        ["Hashes banked", String(r.bank_entries)],
        ["Outcome", r.resolution || "—"],
      ]),
      el("h3", {}, "History"),
      el("ol", {}, ...r.history.map((h) => el("li", {}, fmt(h.at) + " " + h.status + " by " + h.actor + ": " + h.note))));
    if (r.removals && r.removals.length) {
      d.append(el("h3", {}, "Known copies removed"),
        el("ul", { class: "hashes" }, ...r.removals.map((x) => el("li", {}, x.sha256 + " (distance " + x.distance + ")"))));
    }
    const open = r.status === "received" || r.status === "in_review";
    if (open && state.role !== "auditor") {
      const reason = el("input", { type: "text", id: "reject-reason", "aria-label": "Reason for rejection (shown to the person)" });
      d.append(el("div", { class: "actions" },
        el("button", { type: "button", id: "accept", "data-action": "accept", "data-id": id }, "Remove + bank hashes (a)"),
        el("label", { for: "reject-reason" }, "Reason"), reason,
        el("button", { type: "button", class: "danger", id: "reject", "data-action": "reject", "data-id": id }, "Reject (r)")));
    }
    d.focus();
  }

  async function accept(id) {
    try { await api("POST", "/v1/takedown/requests/" + id + "/accept", { note: "removed" }); } catch (e) { alert(e.message); return; }
    await afterAction(id);
  }
  async function reject(id) {
    const reason = ($("reject-reason") || {}).value || "";
    if (!reason.trim()) { $("reject-reason").focus(); return; }
    try { await api("POST", "/v1/takedown/requests/" + id + "/reject", { reason }); } catch (e) { alert(e.message); return; }
    await afterAction(id);
  }
  async function afterAction(id) {
    state.busy = true;
    try { await refreshAfter(id); } finally { state.busy = false; $("queue").dataset.ready = String(Date.now()); }
  }
  async function refreshAfter(id) {
    await showTakedown(id);
    const keep = [...$("detail").childNodes];  // the nodes themselves: state and all, no re-parse
    const decided = state.index;
    await loadQueue(); await loadAlerts(); await refreshExposure();
    $("detail").replaceChildren(...keep);
    // The decided item left the queue: "j" now opens the one that took its place.
    state.index = Math.max(-1, decided - 1);
  }

  // -- cases (served when the cases library is installed) --------------------------------------
  async function blobUrl(url) {
    const res = await fetch(url, { headers: { "X-API-Key": state.key } });
    if (!res.ok) throw new Error("HTTP " + res.status);
    return URL.createObjectURL(await res.blob());
  }

  function mediaFigure(c, m) {
    // The server sends a blurred greyscale copy; the original only on an explicit reveal.
    const img = el("img", { alt: (ROLE[m.role] || "Image") + ", blurred and grey until revealed", class: "protected", id: "media-" + m.index, "data-url": m.url });
    blobUrl(m.url).then((u) => { img.src = u; }).catch(() => {});
    const t = c.thread || {};
    const levels = m.role === "parent" ? t.parent_levels : t.reply_levels;
    const caption = (m.role === "parent" ? (t.parent ? "Parent post " + t.parent : "Input image (" + (t.parent_kind || "parent") + ")") : "This case (" + c.event_id + ")") +
      (levels && levels.length ? " · nudity " + levels.map((x) => x || "unknown").join(", ") : "");
    return el("figure", { class: "media-wrap", "data-role": m.role },
      img, el("figcaption", {}, caption, " ",
        el("button", { type: "button", class: "secondary", "data-action": "reveal-one", "data-id": m.index }, "Reveal")));
  }

  function secs(t) { return Number(t).toFixed(1) + " s"; }

  function keyFrameStrip(frames) {
    // A clip's key frames, in clip order with their times: blurred and grey like a case's
    // images, each revealed on its own or with "Reveal all".
    const figs = frames.map((m) => {
      const img = el("img", { alt: "Key frame at " + secs(m.frame_at) + ", blurred and grey until revealed", class: "protected", id: "media-" + m.index, "data-url": m.url });
      blobUrl(m.url).then((u) => { img.src = u; }).catch(() => {});
      return el("figure", { class: "key-frame", "data-at": String(m.frame_at) }, img,
        el("figcaption", {}, el("time", {}, secs(m.frame_at)), " ",
          el("button", { type: "button", class: "secondary", "data-action": "reveal-one", "data-id": m.index }, "Reveal")));
    });
    return el("section", { class: "key-frames", id: "key-frames", "aria-label": "Key frames of the clip" },
      el("h3", {}, "Key frames of the clip (" + frames.length + ")"), el("div", { class: "strip" }, ...figs));
  }

  function caseSummary(c) {
    const dec = c.decision || {};
    const first = (dec.reasons || [])[0];
    return el("p", { class: "summary", id: "case-summary" },
      first ? first.message : "The policy sent this case to a person (" + c.auto_action + ").");
  }

  function clusterBox(cluster) {
    if (!cluster || cluster.count < 2) return null;
    const boxes = cluster.case_ids.map((cid) => el("label", { class: "inline" },
      el("input", { type: "checkbox", class: "cluster-case", value: cid, checked: "checked" }), " case " + cid));
    return el("div", { class: "notice cluster", id: "cluster" },
      el("strong", {}, cluster.count + " cases in this cluster"), " share " + cluster.shared.map((x) => SHARED[x] || x).join(", ") +
      "; earliest deadline " + fmt(cluster.deadline_at) + ". One decision applies to every ticked case, each with its own record and DSA statement; untick an exception to split it out.",
      el("div", { class: "cluster-cases" }, ...boxes));
  }

  function traceBlock(dec) {
    const traced = (dec.rule_trace || []).filter((t) => t.rule !== "context");
    const matched = traced.filter((t) => t.matched).map((t) => t.rule);
    const trace = el("table", { class: "trace" }, el("thead", {}, el("tr", {}, el("th", {}, "rule"), el("th", {}, "matched"), el("th", {}, "action"), el("th", {}, "detail"))));
    const tb = el("tbody");
    for (const t of traced) tb.append(el("tr", { class: t.matched ? "matched" : "" }, el("td", {}, t.matched ? el("mark", {}, t.rule) : t.rule), el("td", {}, t.matched ? "yes" : "no"), el("td", {}, t.action || ""), el("td", {}, t.detail)));
    trace.append(tb);
    return el("details", { id: "trace" }, el("summary", {}, "Rule trace (" + traced.length + " rules; matched: " + (matched.join(", ") || "none") + ")"), trace);
  }

  async function showCase(id, cluster) {
    const d = $("detail");
    let c;
    try { c = await api("GET", "/v1/cases/" + id); } catch (e) { d.textContent = e.message; return; }
    api("POST", "/v1/me/exposure", { viewed: 1 }).catch(() => {});
    state.case = c;
    state.cluster = cluster && cluster.count > 1 && cluster.case_ids.includes(c.id) ? cluster : null;
    d.textContent = "";
    d.append(el("h2", {}, "Case " + c.id + " — " + c.status), caseSummary(c),
      el("p", {}, "Review deadline " + fmt(c.deadline_at) + " · severity " + c.severity));
    const box = clusterBox(state.cluster);
    if (box) d.append(box);
    const media = c.media || [];
    const frames = media.filter((m) => m.frame_at != null).sort((a, b) => a.frame_at - b.frame_at);
    const images = media.filter((m) => m.frame_at == null);
    if (media.length) {
      if (images.length) d.append(el("div", { class: "pair", id: "pair" }, ...images.map((m) => mediaFigure(c, m))));
      if (frames.length) d.append(keyFrameStrip(frames));
      d.append(el("p", {}, el("button", { type: "button", class: "secondary", id: "reveal", "data-action": "reveal" }, "Reveal all (v)")));
    } else {
      d.append(el("p", { class: "hint" }, "No image kept for this case (hashes only)."));
    }
    const t = c.thread;
    if (t) {
      d.append(el("h3", {}, "Thread"), kv([
        ["Same person (score)", t.same_person_score != null ? Number(t.same_person_score).toFixed(2) : "not measured"],
        ["Nudity: this case / parent", (t.reply_levels || []).join(", ") + " / " + ((t.parent_levels || []).join(", ") || "—")],
        ["Request that linked them", t.request_text || "—"]]));
    }
    const dec = c.decision || {};
    if ((c.facts || []).length) {
      d.append(el("h3", {}, "What the policy saw"), el("ul", { class: "facts" }, ...c.facts.map((f) =>
        el("li", {}, el("strong", {}, f.means), ": " + f.value + " ", el("code", {}, f.fact)))));
    }
    d.append(el("h3", {}, "Reasons"), el("ul", {}, ...(dec.reasons || []).map((r) =>
      el("li", {}, r.code + ": " + r.message + (r.score != null ? " (" + (r.signal || "score") + " " + Number(r.score).toFixed(2) + ")" : "")))));
    d.append(kv([["Action in force", c.action], ["Proposed by policy", c.auto_action],
      ["Categories", (c.categories || []).join(", ") || "—"], ["Policy", c.policy || "—"],
      ["Poster", c.poster || "—"], ["Requester", c.requester || "—"],
      ["Signals unavailable", (dec.unavailable || []).join(", ") || "none"]]));
    d.append(traceBlock(dec));
    d.append(el("h3", {}, "History"), el("ol", {}, ...(c.history || []).map((h) => el("li", {}, h.at + " " + h.kind + " by " + h.actor + ": " + h.action + (h.note ? " — " + h.note : "")))));
    if ((c.appeals || []).length) {
      d.append(el("h3", {}, "Appeals"), el("ul", {}, ...c.appeals.map((a) => el("li", {}, a.status + " — " + a.appellant + ": " + a.statement))));
    }
    const open = ["pending_review", "second_review", "appealed"].includes(c.status);
    if (state.role !== "auditor" && open) {
      const sel = el("select", { id: "case-action", onchange: () => preview(c.id) }, ...c.actions.map((a) => el("option", { value: a }, a)));
      sel.value = c.auto_action === "review" ? "remove" : c.auto_action;
      const ground = el("select", { id: "case-ground", onchange: () => preview(c.id) }, el("option", { value: "" }, "(rule of the decision)"),
        ...(c.dsa_options || []).map((o) => el("option", { value: o.rule_id }, o.rule_id + " — " + o.category + (o.suggested ? " (matched)" : ""))));
      const note = el("input", { type: "text", id: "case-note" });
      const all = state.cluster && c.status !== "appealed" ? " all " + state.cluster.count : "";
      d.append(el("div", { class: "actions" },
        el("label", { for: "case-action" }, "Action"), sel,
        el("label", { for: "case-ground" }, "DSA ground"), ground,
        el("label", { for: "case-note" }, "Note"), note,
        el("button", { type: "button", id: "case-decide", "data-action": "case-decide", "data-id": c.id },
          c.status === "second_review" ? "Confirm as second reviewer" + all + " (a)" : c.status === "appealed" ? "Decide appeal (a)" : "Decide" + all + " (a)"),
        c.status === "pending_review" ? el("button", { type: "button", class: "secondary", id: "case-second", "data-action": "case-second", "data-id": c.id }, "Ask a second review") : null),
        el("h3", {}, "Statement of reasons the person will receive"),
        el("pre", { id: "statement-preview", class: "statement", "aria-live": "polite" }, "…"));
      preview(c.id);
    }
    d.focus();
  }
  async function preview(id) {
    const box = $("statement-preview");
    if (!box) return;
    const q = "?action=" + encodeURIComponent($("case-action").value) + ($("case-ground").value ? "&rule_id=" + encodeURIComponent($("case-ground").value) : "");
    try {
      const r = await api("GET", "/v1/cases/" + id + "/statement" + q);
      box.textContent = r.statement ? Object.entries(r.statement).map(([k, v]) => k + ": " + (Array.isArray(v) ? v.join(", ") : v)).join("\n")
        : "No statement: this action restricts nothing.";
    } catch (e) { box.textContent = e.message; }
  }
  async function decideCase(id) {
    const body = { action: $("case-action").value, rule_id: $("case-ground").value || null, note: $("case-note").value };
    const cl = state.cluster;
    let done = null;
    try {
      if (cl && state.case.status !== "appealed") {
        body.case_ids = [...document.querySelectorAll("#cluster .cluster-case:checked")].map((x) => Number(x.value));
        const r = await api("POST", "/v1/cases/clusters/" + cl.id + "/decisions", body);
        done = "Cluster decision: " + r.decided.length + " cases " + (r.decided[0] || {}).status + " (" + body.action + "), each with its own DSA statement" +
          (r.split_out.length ? "; split out for a decision of their own: case " + r.split_out.join(", ") : "") + ".";
      } else {
        await api("POST", "/v1/cases/" + id + "/decisions", body);
      }
    } catch (e) { $("detail").prepend(el("p", { class: "notice error", role: "alert" }, e.message)); return; }
    await afterCase(id, done);
  }
  async function secondCase(id) {
    try { await api("POST", "/v1/cases/" + id + "/second-review", { note: $("case-note").value }); }
    catch (e) { $("detail").prepend(el("p", { class: "notice error", role: "alert" }, e.message)); return; }
    await afterCase(id);
  }
  async function afterCase(id, done) {
    state.busy = true;
    try {
      const decided = state.index;
      await showCase(id);
      if (done) $("detail").prepend(el("p", { class: "notice success", id: "cluster-result", role: "status" }, done));
      const keep = [...$("detail").childNodes];
      await loadQueue(); await refreshExposure();
      $("detail").replaceChildren(...keep);
      state.index = Math.max(-1, decided - 1);
    } finally { state.busy = false; $("queue").dataset.ready = String(Date.now()); }
  }
  async function reveal(index) {
    const imgs = index === undefined ? document.querySelectorAll("#detail img.protected")
      : [$("media-" + index)].filter((x) => x && x.classList.contains("protected"));
    for (const img of imgs) {
      try {
        img.src = await blobUrl(img.dataset.url + "?reveal=true");
        img.classList.remove("protected");
      } catch (e) { /* left blurred */ }
    }
    if (imgs.length) refreshExposure();
  }

  function setTab(tab) {
    state.tab = tab;
    $("tab-takedown").setAttribute("aria-selected", String(tab === "takedown"));
    $("tab-cases").setAttribute("aria-selected", String(tab === "cases"));
    $("detail").textContent = "";
    state.index = -1;
    loadQueue();
  }

  document.addEventListener("keydown", (ev) => {
    if ($("workspace").hidden || state.busy || ev.target.matches("input, textarea, select")) return;
    if (ev.key === "j") select(Math.min(state.index + 1, state.items.length - 1));
    else if (ev.key === "k") select(Math.max(state.index - 1, 0));
    else if (ev.key === "v") reveal();
    else if (ev.key === "a") { const b = $("accept") || $("case-decide"); if (b) b.click(); }
    else if (ev.key === "r") { const i = $("reject-reason"); if (i) i.focus(); }
    else if (ev.key === "?") $("queue").focus();
    else return;
    ev.preventDefault();
  });

  async function openWhereWorkIs() {
    // the tab whose most urgent item is due first; takedown requests when both are empty
    const due = async (url, at) => {
      try { const xs = await api("GET", url); return xs.length ? at(xs[0]) : Infinity; } catch (e) { return Infinity; }
    };
    const takedown = await due("/v1/takedown/requests", (x) => Date.now() / 1000 + ((x.clock || {}).seconds_left || 0));
    const cases = await due("/v1/cases/clusters?limit=1", (x) => x.deadline_at);
    setTab(cases < takedown ? "cases" : "takedown");
  }

  async function start() {
    try { await api("GET", "/v1/me"); } catch (e) {
      $("login-error").textContent = e.message; $("login-error").hidden = false; return;
    }
    sessionStorage.setItem("gf-key", state.key);
    $("login").hidden = true; $("workspace").hidden = false; $("logout").hidden = false;
    await refreshExposure();
    if (state.role === "platform" || state.role === "public") {
      $("login-error").textContent = "This key's role cannot use the console."; $("login-error").hidden = false;
    }
    await loadAlerts();
    await openWhereWorkIs();
    setInterval(loadAlerts, 60000);
  }
  $("login").addEventListener("submit", (ev) => { ev.preventDefault(); state.key = $("api-key").value.trim(); start(); });
  $("logout").addEventListener("click", () => { sessionStorage.removeItem("gf-key"); location.reload(); });
  $("tab-takedown").addEventListener("click", () => setTab("takedown"));
  $("tab-cases").addEventListener("click", () => setTab("cases"));
  // One delegated listener for the detail pane's buttons (data-action, data-id): buttons work
  // however the pane was rebuilt or restored, with no listener to lose.
  const actions = {
    accept: (id) => accept(id), reject: (id) => reject(id), reveal: () => reveal(), "reveal-one": (i) => reveal(i),
    "case-decide": (id) => decideCase(id), "case-second": (id) => secondCase(id),
  };
  $("detail").addEventListener("click", (ev) => {
    const b = ev.target.closest("button[data-action]");
    if (b && actions[b.dataset.action]) actions[b.dataset.action](Number(b.dataset.id));
  });
  if (state.key) start();
})();
