"""C2PA signing helper: a signed PNG/JPEG reads back Valid with trainedAlgorithmicMedia."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from gardefou.errors import ConfigError
from gardefou.media import load_media
from gardefou.signals.c2pa_sign import (
    SigningKey,
    generate_test_key,
    load_signing_key,
    manifest_definition,
    sign_image,
    signing_key_from_env,
)
from gardefou.signals.provenance import ProvenanceSignal

from .conftest import FIXTURES

pytest.importorskip("c2pa")
pytest.importorskip("cryptography")


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return generate_test_key()


def jpeg_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 120, 200)).save(buf, "JPEG")
    return buf.getvalue()


@pytest.mark.parametrize("kind", ["png", "jpeg"])
def test_signed_image_reads_back_valid_and_ai(key, kind):
    data = (FIXTURES / "signals" / "orl-s1-1.png").read_bytes() if kind == "png" else jpeg_bytes()
    signed = sign_image(data, key, title=f"generated.{kind}")
    media = load_media(signed)
    assert media.width in (92, 64)
    r = ProvenanceSignal().extract(media)
    c = r.value["c2pa"]
    assert c["present"] and c["valid"] and c["validation_state"] == "Valid"
    assert c["digital_source_type"].endswith("/trainedAlgorithmicMedia")
    assert c["claim_generator"].startswith("gardefou/")
    assert c["failures"] == ["signingCredential.untrusted"]  # test CA is on no trust list
    assert r.value["ai_generated"] is True and r.score == 1.0


def test_other_source_type_and_definition():
    m = manifest_definition("compositeWithTrainedAlgorithmicMedia", "my-generator", "2.0", "t")
    action = m["assertions"][0]["data"]["actions"][0]
    assert action["digitalSourceType"].endswith("/compositeWithTrainedAlgorithmicMedia")
    assert m["claim_generator_info"] == [{"name": "my-generator", "version": "2.0"}]
    assert m["title"] == "t"


def test_key_files_and_env(key, tmp_path, monkeypatch):
    cert, pk = tmp_path / "chain.pem", tmp_path / "key.pem"
    cert.write_bytes(key.cert_chain_pem)
    pk.write_bytes(key.private_key_pem)
    loaded = load_signing_key(cert, pk)
    assert loaded == key and "hidden" in repr(loaded)
    monkeypatch.delenv("GARDEFOU_C2PA_CERT", raising=False)
    monkeypatch.delenv("GARDEFOU_C2PA_KEY", raising=False)
    assert signing_key_from_env() is None
    monkeypatch.setenv("GARDEFOU_C2PA_CERT", str(cert))
    with pytest.raises(ConfigError, match="set both"):
        signing_key_from_env()
    monkeypatch.setenv("GARDEFOU_C2PA_KEY", str(pk))
    assert signing_key_from_env() == key
    with pytest.raises(ConfigError, match=r"missing\.pem"):
        load_signing_key(tmp_path / "missing.pem", pk)


def test_bad_inputs(key):
    with pytest.raises(ConfigError, match="algorithm"):
        SigningKey(key.cert_chain_pem, key.private_key_pem, "md5")
    with pytest.raises(ConfigError, match="not PEM"):
        SigningKey(b"junk", key.private_key_pem)
    with pytest.raises(ConfigError, match="cannot embed"):
        sign_image(b"plain text", key)
    other = generate_test_key()
    with pytest.raises(ConfigError, match="signing failed"):
        sign_image(jpeg_bytes(), SigningKey(key.cert_chain_pem, other.private_key_pem))


@pytest.mark.parametrize("alg", ["ed25519", "es256", "ps256"])
def test_the_algorithm_follows_the_key_and_every_one_reads_back_valid(alg):
    key = generate_test_key(alg=alg)
    assert SigningKey(key.cert_chain_pem, key.private_key_pem).alg == alg
    r = ProvenanceSignal().extract(load_media(sign_image(jpeg_bytes(), key)))
    assert r.value["c2pa"]["validation_state"] == "Valid"


def test_an_algorithm_that_does_not_fit_the_key_is_refused_at_once(key):
    assert key.alg == "ed25519"  # the test keys' default: the cheapest signature
    with pytest.raises(ConfigError, match=r"'es256' does not fit the key, which signs ed25519"):
        SigningKey(key.cert_chain_pem, key.private_key_pem, "es256")


def test_one_signer_for_guard_labels_and_the_gateway(key):
    """guard.label and gateway.labels sign through C2paSigner with their own action lists."""
    from gardefou.gateway.labels import Labeller
    from gardefou.guard.label import LabelConfig, label_bytes, read_manifest
    from gardefou.signals import c2pa_sign

    calls = []
    real = c2pa_sign.C2paSigner.sign

    def spy(self, data, manifest, fmt=None):
        calls.append(manifest if isinstance(manifest, dict) else __import__("json").loads(manifest))
        return real(self, data, manifest, fmt)

    mp = pytest.MonkeyPatch()
    mp.setattr(c2pa_sign.C2paSigner, "sign", spy)
    try:
        cfg = LabelConfig(key.cert_chain_pem, key.private_key_pem, generator="gen")
        signed = label_bytes(jpeg_bytes(), "image/jpeg", cfg)
        Labeller(key, "gen").label(jpeg_bytes(), "generations")
    finally:
        mp.undo()
    labels = [[a["action"] for a in m["assertions"][0]["data"]["actions"]] for m in calls]
    assert labels[0] == ["c2pa.created"] and labels[-1] == ["c2pa.created", "c2pa.published"]
    assert all(m["assertions"][0]["label"] == "c2pa.actions.v2" for m in calls)
    store = read_manifest(signed, "image/jpeg")
    assert store["manifests"][store["active_manifest"]]["title"] == "AI-generated image"
