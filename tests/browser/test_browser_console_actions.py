"""In Chromium: the console's action buttons keep working after the detail pane is refreshed
(an action re-renders the item, then the queue reloads): one delegated listener on the pane."""

from __future__ import annotations

import base64

import pytest

from tests.browser.conftest import ADMIN_KEY
from tests.test_web_cases import IMAGES, Fake

pytestmark = pytest.mark.browser


def test_buttons_work_after_an_action_refreshed_the_pane(live_server, page) -> None:
    from gardefou.decide import Services as DecideServices

    svc = live_server.app.state.services
    svc.provide("decide", DecideServices(svc.db, extract=Fake(), banks=svc.banks()))
    api = page.request
    keys = {
        role: api.post(
            f"{live_server.url}/v1/keys",
            headers={"X-API-Key": ADMIN_KEY},
            data={"name": f"{role}-listeners", "role": role},
        ).json()["key"]
        for role in ("platform", "moderator")
    }
    r = api.post(
        f"{live_server.url}/v1/decisions",
        headers={"X-API-Key": keys["platform"]},
        data={
            "id": "listeners-review",
            "kind": "post",
            "author": "someone",
            "media": [{"b64": base64.b64encode(IMAGES["review"]).decode()}],
        },
    )
    assert r.status == 200, r.text()
    page.goto(live_server.url + "/console")
    page.fill("#api-key", keys["moderator"])
    page.keyboard.press("Enter")
    page.click("#tab-cases")
    page.wait_for_selector("#queue li[data-id]")
    page.click("#queue li[data-id]")
    page.wait_for_selector("#detail h2:has-text('pending_review')")
    page.click("#case-second")  # an action: the pane is re-rendered and the queue reloaded
    page.wait_for_selector("#detail h2:has-text('second_review')")
    page.wait_for_function("() => document.querySelector('#queue').dataset.ready")
    # the same moderator cannot be the second reviewer: the button must answer (an error
    # notice), not sit dead because its listener was lost when the pane was restored
    page.click("#case-decide")
    page.wait_for_selector("#detail .notice.error", timeout=5000)
    page.click("#reveal")
    page.wait_for_function(
        "() => !document.querySelector('#detail img').classList.contains('protected')",
        timeout=5000,
    )
