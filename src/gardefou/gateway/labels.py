"""Labels on every image the gateway returns (EU AI Act Art. 50 marking).

A signed C2PA manifest with two actions: ``c2pa.created`` by the generator (IPTC digital source
type ``trainedAlgorithmicMedia``) and ``c2pa.published`` by the gateway, which checked the
request and the output before releasing it. Optionally an invisible watermark (the ``dwtDct``
scheme of ``gardefou.signals._watermark``, message ``gardefou``) that gardefou's provenance
signal detects even after the manifest has been stripped; it is written before signing, so the
manifest's hash covers the watermarked pixels.

The C2PA thumbnail is switched off for these manifests (a per-builder context, not the process
settings): it cost 80-220 ms per image against ~4 ms for the signature itself.
"""

from __future__ import annotations

import base64
import io
import json
import threading
from typing import Any

import numpy as np

from gardefou import __version__
from gardefou.errors import ConfigError
from gardefou.media.intake import sniff_format
from gardefou.signals import _watermark
from gardefou.signals.c2pa_sign import _MIME, SigningKey, _c2pa, load_signing_key
from gardefou.signals.provenance import IPTC_PREFIX

GATEWAY = "gardefou gateway"
WATERMARK_MESSAGE = "gardefou"
#: not (yet) in the C2PA soft-binding algorithm list; readers that do not know it ignore it
SOFT_BINDING_ALG = "org.gardefou.dwtdct.v1"


def manifest(generator: str, kind: str, watermarked: bool) -> dict[str, Any]:
    """The manifest definition (pure; for inspection and tests)."""
    me = {"name": GATEWAY, "version": __version__}
    actions: list[dict[str, Any]] = [
        {
            "action": "c2pa.created",
            "digitalSourceType": IPTC_PREFIX + "trainedAlgorithmicMedia",
            "softwareAgent": {"name": generator},
            "description": f"image {'edit' if kind == 'edits' else 'generation'} by {generator}",
        }
    ]
    if watermarked:
        actions.append(
            {
                "action": "c2pa.watermarked",
                "softwareAgent": me,
                "description": f"invisible watermark {WATERMARK_MESSAGE!r} (dwtDct)",
            }
        )
    actions.append(
        {
            "action": "c2pa.published",
            "softwareAgent": me,
            "description": "request and output checked by gardefou, then released",
        }
    )
    assertions: list[dict[str, Any]] = [{"label": "c2pa.actions.v2", "data": {"actions": actions}}]
    if watermarked:  # C2PA requires a soft binding to describe a watermark action
        assertions.append(
            {
                "label": "c2pa.soft-binding",
                "data": {
                    "alg": SOFT_BINDING_ALG,
                    "blocks": [{"scope": {}, "value": base64.b64encode(b"gardefou").decode()}],
                },
            }
        )
    return {"claim_generator_info": [me], "title": "AI-generated image", "assertions": assertions}


