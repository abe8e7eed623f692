"""In Chromium: a moderator works the case queue: media arrives blurred and grey, is revealed
for one item with "v" (counted), the signals' reasons and rule trace are shown, and the decision
is taken with a DSA ground from the keyboard."""

from __future__ import annotations

import base64

import pytest

from tests.browser.conftest import ADMIN_KEY, shot
from tests.test_web_cases import IMAGES, Fake

pytestmark = pytest.mark.browser


def test_moderator_works_case_queue(live_server, page) -> None:
    from gardefou.decide import Services as DecideServices

    svc = live_server.app.state.services
    svc.provide("decide", DecideServices(svc.db, extract=Fake(), banks=svc.banks()))
    api = page.request
    keys = {}
    for name, role in (("platform-b", "platform"), ("lea", "moderator")):
        keys[role] = api.post(
            f"{live_server.url}/v1/keys",
            headers={"X-API-Key": ADMIN_KEY},
            data={"name": name, "role": role},
        ).json()["key"]
    for eid, image in (("b-review", "review"), ("b-minor", "minor")):
        r = api.post(
            f"{live_server.url}/v1/decisions",
            headers={"X-API-Key": keys["platform"]},
            data={
                "id": eid,
                "kind": "post",
                "author": "someone",
                "media": [{"b64": base64.b64encode(IMAGES[image]).decode()}],
            },
        )
        assert r.status == 200, r.text()

    page.goto(live_server.url + "/console")
    page.fill("#api-key", keys["moderator"])
    page.keyboard.press("Enter")
    page.wait_for_selector("#tab-cases")
    page.click("#tab-cases")
    page.wait_for_selector("#queue li[data-id]")
    metas = page.eval_on_selector_all("#queue li .meta", "els => els.map(e => e.textContent)")
    assert "remove_escalate" in metas[0] and "review" in metas[1]  # most severe first
    page.focus("#queue")
    page.keyboard.press("j")
    page.keyboard.press("j")  # the review case
    page.wait_for_selector("#detail h2:has-text('pending_review')")
    page.wait_for_function(
        "() => document.querySelector('#detail img') && "
        "document.querySelector('#detail img').complete && "
        "document.querySelector('#detail img').naturalWidth > 0"
    )
    assert "protected" in (page.get_attribute("#detail img", "class") or "")
    assert "sexualized_real_person" in page.text_content("#detail")
    assert page.locator("table.trace tbody tr").count() > 0
    shot(page, "console-case-blurred")
    page.keyboard.press("v")
    page.wait_for_function(
        "() => !document.querySelector('#detail img').classList.contains('protected')"
    )
    page.wait_for_function(
        "() => document.querySelector('#exposure').textContent.includes('1 revealed')"
    )
    shot(page, "console-case-revealed")
    page.select_option("#case-action", "remove")
    ground = page.eval_on_selector_all("#case-ground option", "os => os.map(o => o.value)")[1]
    page.select_option("#case-ground", ground)
    page.click("#detail h2")  # leave the form fields so that shortcuts apply
    page.keyboard.press("a")
    page.wait_for_selector("#detail h2:has-text('actioned')")
    page.wait_for_function(
        "() => document.querySelector('#exposure').textContent.includes('1 decisions')"
    )
    shot(page, "console-case-decided")
    remaining = page.eval_on_selector_all("#queue li[data-id]", "els => els.length")
    assert remaining == 1
