/* Hash the chosen files locally and list name, hex and quality (nothing is uploaded). */
(function () {
  "use strict";
  const out = document.getElementById("out");
  document.getElementById("files").addEventListener("change", async (ev) => {
    const files = Array.from(ev.target.files || []);
    out.textContent = "";
    for (const f of files) {
      const tr = document.createElement("tr");
      try {
        const r = await window.GardefouPDQ.hashBlob(f);
        for (const v of [f.name, r.hex, String(r.quality)]) {
          const td = document.createElement("td"); td.textContent = v; tr.appendChild(td);
        }
      } catch (err) {
        const td = document.createElement("td"); td.textContent = f.name + ": " + err; tr.appendChild(td);
      }
      out.appendChild(tr);
    }
    document.getElementById("done").textContent = "done " + files.length;
  });
})();
