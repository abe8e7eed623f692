"""Provenance: C2PA manifests, IPTC/XMP DigitalSourceType, EXIF/PNG generator hints and the
Stable Diffusion invisible watermark.

Every source here is *positive-only* evidence of AI generation: metadata is stripped by most
platforms and editors, and most generators embed no watermark, so ``ai_generated`` is ``None``
(unknown) unless something says otherwise, never ``False`` because nothing was found. It is
``False`` only when a valid C2PA manifest declares a capture source (digitalCapture, ...).

A cheap container walk (JPEG segments up to SOS, PNG chunks, else a byte search) decides whether
a C2PA manifest is embedded at all, so a file without one never reaches the C2PA library (the
added cost is measured in benchmarks/signals_bench.py). Remote manifests are never fetched.
"""

from __future__ import annotations

import io
import json
import re
import struct
from collections.abc import Mapping
from typing import Any

from gardefou.errors import ModelUnavailableError
from gardefou.fact_spec import BOOL, FactSpec
from gardefou.media import Media
from gardefou.signals import _watermark
from gardefou.signals._models import oriented_array
from gardefou.signals.base import Signal, SignalResult

IPTC_PREFIX = "http://cv.iptc.org/newscodes/digitalsourcetype/"
AI_SOURCE_TYPES = frozenset({"trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia"})
#: computer-made but not necessarily by a trained model: reported, not counted as AI
SYNTHETIC_SOURCE_TYPES = frozenset({"algorithmicMedia", "compositeSynthetic", "virtualRecording"})
CAPTURE_SOURCE_TYPES = frozenset(
    {"digitalCapture", "negativeFilm", "positiveFilm", "print", "computationalCapture"}
)
#: case-insensitive patterns of generator names seen in EXIF Software/Make/Description and PNG
#: text chunks; a hit is a hint, not proof (anyone can write any string there)
GENERATOR_PATTERNS = (
    "stable diffusion",
    "stablediffusion",
    "sdxl",
    "automatic1111",
    "comfyui",
    "invokeai",
    "novelai",
    "midjourney",
    "dall-e",
    "dall·e",
    "dalle",
    "openai",
    "adobe firefly",
    "firefly",
    "imagen",
    "gemini",
    "grok",
    "aurora",
    "xai",
    "leonardo.ai",
    "ideogram",
    "flux",
    "dreamstudio",
    "runway",
    "bing image creator",
    "craiyon",
    "nightcafe",
    "playground ai",
    "fooocus",
)
#: PNG text keys that only generation front-ends write
GENERATOR_PNG_KEYS = (
    "parameters",
    "prompt",
    "workflow",
    "negative_prompt",
    "sd-metadata",
    "invokeai_metadata",
    "dream",
)
_EXIF_TEXT_TAGS = {
    0x0131: "Software",
    0x010F: "Make",
    0x0110: "Model",
    0x010E: "ImageDescription",
    0x013B: "Artist",
    0x8298: "Copyright",
}
_DST_RE = re.compile(rb"DigitalSourceType(?:>\s*|=\"|\s+rdf:resource=\")([^<\"]+)")
_PROV_RE = re.compile(rb"dcterms:provenance(?:>\s*|=\")([^<\"]+)")


# -- container walk (pure) -------------------------------------------------------------------------
def scan_container(data: bytes, fmt: str) -> dict[str, Any]:
    """{'c2pa': bool, 'xmp': bytes | None} from the file's structure without decoding pixels."""
    c2pa = False
    xmp: bytes | None = None
    if fmt == "JPEG":
        i = 2
        while i + 4 <= len(data) and data[i] == 0xFF:
            marker = data[i + 1]
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                i += 2
                continue
            if marker == 0xDA:  # start of scan: no metadata after this in practice
                break
            (length,) = struct.unpack(">H", data[i + 2 : i + 4])
            body = data[i + 4 : i + 2 + length]
            if marker == 0xEB and (b"jumb" in body[:64] or b"c2pa" in body[:128]):
                c2pa = True
            elif marker == 0xE1 and body.startswith(b"http://ns.adobe.com/xap/1.0/\x00"):
                xmp = (xmp or b"") + body
            i += 2 + length
    elif fmt == "PNG":
        i = 8
        while i + 8 <= len(data):
            (length,) = struct.unpack(">I", data[i : i + 4])
            ctype = data[i + 4 : i + 8]
            if ctype == b"caBX":
                c2pa = True
            elif ctype == b"iTXt" and data[i + 8 : i + 25] == b"XML:com.adobe.xmp":
                xmp = data[i + 8 : i + 8 + length]
            elif ctype == b"IEND":
                break
            i += 12 + length
    else:  # WebP, HEIF/AVIF, TIFF, GIF: containers differ; a byte search is still cheap
        c2pa = b"jumb" in data and b"c2pa" in data
        start = data.find(b"<x:xmpmeta")
        if start >= 0:
            xmp = data[start : data.find(b"</x:xmpmeta>", start) + 12]
    return {"c2pa": c2pa, "xmp": xmp}


