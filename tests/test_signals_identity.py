"""Identity signal: compare() maths and the real dlib ResNet on benign ORL portraits."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gardefou.errors import ConfigError
from gardefou.media import load_media
from gardefou.signals.identity import (
    DEFAULT_THRESHOLD,
    EMBEDDING_NORM,
    EMBEDDING_SIZE,
    IdentitySignal,
    SameResult,
    compare,
    distances,
)

from .conftest import FIXTURES, loaded_signal

SIG = FIXTURES / "signals"


def test_compare_maths():
    a = np.zeros(EMBEDDING_SIZE)
    b = a.copy()
    b[0] = DEFAULT_THRESHOLD
    same = compare(a, a)
    assert same == SameResult(True, 0.0, same.score) and same.score > 0.99
    edge = compare(a, b)
    assert edge.same and edge.distance == pytest.approx(DEFAULT_THRESHOLD)
    assert edge.score == pytest.approx(0.5)
    b[0] = 1.0
    far = compare(list(a), list(b))
    assert not far.same and far.score < 0.01
    assert distances(a, np.stack([a, b])).tolist() == pytest.approx([0.0, 1.0])


def test_compare_rejects_bad_embeddings():
    with pytest.raises(ConfigError, match="shape"):
        compare([0.0] * 3, [0.0] * EMBEDDING_SIZE)
    with pytest.raises(ConfigError, match="non-finite"):
        compare([float("nan")] * EMBEDDING_SIZE, [0.0] * EMBEDDING_SIZE)


@pytest.fixture(scope="module")
def identity():
    return loaded_signal("identity", "dlib ResNet", IdentitySignal)


def embedding(identity, name: str) -> list[float]:
    r = identity.extract(load_media(SIG / name))
    assert len(r.value) == 1
    emb = r.value[0]["embedding"]
    assert len(emb) == EMBEDDING_SIZE
    json.dumps(r.value)
    return emb


def test_same_and_different_people(identity):
    a1, a2, b1 = (embedding(identity, n) for n in ("orl-s1-1.png", "orl-s1-2.png", "orl-s2-1.png"))
    assert compare(a1, a2).same
    assert not compare(a1, b1).same
    assert compare(a1, a2).distance < compare(a1, b1).distance


def test_no_face_no_embedding(identity):
    r = identity.extract(load_media(SIG / "earth_apollo17.jpg"))
    assert r.value == [] and r.score is None


def test_embed_array_on_cropped_face(identity):
    rgb = np.asarray(load_media(SIG / "orl-s1-1.png").oriented())
    emb = identity.embed_array(rgb)
    assert len(emb) == EMBEDDING_SIZE
    assert compare(emb, embedding(identity, "orl-s1-2.png")).same


def test_embedding_is_mirror_averaged_and_of_fixed_length(identity):
    """/5: the embedding is the mean of the network's outputs on the chip and its mirror, scaled
    to EMBEDDING_NORM (LFW TAR at FAR 0.1%: 89.5% -> 92.1%, docs/model-cards/identity.md)."""
    from gardefou.signals import get_signal

    media = load_media(SIG / "orl-s1-1.png")
    faces = get_signal("faces")
    chips = identity.chips(media, faces.detect(media))
    net = identity.model().encoder
    raw = np.asarray(net(chips), np.float64)
    mirror = np.asarray(net(np.ascontiguousarray(chips[:, :, ::-1])), np.float64)
    want = (raw + mirror) / 2
    want *= EMBEDDING_NORM / np.linalg.norm(want, axis=1, keepdims=True)
    got = np.asarray(embedding(identity, "orl-s1-1.png"))
    assert np.linalg.norm(got) == pytest.approx(EMBEDDING_NORM, abs=1e-5)
    assert got == pytest.approx(want[0], abs=1e-5)
    assert identity.version == "dlib-resnet-v1/5"


def test_a_mirrored_photo_embeds_as_the_photo(identity):
    """A mirror image is the same person: with the chip and its mirror averaged, the two
    embeddings move closer (0.175 apart with /4's raw output, 0.091 with /5; what remains comes
    from the landmarks, found anew on the mirror)."""
    from PIL import ImageOps

    img = load_media(SIG / "orl-s1-1.png").oriented().convert("RGB")
    a = identity.embed_array(np.asarray(img))
    b = identity.embed_array(np.asarray(ImageOps.mirror(img)))
    assert compare(a, b).distance < 0.12
