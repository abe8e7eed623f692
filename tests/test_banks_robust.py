"""Robust matching: dihedral queries, peeling borders/banners, crop-resilient variants."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageOps

from gardefou.banks import BankService
from gardefou.banks.robust import content_box, crop_variants, query_hashes, trimmed
from gardefou.media import load_media
from gardefou.signals.pdq_core import hamming_hex, pdq_hash
from tests.conftest import shared_path


@pytest.fixture
def photo(fixtures) -> Image.Image:
    path = fixtures / "pdq" / "images" / "bridge-mods" / "aaa-orig.jpg"
    return load_media(path).oriented()


def test_border_is_peeled_exactly(photo: Image.Image) -> None:
    framed = ImageOps.expand(photo, border=30, fill=(255, 255, 255))
    box = content_box(framed, majority=0.97, bands=1)
    assert box is not None
    left, top, right, bottom = box
    # found on a copy bounded to 768 px, so within a few pixels of a 1600 px image
    assert abs(left - 30) <= 3 and abs(top - 30) <= 3
    assert abs(right - (30 + photo.width)) <= 3 and abs(bottom - (30 + photo.height)) <= 3
    inner = trimmed(framed)
    assert min(hamming_hex(pdq_hash(photo)[0], pdq_hash(i)[0]) for i in inner) <= 8


def test_caption_banner_is_peeled(photo: Image.Image) -> None:
    band = photo.height // 6
    captioned = Image.new("RGB", (photo.width, photo.height + band), "white")
    draw = ImageDraw.Draw(captioned)
    for x in range(10, photo.width - 40, 60):
        draw.rectangle((x, band // 3, x + 20, 2 * band // 3), fill="black")
    captioned.paste(photo, (0, band))
    dists = [hamming_hex(pdq_hash(photo)[0], pdq_hash(i)[0]) for i in trimmed(captioned)]
    assert dists and min(dists) <= 31


def test_plain_photo_has_nothing_to_peel(photo: Image.Image) -> None:
    assert trimmed(photo) == []


def test_query_hashes_labels(photo: Image.Image) -> None:
    hashes, quality = query_hashes(photo)
    assert quality >= 50
    assert list(hashes)[:2] == ["original", "rotate90"] and len(hashes) == 8
    framed, _ = query_hashes(ImageOps.expand(photo, border=20, fill="black"))
    assert any(k.startswith("trimmed") for k in framed)
    single, _ = query_hashes(photo, dihedral=False, trim=False)
    assert list(single) == ["original"]


def test_crop_variants_cover_centred_crops(photo: Image.Image) -> None:
    variants = crop_variants(photo)
    w, h = photo.size
    crop = photo.crop((w // 20, h // 20, w - w // 20, h - h // 20))  # central 90%
    d = min(hamming_hex(pdq_hash(crop)[0], v) for v in variants)
    assert d <= 31
    assert hamming_hex(pdq_hash(crop)[0], pdq_hash(photo)[0]) > 31  # why the variants exist


def test_reference_dihedral_images_all_match(tmp_db, tmp_path) -> None:
    folder = shared_path("data", "pdq-reference", "images", "reg-test-input", "dih")
    svc = BankService(tmp_db, index_dir=tmp_path / "idx")
    svc.create_bank("a")
    original = load_media(folder / "bridge-1-original.jpg").oriented()
    h, q = pdq_hash(original)
    entry = svc.add_entry("a", h, q)
    seen = set()
    for path in sorted(folder.glob("*.jpg")):
        hashes, quality = query_hashes(load_media(path).oriented())
        matches = svc.match(hashes, quality=quality)
        assert [m.entry_id for m in matches] == [entry.id], path.name
        seen.add(matches[0].query)
        plain = svc.match(hashes["original"])
        assert bool(plain) == (path.name == "bridge-1-original.jpg")  # why dihedral is needed
    assert len(seen) == 8


def test_quality_is_reported_for_flat_images() -> None:
    flat = Image.fromarray(np.full((64, 64, 3), 128, dtype=np.uint8))
    _, quality = query_hashes(flat)
    assert quality < 50
