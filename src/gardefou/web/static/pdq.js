/*
 * PDQ perceptual hash in plain JavaScript, bit-exact with the reference C++ file hasher
 * (facebook/ThreatExchange pdq/cpp) and with gardefou.signals.pdq_core.
 *
 * Runs in the browser (window.GardefouPDQ) and in Node (module.exports) so that the same file is
 * tested against the reference vectors in both. The person's photo is decoded and hashed locally;
 * only the 64-hex-digit hash and the quality leave the page.
 *
 * Bit-exactness rests on doing every arithmetic step in IEEE single precision, as the reference
 * does with `float`: every product, sum and quotient is rounded with Math.fround (a double result
 * of one operation on two floats, rounded once to float, equals the float operation).
 *
 * Steps: (1) if either side exceeds 512 px, nearest-neighbour downsample to 512x512 taking source
 * row floor(i*H/512) and column floor(j*W/512) (the file hasher's CImg resize); (2) RGB -> luma
 * 0.299 R + 0.587 G + 0.114 B; (3) two passes of a Jarosz box "tent" filter along rows then
 * columns; (4) decimate to 64x64 sampling cell centres; (5) quality from 64x64 gradients;
 * (6) 16x16 of the 64x64 DCT-II (rows 1..16); (7) bit k = i*16+j set when the coefficient is
 * above the median (the 128th smallest of 256).
 */