def embed_watermark(rgb: np.ndarray, bits: tuple[int, ...]) -> np.ndarray:
    """``_watermark.embed`` vectorized (same pixels; ~100x faster than its per-block loop)."""
    import cv2

    block = _watermark.BLOCK
    bgr = np.ascontiguousarray(rgb[:, :, ::-1])
    rows, cols = bgr.shape[0] // 4 * 4, bgr.shape[1] // 4 * 4
    yuv = cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV)
    u = yuv[:rows, :cols, 1].astype(np.float64)
    a, b, c, d = u[0::2, 0::2], u[0::2, 1::2], u[1::2, 0::2], u[1::2, 1::2]
    ca, h, v, dd = (
        (a + b + c + d) / 2,
        (a - b + c - d) / 2,
        (a + b - c - d) / 2,
        (a - b - c + d) / 2,
    )
    nr, nc = ca.shape[0] // block, ca.shape[1] // block
    blocks = ca[: nr * block, : nc * block].reshape(nr, block, nc, block).transpose(0, 2, 1, 3)
    flat = blocks.reshape(nr, nc, block * block).copy()
    pos = np.abs(flat[:, :, 1:]).argmax(axis=2) + 1
    val = np.take_along_axis(flat, pos[:, :, None], axis=2)[:, :, 0]
    msg = np.asarray(bits, dtype=np.float64)[np.arange(nr * nc) % len(bits)].reshape(nr, nc)
    q = (np.abs(val) // _watermark.SCALE + 0.25 + 0.5 * msg) * _watermark.SCALE
    np.put_along_axis(flat, pos[:, :, None], np.where(val >= 0, q, -q)[:, :, None], axis=2)
    ca = ca.copy()
    ca[: nr * block, : nc * block] = (
        flat.reshape(nr, nc, block, block).transpose(0, 2, 1, 3).reshape(nr * block, nc * block)
    )
    out = np.empty_like(u)
    out[0::2, 0::2] = (ca + h + v + dd) / 2
    out[0::2, 1::2] = (ca - h + v - dd) / 2
    out[1::2, 0::2] = (ca + h - v - dd) / 2
    out[1::2, 1::2] = (ca - h - v + dd) / 2
    yuv[:rows, :cols, 1] = np.clip(np.rint(out), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(cv2.cvtColor(yuv, cv2.COLOR_YUV2BGR)[:, :, ::-1])


def watermark_png(data: bytes) -> bytes:
    """The image with the gardefou watermark, as PNG (lossless: JPEG would erase the mark)."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        rgb = np.asarray(img.convert("RGB"))
    bits = _watermark.KNOWN_MESSAGES[WATERMARK_MESSAGE]
    out = io.BytesIO()
    Image.fromarray(embed_watermark(rgb, bits)).save(out, "PNG", compress_level=1)
    return out.getvalue()


class Labeller:
    """Signs images with the operator's key; one instance per gateway, safe across threads."""

    def __init__(self, key: SigningKey, generator: str, watermark: bool = False) -> None:
        self.key, self.generator, self.watermark = key, generator, watermark
        self._c2pa = _c2pa()
        self._settings = json.dumps({"builder": {"thumbnail": {"enabled": False}}})
        self._local = threading.local()
        self.label(_probe_png(), "generations")  # a bad key or chain fails at start-up

    @classmethod
    def from_files(
        cls, cert: str, key: str, alg: str, generator: str, watermark: bool = False
    ) -> Labeller:
        return cls(load_signing_key(cert, key, alg), generator, watermark)

    def _context(self) -> Any:
        ctx = getattr(self._local, "ctx", None)
        if ctx is None:
            c2pa = self._c2pa
            ctx = self._local.ctx = c2pa.Context(c2pa.Settings.from_json(self._settings))
        return ctx

    def label(self, data: bytes, kind: str) -> bytes:
        c2pa = self._c2pa
        if self.watermark:
            data = watermark_png(data)
        fmt = sniff_format(data)
        if fmt not in _MIME:
            data, fmt = _to_png(data), "PNG"
        info = c2pa.C2paSignerInfo(
            getattr(c2pa.C2paSigningAlg, self.key.alg.upper()),
            self.key.cert_chain_pem,
            self.key.private_key_pem,
            self.key.tsa_url,
        )
        try:
            signer = c2pa.Signer.from_info(info)
            builder = c2pa.Builder.from_json(
                json.dumps(manifest(self.generator, kind, self.watermark)), self._context()
            )
            out = io.BytesIO()
            builder.sign(signer, _MIME[fmt], io.BytesIO(data), out)
        except c2pa.C2paError as exc:
            raise ConfigError(
                f"C2PA signing failed ({exc}); check that the certificate chain "
                "matches the key and follows the C2PA certificate profile"
            ) from None
        return out.getvalue()


def _to_png(data: bytes) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    with Image.open(io.BytesIO(data)) as img:
        img.convert("RGB").save(out, "PNG")
    return out.getvalue()


def _probe_png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 64), (128, 128, 128)).save(out, "PNG")
    return out.getvalue()
