"""Provenance signal: C2PA (valid, bad signature, absent), IPTC XMP, generator hints and the
Stable Diffusion watermark decoder, on benign fixtures and the shared C2PA set."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from gardefou.media import load_media
from gardefou.signals import _watermark as W
from gardefou.signals.provenance import (
    ProvenanceSignal,
    generator_hints,
    manifest_summary,
    scan_container,
    verdict,
    xmp_facts,
)

from .conftest import FIXTURES, shared_path

SIG = FIXTURES / "signals"


@pytest.fixture(scope="module")
def prov():
    pytest.importorskip("c2pa")
    return ProvenanceSignal()


def test_valid_manifest_read_with_generator_and_assertions(prov):
    r = prov.extract(load_media(SIG / "c2pa-valid-C.jpg"))
    c = r.value["c2pa"]
    assert c["present"] and c["valid"] and c["validation_state"] == "Valid"
    assert c["claim_generator"].startswith("make_test_images/")
    assert c["signer"] == "C2PA Test Signing Cert"
    assert "c2pa.actions.v2" in c["assertions"]
    assert c["digital_source_type"].endswith("/algorithmicMedia")
    # algorithmicMedia is computer-made, not necessarily a trained model: not called AI
    assert r.value["ai_generated"] is None and "algorithmicMedia" in r.explanation
    json.dumps(r.to_dict())


def test_bad_signature_reported_invalid(prov):
    r = prov.extract(load_media(SIG / "c2pa-bad-signature-E-sig-CA.jpg"))
    c = r.value["c2pa"]
    assert c["present"] and c["valid"] is False and c["validation_state"] == "Invalid"
    assert "claimSignature.mismatch" in c["failures"]
    assert "INVALID" in r.explanation


def test_no_manifest_says_absence_proves_nothing(prov):
    r = prov.extract(load_media(SIG / "earth_apollo17.jpg"))
    assert r.value["c2pa"]["present"] is False and r.value["ai_generated"] is None
    assert r.score is None and "proves nothing" in r.explanation
    assert r.value["watermark"]["checked"] and not r.value["watermark"]["detected"]


def test_shared_c2pa_index_matches_reader_results(prov):
    root = shared_path("data", "c2pa")
    rows = list(csv.DictReader(io.StringIO((root / "index.csv").read_text())))
    assert len(rows) == 32
    for row in rows:
        c = prov.extract(load_media(root / row["file"])).value["c2pa"]
        expected = row["c2pa_python_0.38.1_reader_result"]
        where = f"{row['file']}: expected {expected}, got {c['validation_state']}"
        if expected.startswith("Valid"):
            assert c["present"] and c["valid"], where
            assert c["claim_generator"] and c["assertions"], where
            assert c["manifests"] == int(expected.split("(")[1].split()[0]), where
        elif expected.startswith("Invalid"):
            assert c["present"] and c["valid"] is False and c["validation_state"] == "Invalid", (
                where
            )
        elif expected.startswith("Error"):
            assert c["present"] and c["valid"] is False, where
            assert c["validation_state"].startswith("Error"), where
        else:  # no embedded manifest (remote references are never fetched)
            assert not c["present"], where


def test_remote_reference_is_reported_not_fetched(prov):
    root = shared_path("data", "c2pa")
    r = prov.extract(load_media(root / "remote_manifest_ref" / "cloud.jpg"))
    assert r.value["remote_manifest"].startswith("https://")
    assert "not fetched" in r.explanation
    stale = prov.extract(load_media(root / "no_manifest" / "no_manifest.jpg"))
    assert stale.value["stale_manifest_reference"].startswith("self#jumbf")


def test_ai_source_types_from_c2pa(prov):
    root = shared_path("data", "c2pa")
    firefly = prov.extract(load_media(root / "with_manifest" / "cai.jpg"))
    assert firefly.value["ai_generated"] is True and firefly.score == 1.0
    assert "trainedAlgorithmicMedia" in firefly.explanation
    capture = prov.extract(load_media(root / "with_manifest" / "C_with_CAWG_data.jpg"))
    assert capture.value["ai_generated"] is False


def test_container_walk():
    jpeg = (SIG / "c2pa-valid-C.jpg").read_bytes()
    assert scan_container(jpeg, "JPEG")["c2pa"] is True
    assert scan_container((SIG / "earth_apollo17.jpg").read_bytes(), "JPEG")["c2pa"] is False
    png = (SIG / "orl-s1-1.png").read_bytes()
    assert scan_container(png, "PNG") == {"c2pa": False, "xmp": None}
    assert scan_container(b"RIFF....WEBPjumb c2pa", "WEBP")["c2pa"] is True


XMP = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description '
       b'Iptc4xmpExt:DigitalSourceType="http://cv.iptc.org/newscodes/digitalsourcetype/'
       b'trainedAlgorithmicMedia"/></rdf:RDF></x:xmpmeta>')  # fmt: skip


def png_bytes(text: dict[str, str]) -> bytes:
    info = PngImagePlugin.PngInfo()
    for k, v in text.items():
        if k == "XML:com.adobe.xmp":
            info.add_itxt(k, v)
        else:
            info.add_text(k, v)
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (120, 90, 60)).save(buf, "PNG", pnginfo=info)
    return buf.getvalue()


def test_iptc_digital_source_type_in_xmp(prov):
    assert xmp_facts(XMP)["digital_source_type"].endswith("trainedAlgorithmicMedia")
    element = b"<Iptc4xmpExt:DigitalSourceType>http://x/y/digitalCapture</Iptc4xmpExt:Digital"
    assert xmp_facts(element)["digital_source_type"] == "http://x/y/digitalCapture"
    r = prov.extract(load_media(png_bytes({"XML:com.adobe.xmp": XMP.decode()})))
    assert r.value["iptc_digital_source_type"].endswith("trainedAlgorithmicMedia")
    assert r.value["ai_generated"] is True and r.score == 0.9


def test_generator_hints_in_png_text_and_exif(prov):
    r = prov.extract(load_media(png_bytes({"parameters": "a red barn, Steps: 20, Sampler: Euler"})))
    assert r.value["exif_generator_hints"][0]["field"] == "png:parameters"
    assert r.value["ai_generated"] is True
    img = Image.new("RGB", (8, 8))
    exif = img.getexif()
    exif[0x0131] = "Adobe Firefly Image 3"
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif)
    hints = generator_hints(Image.open(io.BytesIO(buf.getvalue())))
    assert hints == [
        {"field": "Software", "match": "adobe firefly", "text": "Adobe Firefly Image 3"}
    ]
    camera = Image.new("RGB", (8, 8))
    exif = camera.getexif()
    exif[0x0131] = "GIMP 2.10"  # an editor, not a generator; "flux" must not match "fluxion"
    exif[0x010E] = "fluxion lake"
    assert generator_hints(camera) == []


def test_verdict_rules():
    none = {"present": False}
    assert verdict(none, None, [], {})[0] is None
    bad = {"present": True, "valid": False, "digital_source_type": "x/trainedAlgorithmicMedia"}
    ai, score, why = verdict(bad, None, [], {})
    assert ai is True and score == 0.8 and "INVALID" in why
    ai, score, _ = verdict(none, None, [], {"detected": True, "message": "SDXL"})
    assert ai is True and score == 0.95


def test_manifest_summary_handles_claim_generator_info():
    store = {"active_manifest": "m", "manifests": {"m": {
        "claim_generator_info": [{"name": "gen", "version": "1"}], "assertions": [],
        "signature_info": {"common_name": "Signer"}}}}  # fmt: skip
    s = manifest_summary(store, "Trusted")
    assert s["valid"] and s["claim_generator"] == "gen/1" and s["signer"] == "Signer"


@pytest.mark.parametrize("message", sorted(W.KNOWN_MESSAGES))
def test_sd_watermark_roundtrip(message, prov):
    pytest.importorskip("cv2")
    rgb = np.asarray(load_media(SIG / "orl-s1-1.png").oriented().resize((368, 448)))
    marked = W.embed(rgb, W.KNOWN_MESSAGES[message])
    assert W.detect(rgb) == []
    found = W.detect(marked)
    assert [m.message for m in found] == [message]
    assert found[0].agreement >= 0.85 and found[0].chance <= W.MAX_CHANCE
    buf = io.BytesIO()
    Image.fromarray(marked).save(buf, "PNG")
    r = prov.extract(load_media(buf.getvalue()))
    assert r.value["watermark"]["detected"] and r.value["watermark"]["message"] == message
    assert r.value["ai_generated"] is True and "watermark" in r.explanation


def test_haar_matches_definition():
    x = np.arange(16, dtype=float).reshape(4, 4)
    assert W.haar_approx(x) == pytest.approx(np.array([[5.0, 9.0], [21.0, 25.0]]))


#: messages with a fixture written by the reference encoder ("gardefou" is written by
#: gardefou.gateway.labels only; its round trip is tested above and in test_gateway_units.py)
REFERENCE_MESSAGES = ("SDXL", "StableDiffusionV1")


@pytest.mark.parametrize("message", REFERENCE_MESSAGES)
def test_sd_watermark_from_the_reference_encoder(message, prov):
    """Fixtures written by invisible-watermark 0.2.0's own EmbedMaxDct (see SOURCE.md)."""
    pytest.importorskip("cv2")
    r = prov.extract(load_media(SIG / f"sdwm-{message}-reference.png"))
    wm = r.value["watermark"]
    assert wm["detected"] and wm["message"] == message and wm["bit_agreement"] == 1.0
    assert r.value["ai_generated"] is True


