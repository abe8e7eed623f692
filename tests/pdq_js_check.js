// Node harness for src/gardefou/web/static/pdq.js: reads a manifest of raw RGB files written by
// tests/test_web_pdq_js.py and prints one JSON line per entry with the JavaScript hash.
"use strict";
const fs = require("fs");
const path = require("path");
const pdq = require(path.resolve(__dirname, "../src/gardefou/web/static/pdq.js"));
const manifest = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const out = [];
for (const item of manifest) {
  const rgb = new Uint8Array(fs.readFileSync(item.raw));
  const r = pdq.hashPixels(rgb, item.width, item.height, 3);
  out.push({ name: item.name, hex: r.hex, quality: r.quality });
}
process.stdout.write(JSON.stringify(out));