def xmp_facts(xmp: bytes | None) -> dict[str, Any]:
    """IPTC DigitalSourceType and a remote-manifest reference from an XMP packet. Pure."""
    if not xmp:
        return {"digital_source_type": None, "remote_manifest": None}
    dst = _DST_RE.search(xmp)
    prov = _PROV_RE.search(xmp)
    return {
        "digital_source_type": dst.group(1).decode("utf-8", "replace").strip() if dst else None,
        "remote_manifest": prov.group(1).decode("utf-8", "replace").strip() if prov else None,
    }


def short_source_type(uri: str | None) -> str | None:
    if not uri:
        return None
    return uri.rsplit("/", 1)[-1]


def generator_hints(image: Any) -> list[dict[str, str]]:
    """Known generator names in EXIF text tags and PNG/WebP text chunks. Pure over a PIL image."""
    hints: list[dict[str, str]] = []
    try:
        exif = image.getexif()
    except Exception:  # noqa: BLE001 - broken EXIF is common and never fatal
        exif = {}
    fields = {name: str(exif.get(tag)) for tag, name in _EXIF_TEXT_TAGS.items() if exif.get(tag)}
    for key, val in (image.info or {}).items():
        if isinstance(val, str | bytes) and key not in ("exif", "icc_profile", "xmp"):
            text = val.decode("utf-8", "replace") if isinstance(val, bytes) else val
            fields[f"png:{key}"] = text
            if key.lower() in GENERATOR_PNG_KEYS:
                hints.append({"field": f"png:{key}", "match": key, "text": text[:120]})
    for field, text in fields.items():
        low = text.lower()
        for pat in GENERATOR_PATTERNS:
            if re.search(rf"(?<![a-z]){re.escape(pat)}(?![a-z])", low):
                hints.append({"field": field, "match": pat, "text": text[:120]})
                break
    return hints


# -- C2PA ------------------------------------------------------------------------------------------
_context: Any = None


def _c2pa_context() -> Any:
    global _context
    if _context is None:
        try:
            import c2pa
        except ImportError as exc:
            raise ModelUnavailableError(
                f"c2pa-python is not installed ({exc}) and this file carries a C2PA manifest; "
                "install it with `pip install 'gardefou[models]'`"
            ) from None
        settings = c2pa.Settings.from_dict(
            {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}}
        )
        _context = (c2pa, c2pa.Context(settings))
    return _context


def manifest_summary(store: Mapping[str, Any], state: str) -> dict[str, Any]:
    """The fields gardefou uses from a c2pa Reader's JSON (active manifest). Pure."""
    active = (store.get("manifests") or {}).get(store.get("active_manifest") or "", {})
    sig = active.get("signature_info") or {}
    assertions = active.get("assertions") or []
    sources = []
    for a in assertions:
        if str(a.get("label", "")).startswith("c2pa.actions"):
            for act in (a.get("data") or {}).get("actions") or []:
                if act.get("digitalSourceType"):
                    sources.append(str(act["digitalSourceType"]))
    generator = active.get("claim_generator") or " ".join(
        f"{g.get('name', '')}/{g.get('version', '')}".strip("/")
        for g in active.get("claim_generator_info") or []
    )
    return {
        "present": True,
        "valid": state in ("Valid", "Trusted"),
        "validation_state": state,
        "signer": sig.get("issuer") or sig.get("common_name"),
        "claim_generator": generator or None,
        "assertions": [str(a.get("label")) for a in assertions],
        "digital_source_type": sources[0] if sources else None,
        "manifests": len(store.get("manifests") or {}),
    }


def read_c2pa(data: bytes) -> dict[str, Any]:
    c2pa, ctx = _c2pa_context()
    try:
        reader = c2pa.Reader(None, io.BytesIO(data), context=ctx)
        try:
            store = json.loads(reader.json())
            state = str(reader.get_validation_state())
            results = reader.get_validation_results() or {}
        finally:
            reader.close()
    except Exception as exc:  # noqa: BLE001 - c2pa raises many error types; all mean "unreadable"
        return {
            "present": True,
            "valid": False,
            "validation_state": f"Error: {exc}",
            "signer": None,
            "claim_generator": None,
            "assertions": [],
            "digital_source_type": None,
        }
    summary = manifest_summary(store, state)
    failures = ((results.get("activeManifest") or {}).get("failure")) or []
    summary["failures"] = sorted({str(f.get("code")) for f in failures})
    return summary


NO_C2PA: dict[str, Any] = {
    "present": False,
    "valid": None,
    "validation_state": None,
    "signer": None,
    "claim_generator": None,
    "assertions": [],
    "digital_source_type": None,
}


