"""In Chromium: a clip's case shows its key frames as a strip in clip order, each with its time,
blurred and grey until revealed one by one. The clip is benign and synthetic; the signals are
recorded values that send it to review."""

from __future__ import annotations

import base64

import pytest

pytest.importorskip("av")

from gardefou import testing as T
from tests.browser.conftest import ADMIN_KEY, shot
from tests.video_support import synthetic_clip

pytestmark = pytest.mark.browser

REVIEW = [T.nudity("explicit", 0.55), T.faces(1), T.identity([T.person_embedding(1)])]


def frames_to_review(media, names):
    r = T.signal_set(*REVIEW)
    r.setdefault("pdq_dihedral", T.pdq_dihedral("0" * 64))
    return {k: v for k, v in r.items() if k in names}


def test_clip_case_shows_a_blurred_key_frame_strip_with_times(live_server, page) -> None:
    from gardefou.decide import Services as DecideServices

    svc = live_server.app.state.services
    svc.provide("decide", DecideServices(svc.db, extract=frames_to_review, banks=svc.banks()))
    api = page.request
    keys = {}
    for name, role in (("platform-v", "platform"), ("mo", "moderator")):
        keys[role] = api.post(
            f"{live_server.url}/v1/keys",
            headers={"X-API-Key": ADMIN_KEY},
            data={"name": name, "role": role},
        ).json()["key"]
    clip = synthetic_clip(seconds=4.0, fps=10, size=(160, 120), seed=9)
    r = api.post(
        f"{live_server.url}/v1/decisions",
        headers={"X-API-Key": keys["platform"]},
        data={"id": "v-1", "kind": "post", "author": "someone",
              "media": [{"b64": base64.b64encode(clip).decode()}]},
    )  # fmt: skip
    assert r.status == 200, r.text()
    case_id = r.json()["case_id"]
    assert case_id is not None, r.json()

    page.goto(live_server.url + "/console")
    page.fill("#api-key", keys["moderator"])
    page.keyboard.press("Enter")
    page.wait_for_selector("#tab-cases")
    page.click("#tab-cases")
    page.wait_for_selector(f"#queue li[data-id='{case_id}']")
    page.click(f"#queue li[data-id='{case_id}']")
    page.wait_for_selector("#key-frames figure")
    times = page.eval_on_selector_all(
        "#key-frames figure", "fs => fs.map(f => Number(f.dataset.at))"
    )
    assert 1 <= len(times) <= 4 and times == sorted(times), times
    captions = page.eval_on_selector_all("#key-frames time", "ts => ts.map(t => t.textContent)")
    assert captions == [f"{t:.1f} s" for t in times]
    page.wait_for_function(
        "() => [...document.querySelectorAll('#key-frames img')].every("
        "i => i.complete && i.naturalWidth > 0)"
    )
    classes = page.eval_on_selector_all("#key-frames img", "is => is.map(i => i.className)")
    assert all("protected" in c for c in classes), classes
    assert page.locator("#pair").count() == 0  # no image other than the frames
    shot(page, "console-clip-key-frames")
    page.click("#key-frames figure:first-child button[data-action='reveal-one']")
    page.wait_for_function(
        "() => !document.querySelector('#key-frames img').classList.contains('protected')"
    )
    left = page.eval_on_selector_all("#key-frames img.protected", "is => is.length")
    assert left == len(times) - 1
