/* Takedown portal: hashes chosen images locally (pdq.js), files the request, shows the status. */
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const T = (k) => window.I18N.t(k);
  const hashes = [];

  function fmtTime(epoch) {
    return new Date(epoch * 1000).toLocaleString(window.I18N.lang === "fr" ? "fr-FR" : "en-US");
  }
  function fmtLeft(seconds) {
    const s = Math.abs(seconds);
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    return (seconds < 0 ? "−" : "") + h + " " + T("hours") + " " + m + " " + T("minutes");
  }
  async function post(url, body) {
    const res = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(data.message || ("HTTP " + res.status));
    return data;
  }

  $("files").addEventListener("change", async (ev) => {
    const files = Array.from(ev.target.files || []);
    $("hash-status").textContent = T("hashing");
    for (const file of files) {
      try {
        const r = await window.GardefouPDQ.hashBlob(file);
        hashes.push({ pdq: r.hex, quality: r.quality });
        const li = document.createElement("li");
        li.textContent = r.hex + " — q" + r.quality + (r.quality < 50 ? " (" + T("low_quality") + ")" : "");
        li.dataset.pdq = r.hex;
        $("hash-list").appendChild(li);
      } catch (err) {
        const li = document.createElement("li");
        li.textContent = file.name + ": " + err.message;
        $("hash-list").appendChild(li);
      }
    }
    $("hash-status").textContent = hashes.length + " " + T("hash_done");
    ev.target.value = "";  // the photo itself is not kept by the page
  });

  // Protection without a takedown: hashes only, into the platform's victim bank.
  const protect = [];
  $("p-files").addEventListener("change", async (ev) => {
    for (const file of Array.from(ev.target.files || [])) {
      const li = document.createElement("li");
      try {
        const r = await window.GardefouPDQ.hashBlob(file);
        li.textContent = r.hex + " — q" + r.quality + (r.quality < 50 ? " (" + T("low_quality") + ")" : "");
        if (r.quality >= 50) protect.push({ pdq: r.hex, quality: r.quality });
      } catch (err) { li.textContent = file.name + ": " + err.message; }
      $("p-hash-list").appendChild(li);
    }
    ev.target.value = "";
    $("protect-btn").disabled = protect.length === 0;
  });
  $("protect-btn").addEventListener("click", async () => {
    $("p-error").hidden = true;
    try {
      const r = await post("/v1/submissions", { hashes: protect });
      $("p-case").textContent = r.case_number;
      $("p-pin").textContent = r.pin;
      $("p-receipt").hidden = false;
      $("protect-btn").disabled = true;
      $("p-receipt").focus();
    } catch (err) {
      $("p-error").textContent = T("error") + ": " + err.message;
      $("p-error").hidden = false;
      $("p-error").focus();
    }
  });

  document.querySelectorAll("input[name=kind]").forEach((r) => r.addEventListener("change", () => {
    $("regulator-fields").hidden = !$("kind-reg").checked;
  }));
  $("on-behalf").addEventListener("change", () => { $("authority-wrap").hidden = !$("on-behalf").checked; });
  document.querySelectorAll(".lang button").forEach((b) => b.addEventListener("click", () => window.I18N.set(b.dataset.lang)));

  $("request-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    $("form-error").hidden = true;
    const kind = $("kind-reg").checked ? "regulator_notice" : "take_it_down";
    const info = $("goodfaith-info").value.trim();
    const body = {
      kind: kind,
      lang: window.I18N.lang,
      signature: { name: $("sign-name").value, on_behalf: $("on-behalf").checked, authority: $("authority").value },
      hashes: hashes,
      locations: $("locations").value.split("\n").map((s) => s.trim()).filter(Boolean),
      description: $("description").value,
      good_faith_statement: $("goodfaith").checked ? (T("goodfaith_check") + (info ? "\n" + info : "")) : "",
      contact: { email: $("email").value.trim(), phone: $("phone").value.trim() },
      issuer: kind === "regulator_notice" ? $("issuer").value : "",
      issuer_reference: kind === "regulator_notice" ? $("issuer-ref").value : "",
    };
    $("submit").disabled = true;
    try {
      const r = await post("/v1/takedown", body);
      $("r-case").textContent = r.case_number;
      $("r-pin").textContent = r.pin;
      $("r-deadline").textContent = fmtTime(r.deadline_at) + " (" + r.window_hours + " h)";
      $("receipt").hidden = false;
      $("request-form").hidden = true;
      $("s-case").value = r.case_number;
      $("receipt").focus();
    } catch (err) {
      $("form-error").textContent = T("error") + ": " + err.message;
      $("form-error").hidden = false;
      $("form-error").focus();
    } finally {
      $("submit").disabled = false;
    }
  });

  function showStatus(s) {
    $("o-case").textContent = s.case_number;
    $("o-status").textContent = T("st." + s.status);
    $("o-status").dataset.status = s.status;
    $("o-deadline").textContent = fmtTime(s.deadline_at);
    $("o-left").textContent = fmtLeft(s.clock.seconds_left) + " — " + T("clock." + s.clock.state);
    $("o-left").className = "state-" + s.clock.state;
    $("o-copies").textContent = String(s.copies_removed);
    $("o-resolution").textContent = s.resolution || "—";
    const ol = $("o-history");
    ol.textContent = "";
    for (const h of s.history) {
      const li = document.createElement("li");
      li.textContent = fmtTime(h.at) + " — " + T("st." + h.status);
      ol.appendChild(li);
    }
    $("withdraw-btn").hidden = !(s.status === "received" || s.status === "in_review");
    $("status-out").hidden = false;
  }
  const creds = () => ({ case_number: $("s-case").value.trim(), pin: $("s-pin").value.trim() });

  $("withdraw-btn").addEventListener("click", async () => {
    if (!window.confirm(T("withdraw_confirm"))) return;
    try { showStatus(await post("/v1/takedown/withdraw", creds())); }
    catch (err) { $("status-error").textContent = err.message; $("status-error").hidden = false; }
  });

  $("status-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    $("status-error").hidden = true;
    try {
      const s = await post("/v1/takedown/status", creds());
      showStatus(s);
    } catch (err) {
      $("status-error").textContent = err.message;
      $("status-error").hidden = false;
    }
  });

  window.I18N.apply();
})();
