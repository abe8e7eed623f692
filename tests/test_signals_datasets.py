"""Regression guards on the shared data sets (slow: run with `pytest -m slow`).

They pin the measured figures of the model cards so a model, threshold or pre-processing change
that worsens them fails loudly: identity TAR at 0.1% FAR on ORL, no benign photo called explicit,
face recall on ORL.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from gardefou.media import load_media
from gardefou.signals import get_signal
from gardefou.signals.identity import DEFAULT_THRESHOLD

from .conftest import shared_path

pytestmark = pytest.mark.slow


def orl_media():
    root = shared_path("data", "faces-orl")
    for d in sorted(root.glob("s*"), key=lambda p: int(p.name[1:])):
        for f in sorted(d.glob("*.pgm"), key=lambda p: int(p.stem)):
            buf = io.BytesIO()
            Image.open(f).save(buf, "PNG")
            yield int(d.name[1:]), load_media(buf.getvalue())


def test_identity_on_orl_meets_the_card():
    people, embs, found = [], [], 0
    faces, identity = get_signal("faces"), get_signal("identity")
    for person, media in orl_media():
        fs = faces.detect(media)  # type: ignore[attr-defined]
        found += bool(fs)
        embs.append(identity.embed_crop(media, fs))  # type: ignore[attr-defined]
        people.append(person)
    e, p = np.array(embs), np.array(people)
    d = np.sqrt(((e[:, None, :] - e[None, :, :]) ** 2).sum(-1))
    iu = np.triu_indices(len(p), 1)
    same = p[iu[0]] == p[iu[1]]
    dist = d[iu]
    tar = (dist[same] <= DEFAULT_THRESHOLD).mean()
    far = (dist[~same] <= DEFAULT_THRESHOLD).mean()
    assert found >= 385  # card: 390 of 400
    assert far <= 0.0015 and tar >= 0.97  # card: FAR 0.088%, TAR 98.8%


def test_no_benign_photo_is_explicit():
    nudity = get_signal("nudity")
    levels = {}
    for path in sorted(shared_path("data", "photos").glob("*/*.jpg")):
        level = nudity.extract(load_media(path), None).value
        levels[level] = levels.get(level, 0) + 1
    assert levels.get("explicit", 0) == 0
    assert levels.get("suggestive", 0) <= 3  # card: 1 (swimmers in briefs)