def test_compiled_votes_equal_the_numpy_decoder():
    """The numba votes are block_bits(haar_approx(u)) vote for vote (ties in flat areas too)."""
    fast = pytest.importorskip("gardefou.signals._watermark_numba", reason="numba not installed")
    pytest.importorskip("cv2")
    rng = np.random.default_rng(4)
    channels = [rng.integers(0, 256, (h, w), dtype=np.uint8) for h, w in ((64, 64), (96, 200))]
    channels += [np.full((80, 80), 128, np.uint8), np.tile(np.arange(0, 256, 2, np.uint8), (64, 1))]
    for name in REFERENCE_MESSAGES:
        rgb = np.asarray(load_media(SIG / f"sdwm-{name}-reference.png").oriented().convert("RGB"))
        channels.append(W.u_channel(rgb))
    rgb = np.asarray(load_media(SIG / "orl-s1-1.png").oriented().resize((368, 448)))
    channels.append(W.u_channel(W.embed(rgb, W.KNOWN_MESSAGES["SDXL"])))
    for u in channels:
        want = W.block_bits(W.haar_approx(u))
        got = fast.block_votes(np.ascontiguousarray(u), W.SCALE)
        assert got.dtype == np.uint8 and (got == want).all(), u.shape


def test_votes_fall_back_to_numpy_when_the_compiled_path_fails(monkeypatch):
    fast = pytest.importorskip("gardefou.signals._watermark_numba", reason="numba not installed")
    u = np.random.default_rng(6).integers(0, 256, (64, 96), dtype=np.uint8)

    def broken(*args):
        raise RuntimeError("cannot cache")

    monkeypatch.setattr(fast, "block_votes", broken)
    monkeypatch.setattr(W, "_COMPILED_OK", True)
    assert (W.votes(u) == W.block_bits(W.haar_approx(u))).all()
    assert W._COMPILED_OK is False


def test_watermark_chance_is_memoized_and_exact() -> None:
    """``_binomial_tail`` runs for every known message of every image: memoized, with the
    exact value of the sum it replaces."""
    import math

    from gardefou.signals import _watermark as wm

    for n, k in ((48, 30), (48, 48), (136, 100), (256, 128)):
        exact = sum(math.comb(n, i) for i in range(k, n + 1)) / 2.0**n
        assert wm._binomial_tail(n, k) == exact
    before = wm._binomial_tail.cache_info().hits
    wm._binomial_tail(136, 100)
    assert wm._binomial_tail.cache_info().hits == before + 1
