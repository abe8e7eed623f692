"""Labels on every image the gateway returns (EU AI Act Art. 50 marking).

A signed C2PA manifest with two actions: ``c2pa.created`` by the generator (IPTC digital source
type ``trainedAlgorithmicMedia``) and ``c2pa.published`` by the gateway, which checked the
request and the output before releasing it. Optionally an invisible watermark (the ``dwtDct``
scheme of ``gardefou.signals._watermark``, message ``gardefou``) that gardefou's provenance
signal detects even after the manifest has been stripped; it is written before signing, so the
manifest's hash covers the watermarked pixels.

Signing goes through ``gardefou.signals.c2pa_sign.C2paSigner`` (gardefou's one signer: native
signer and context made once per thread, no thumbnail).
"""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import numpy as np

from gardefou import __version__
from gardefou.media.intake import sniff_format
from gardefou.signals import _watermark
from gardefou.signals.c2pa_sign import (
    _MIME,
    C2paSigner,
    SigningKey,
    created_action,
    load_signing_key,
    manifest_definition,
)

GATEWAY = "gardefou gateway"
WATERMARK_MESSAGE = "gardefou"
#: not (yet) in the C2PA soft-binding algorithm list; readers that do not know it ignore it
SOFT_BINDING_ALG = "org.gardefou.dwtdct.v1"


def manifest(generator: str, kind: str, watermarked: bool) -> dict[str, Any]:
    """The manifest definition (pure; for inspection and tests)."""
    me = {"name": GATEWAY, "version": __version__}
    actions: list[dict[str, Any]] = [
        created_action(
            "trainedAlgorithmicMedia",
            {"name": generator},
            f"image {'edit' if kind == 'edits' else 'generation'} by {generator}",
        )
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
    soft_binding = {  # C2PA requires a soft binding to describe a watermark action
        "label": "c2pa.soft-binding",
        "data": {
            "alg": SOFT_BINDING_ALG,
            "blocks": [{"scope": {}, "value": base64.b64encode(b"gardefou").decode()}],
        },
    }
    return manifest_definition(
        claim_generator=GATEWAY,
        title="AI-generated image",
        actions=actions,
        assertions=(soft_binding,) if watermarked else (),
    )


def watermark_png(data: bytes, decoded: Any = None) -> bytes:
    """The image with the gardefou watermark, as PNG (lossless: JPEG would erase the mark).
    ``decoded``: the PIL image the output check already decoded from ``data`` (first frame,
    orientation as stored): used instead of decoding the bytes a second time."""
    from PIL import Image

    if decoded is not None:
        rgb = np.asarray(decoded.convert("RGB"))
    else:
        with Image.open(io.BytesIO(data)) as img:
            rgb = np.asarray(img.convert("RGB"))
    bits = _watermark.KNOWN_MESSAGES[WATERMARK_MESSAGE]
    out = io.BytesIO()
    Image.fromarray(_watermark.embed(rgb, bits)).save(out, "PNG", compress_level=1)
    return out.getvalue()


class Labeller:
    """Signs images with the operator's key; one instance per gateway, safe across threads.
    The manifest of each (kind, watermark) is serialized once: only the image changes."""

    def __init__(self, key: SigningKey, generator: str, watermark: bool = False) -> None:
        self.key, self.generator, self.watermark = key, generator, watermark
        self._signer = C2paSigner(key)
        self._manifests = {
            kind: json.dumps(manifest(generator, kind, watermark))
            for kind in ("generations", "edits")
        }
        self.label(_probe_png(), "generations")  # a bad key or chain fails at start-up

    @classmethod
    def from_files(
        cls, cert: str, key: str, alg: str | None, generator: str, watermark: bool = False
    ) -> Labeller:
        return cls(load_signing_key(cert, key, alg), generator, watermark)

    def label(self, data: bytes, kind: str, decoded: Any = None) -> bytes:
        """``data`` labelled; ``decoded``, the check's decode of it, spares the watermark one."""
        if self.watermark:
            data = watermark_png(data, decoded)
        fmt = sniff_format(data)
        if fmt not in _MIME:
            data, fmt = _to_png(data), "PNG"
        return self._signer.sign(data, self._manifests[kind], fmt)


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