# -- verdict (pure) --------------------------------------------------------------------------------
def verdict(
    c2pa: Mapping[str, Any],
    iptc: str | None,
    hints: list[dict[str, str]],
    watermark: Mapping[str, Any],
) -> tuple[bool | None, float | None, str]:
    """(ai_generated, score, explanation) from the gathered evidence."""
    said: list[tuple[float, str]] = []
    c2pa_type = short_source_type(c2pa.get("digital_source_type"))
    if c2pa.get("present") and c2pa_type in AI_SOURCE_TYPES:
        strength = 1.0 if c2pa.get("valid") else 0.8
        said.append(
            (
                strength,
                f"C2PA manifest ({'valid' if c2pa.get('valid') else 'INVALID'}) "
                f"declares {c2pa_type}",
            )
        )
    if short_source_type(iptc) in AI_SOURCE_TYPES:
        said.append((0.9, f"IPTC DigitalSourceType {short_source_type(iptc)}"))
    if watermark.get("detected"):
        said.append((0.95, f"invisible watermark {watermark.get('message')!r} (dwtDct)"))
    if hints:
        said.append((0.7, f"generator metadata {hints[0]['field']}~{hints[0]['match']!r}"))
    if said:
        return True, max(s for s, _ in said), "AI-generated: " + "; ".join(w for _, w in said)
    synthetic = [t for t in (c2pa_type, short_source_type(iptc)) if t in SYNTHETIC_SOURCE_TYPES]
    if c2pa.get("present") and c2pa.get("valid") and c2pa_type in CAPTURE_SOURCE_TYPES:
        return False, 0.9, f"valid C2PA manifest declares {c2pa_type} (a capture)"
    state = (
        "an INVALID C2PA manifest"
        if c2pa.get("present") and not c2pa.get("valid")
        else "a C2PA manifest without an AI source type"
        if c2pa.get("present")
        else "no C2PA manifest"
    )
    extra = (
        f"; declared {synthetic[0]} (computer-generated, not necessarily by a trained model)"
        if synthetic
        else ""
    )
    return (
        None,
        None,
        (
            f"unknown: {state}, no AI source type, no generator hint, no known watermark{extra}; "
            "absence of these proves nothing (metadata is easily stripped and most generators "
            "embed no watermark)"
        ),
    )


def _ai_generated(r: Any) -> bool:
    # Provenance is positive-only evidence: "no manifest" (None) is not "not generated".
    v = r.value or {}
    return v.get("ai_generated") is True


def _c2pa_present(r: Any) -> bool:
    c2pa = (r.value or {}).get("c2pa") or {}
    return bool(c2pa.get("present", bool(c2pa)))


#: the policy facts this signal provides: the registry derives the policy's fact table from them
FACTS = {
    "ai_generated": FactSpec(
        "provenance.ai_generated",
        BOOL,
        "positive evidence of AI generation (C2PA, IPTC, watermark)",
        read=_ai_generated,
    ),
    "c2pa_present": FactSpec(
        "provenance.c2pa_present", BOOL, "a C2PA manifest is present", read=_c2pa_present
    ),
}


class ProvenanceSignal(Signal):
    version = "c2pa+iptc+exif+sdwm/1"
    extra = "models"
    needs_model = False  # C2PA is loaded only when a manifest is present
    facts = FACTS

    def __init__(self, check_watermark: bool = True) -> None:
        super().__init__()
        self.check_watermark = check_watermark

    def watermark(self, media: Media) -> dict[str, Any]:
        if not self.check_watermark:
            return {"checked": False, "detected": False, "message": None}
        try:
            found = _watermark.detect(oriented_array(media))
        except ImportError:
            return {
                "checked": False,
                "detected": False,
                "message": None,
                "note": "opencv-python-headless missing: watermark not checked",
            }
        best = max(found, key=lambda m: m.agreement) if found else None
        return {
            "checked": True,
            "detected": best is not None,
            "method": "dwtDct",
            "message": best.message if best else None,
            "bit_agreement": best.agreement if best else None,
            "chance": best.chance if best else None,
        }

    def extract(self, media: Media, context: Mapping[str, Any] | None = None) -> SignalResult:
        box = scan_container(media.data, media.format)
        c2pa = read_c2pa(media.data) if box["c2pa"] else dict(NO_C2PA)
        facts = xmp_facts(box["xmp"])
        hints = generator_hints(media.image)
        wm = self.watermark(media)
        ai, score, why = verdict(c2pa, facts["digital_source_type"], hints, wm)
        value = {
            "c2pa": c2pa,
            "iptc_digital_source_type": facts["digital_source_type"],
            "exif_generator_hints": hints,
            "watermark": wm,
            "ai_generated": ai,
        }
        ref = facts["remote_manifest"]
        if ref and not c2pa["present"]:
            if ref.startswith("self#"):
                value["stale_manifest_reference"] = ref
                why += "; XMP refers to an embedded manifest that is no longer there (stripped)"
            else:
                value["remote_manifest"] = ref
                why += f"; XMP points to a remote manifest {ref} (not fetched)"
        return self.result(value, score, why)