(function (root, factory) {
  "use strict";
  const api = factory();
  if (typeof module === "object" && module.exports) {
    module.exports = api;
  } else {
    root.GardefouPDQ = api;
  }
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  const f = Math.fround;
  const DOWNSAMPLE = 512;
  const MIN_HASHABLE_DIM = 5;
  const MAX_PIXELS = 100000000; // as gardefou's intake: larger is treated as a decompression bomb
  const LUMA_R = f(0.299);
  const LUMA_G = f(0.587);
  const LUMA_B = f(0.114);

  // 16 x 64 DCT-II basis rows 1..16, stored as float like the reference's table.
  const DCT = (function () {
    const table = new Float32Array(16 * 64);
    const scale = f(Math.sqrt(2.0 / 64));
    const step = Math.PI / 2.0 / 64;
    for (let i = 0; i < 16; i++) {
      for (let j = 0; j < 64; j++) {
        table[i * 64 + j] = scale * Math.cos(step * (i + 1) * (2 * j + 1));
      }
    }
    return table;
  })();

  /** Nearest-neighbour 512x512 resample of RGBA pixels when a side exceeds 512 px. */
  function referenceResize(rgba, width, height) {
    if (width <= DOWNSAMPLE && height <= DOWNSAMPLE) {
      return { rgba: rgba, width: width, height: height };
    }
    const out = new Uint8ClampedArray(DOWNSAMPLE * DOWNSAMPLE * 4);
    const cols = new Int32Array(DOWNSAMPLE);
    for (let j = 0; j < DOWNSAMPLE; j++) cols[j] = Math.floor((j * width) / DOWNSAMPLE);
    for (let i = 0; i < DOWNSAMPLE; i++) {
      const srcRow = Math.floor((i * height) / DOWNSAMPLE) * width;
      for (let j = 0; j < DOWNSAMPLE; j++) {
        const s = (srcRow + cols[j]) * 4;
        const d = (i * DOWNSAMPLE + j) * 4;
        out[d] = rgba[s];
        out[d + 1] = rgba[s + 1];
        out[d + 2] = rgba[s + 2];
        out[d + 3] = 255;
      }
    }
    return { rgba: out, width: DOWNSAMPLE, height: DOWNSAMPLE };
  }

  function lumaFromRGBA(rgba, width, height, channels) {
    const n = width * height;
    const luma = new Float32Array(n);
    for (let p = 0, s = 0; p < n; p++, s += channels) {
      luma[p] = f(f(f(LUMA_R * rgba[s]) + f(LUMA_G * rgba[s + 1])) + f(LUMA_B * rgba[s + 2]));
    }
    return luma;
  }

  function windowSize(oldDim, newDim) {
    return Math.floor((oldDim + 2 * newDim - 1) / (2 * newDim));
  }

  // One-dimensional box filter of the given width, with shrinking windows at both ends.
  function box1D(input, output, start, length, stride, fullWindow) {
    const half = Math.floor((fullWindow + 2) / 2);
    const phase1 = half - 1;
    const phase2 = fullWindow - half + 1;
    const phase3 = length - fullWindow;
    const phase4 = half - 1;
    let li = start;
    let ri = start;
    let oi = start;
    let sum = 0;
    let count = 0;
    for (let i = 0; i < phase1; i++) {
      sum = f(sum + input[ri]);
      count++;
      ri += stride;
    }
    for (let i = 0; i < phase2; i++) {
      sum = f(sum + input[ri]);
      count++;
      output[oi] = f(sum / count);
      ri += stride;
      oi += stride;
    }
    for (let i = 0; i < phase3; i++) {
      sum = f(sum + input[ri]);
      sum = f(sum - input[li]);
      output[oi] = f(sum / count);
      li += stride;
      ri += stride;
      oi += stride;
    }
    for (let i = 0; i < phase4; i++) {
      sum = f(sum - input[li]);
      count--;
      output[oi] = f(sum / count);
      li += stride;
      oi += stride;
    }
  }

  function jarosz(buf1, buf2, rows, cols, winAlongRows, winAlongCols, passes) {
    for (let p = 0; p < passes; p++) {
      for (let i = 0; i < rows; i++) box1D(buf1, buf2, i * cols, cols, 1, winAlongRows);
      for (let j = 0; j < cols; j++) box1D(buf2, buf1, j, rows, cols, winAlongCols);
    }
  }

  function decimate(input, rows, cols) {
    const out = new Float32Array(64 * 64);
    for (let i = 0; i < 64; i++) {
      const ini = Math.trunc(((i + 0.5) * rows) / 64);
      for (let j = 0; j < 64; j++) {
        const inj = Math.trunc(((j + 0.5) * cols) / 64);
        out[i * 64 + j] = input[ini * cols + inj];
      }
    }
    return out;
  }

  function quality(b) {
    let sum = 0;
    for (let i = 0; i < 63; i++) {
      for (let j = 0; j < 64; j++) {
        const d = f(f(f(b[i * 64 + j] - b[(i + 1) * 64 + j]) * 100) / 255);
        sum += Math.abs(Math.trunc(d));
      }
    }
    for (let i = 0; i < 64; i++) {
      for (let j = 0; j < 63; j++) {
        const d = f(f(f(b[i * 64 + j] - b[i * 64 + j + 1]) * 100) / 255);
        sum += Math.abs(Math.trunc(d));
      }
    }
    return Math.min(100, Math.trunc(sum / 90));
  }

  function dct16(a) {
    const t = new Float32Array(16 * 64);
    for (let i = 0; i < 16; i++) {
      for (let j = 0; j < 64; j++) {
        let s = 0;
        for (let k = 0; k < 64; k++) s = f(s + f(DCT[i * 64 + k] * a[k * 64 + j]));
        t[i * 64 + j] = s;
      }
    }
    const b = new Float32Array(256);
    for (let i = 0; i < 16; i++) {
      for (let j = 0; j < 16; j++) {
        let s = 0;
        for (let k = 0; k < 64; k++) s = f(s + f(t[i * 64 + k] * DCT[j * 64 + k]));
        b[i * 16 + j] = s;
      }
    }
    return b;
  }

  function bitsToHex(coeffs) {
    const sorted = Float32Array.from(coeffs).sort();
    const median = sorted[127];
    // Bit k is worth 2^k; the hex string is the 256-bit number, most significant digit first.
    let hex = "";
    for (let nibble = 63; nibble >= 0; nibble--) {
      let v = 0;
      for (let b = 3; b >= 0; b--) {
        v = (v << 1) | (coeffs[nibble * 4 + b] > median ? 1 : 0);
      }
      hex += v.toString(16);
    }
    return hex;
  }

  /**
   * Hash decoded pixels. `pixels` holds `channels` bytes per pixel (4 for canvas RGBA, 3 for RGB),
   * row-major, as stored in the file (no EXIF rotation). Returns {hex, quality}.
   */
  function hashPixels(pixels, width, height, channels) {
    channels = channels || 4;
    let img = { rgba: pixels, width: width, height: height };
    if (width > DOWNSAMPLE || height > DOWNSAMPLE) {
      img = channels === 4 ? referenceResize(pixels, width, height)
                           : referenceResize(toRGBA(pixels, width, height), width, height);
      channels = 4;
    }
    if (img.width < MIN_HASHABLE_DIM || img.height < MIN_HASHABLE_DIM) {
      return { hex: "0".repeat(64), quality: 0 };
    }
    const rows = img.height;
    const cols = img.width;
    const buf1 = lumaFromRGBA(img.rgba, cols, rows, channels);
    let block;
    if (rows === 64 && cols === 64) {
      block = buf1;
    } else {
      const buf2 = new Float32Array(rows * cols);
      jarosz(buf1, buf2, rows, cols, windowSize(cols, 64), windowSize(rows, 64), 2);
      block = decimate(buf1, rows, cols);
    }
    const q = quality(block);
    return { hex: bitsToHex(dct16(block)), quality: q };
  }

  function toRGBA(rgb, width, height) {
    const out = new Uint8ClampedArray(width * height * 4);
    for (let p = 0; p < width * height; p++) {
      out[p * 4] = rgb[p * 3];
      out[p * 4 + 1] = rgb[p * 3 + 1];
      out[p * 4 + 2] = rgb[p * 3 + 2];
      out[p * 4 + 3] = 255;
    }
    return out;
  }

  /** Hamming distance between two 64-digit hex hashes. */
  function hamming(a, b) {
    let d = 0;
    for (let i = 0; i < 64; i++) {
      let x = parseInt(a[i], 16) ^ parseInt(b[i], 16);
      while (x) {
        d += x & 1;
        x >>= 1;
      }
    }
    return d;
  }

  /**
   * Browser only: decode a File/Blob locally and hash it. EXIF orientation and colour profiles are
   * ignored, as the reference does; nothing is uploaded.
   */
  /**
   * Copy of JPEG bytes whose EXIF Orientation tag (0x0112 in IFD0) is reset to 1. Browsers now
   * apply EXIF orientation even with imageOrientation "none"; the reference hashes the pixels as
   * stored, so the tag is neutralized before decoding. Returns null when there is nothing to do.
   */
  function withoutExifOrientation(buf) {
    const b = new Uint8Array(buf);
    if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return null;
    let p = 2;
    while (p + 4 <= b.length && b[p] === 0xff) {
      const marker = b[p + 1];
      const len = (b[p + 2] << 8) | b[p + 3];
      if (marker === 0xda || marker === 0xd9) break;  // start of scan: no more metadata
      const exif = p + 4;
      if (marker === 0xe1 && b[exif] === 0x45 && b[exif + 1] === 0x78 && b[exif + 2] === 0x69 &&
          b[exif + 3] === 0x66 && b[exif + 4] === 0 && b[exif + 5] === 0) {
        const t = exif + 6;  // TIFF header
        const le = b[t] === 0x49;
        const u16 = (o) => le ? b[o] | (b[o + 1] << 8) : (b[o] << 8) | b[o + 1];
        const u32 = (o) => le ? (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0
                              : ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
        const ifd = t + u32(t + 4);
        if (ifd + 2 > b.length) return null;
        const n = u16(ifd);
        for (let i = 0; i < n; i++) {
          const e = ifd + 2 + i * 12;
          if (e + 12 > b.length) return null;
          if (u16(e) === 0x0112) {
            if (u16(e + 8) === 1) return null;
            const copy = b.slice();
            copy[e + 8] = le ? 1 : 0;
            copy[e + 9] = le ? 0 : 1;
            return copy;
          }
        }
        return null;
      }
      p += 2 + len;
    }
    return null;
  }

  async function hashBlob(blob) {
    const fixed = withoutExifOrientation(await blob.arrayBuffer());
    if (fixed) blob = new Blob([fixed], { type: blob.type || "image/jpeg" });
    const bitmap = await createImageBitmap(blob, {
      colorSpaceConversion: "none",
      imageOrientation: "none",
      premultiplyAlpha: "none",
    });
    const width = bitmap.width;
    const height = bitmap.height;
    if (width * height > MAX_PIXELS) {
      if (bitmap.close) bitmap.close();
      throw new Error("image too large to hash here: " + width + "x" + height + " px (limit 100 MP)");
    }
    let ctx;
    if (typeof OffscreenCanvas !== "undefined") {
      ctx = new OffscreenCanvas(width, height).getContext("2d", { willReadFrequently: true });
    } else {
      const canvas = document.createElement("canvas");
      canvas.width = width;
      canvas.height = height;
      ctx = canvas.getContext("2d", { willReadFrequently: true });
    }
    // Transparent pixels are composited on white, as gardefou's server-side intake does, so
    // that a PNG hashed here and the same PNG uploaded to the platform give the same hash.
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, width, height);
    ctx.drawImage(bitmap, 0, 0);
    if (bitmap.close) bitmap.close();
    const data = ctx.getImageData(0, 0, width, height).data;
    const result = hashPixels(data, width, height, 4);
    result.width = width;
    result.height = height;
    return result;
  }

  return { hashPixels: hashPixels, hashBlob: hashBlob, hamming: hamming, DOWNSAMPLE: DOWNSAMPLE };
});
