"""In Chromium: a person files a takedown request (hash computed in the page, the photo never
sent), sees the case number and PIN, and follows the status, in English and in French; a
moderator works the queue end to end in the console with the keyboard."""

from __future__ import annotations

import pytest

from gardefou.data import __name__ as _data_pkg  # noqa: F401 - the samples ship in the package
from tests.browser.conftest import ADMIN_KEY, shot
from tests.conftest import REPO

pytestmark = pytest.mark.browser
SAMPLE = REPO / "src" / "gardefou" / "data" / "samples" / "q0746.jpg"


def _file_request(page, url: str, name: str, lang: str = "en") -> tuple[str, str, list[str]]:
    uploads: list[str] = []
    page.on("request", lambda r: uploads.append(r.post_data or "") if r.method == "POST" else None)
    page.goto(f"{url}/portal?lang={lang}")
    page.set_input_files("#files", str(SAMPLE))
    page.wait_for_selector("#hash-list li")
    page.fill("#locations", "https://social.example/p/42")
    page.check("#goodfaith")
    page.fill("#sign-name", name)
    page.fill("#email", "person@example.org")
    shot(page, f"portal-form-{lang}")
    page.click("#submit")
    page.wait_for_selector("#receipt:not([hidden])")
    case = page.text_content("#r-case") or ""
    pin = page.text_content("#r-pin") or ""
    shot(page, f"portal-receipt-{lang}")
    return case, pin, uploads


def test_person_files_request_and_sees_status(live_server, page) -> None:
    page.goto(live_server.url + "/portal")
    page.click("button[data-lang=fr]")
    assert page.get_attribute("html", "lang") == "fr"
    assert "Déposer une demande" in page.text_content("#request-form h2")
    page.click("#submit")  # empty form: the missing element is named, focus moves to the error
    page.wait_for_selector("#form-error:not([hidden])")
    assert page.evaluate("document.activeElement.id") == "form-error"

    case, pin, uploads = _file_request(page, live_server.url, "Camille Exemple", lang="fr")
    assert case.startswith("TD-") and len(pin) == 8
    body = uploads[-1]
    assert '"pdq":"' in body and "JFIF" not in body and len(body) < 4000  # hash only, no image
    page.fill("#s-pin", pin)
    page.click("#status-btn")
    page.wait_for_selector("#status-out:not([hidden])")
    assert page.get_attribute("#o-status", "data-status") == "received"
    assert "dans les délais" in (page.text_content("#o-left") or "")
    shot(page, "portal-status-fr")
    page.once("dialog", lambda d: d.accept())  # "withdraw this request?"
    page.click("#withdraw-btn")
    page.wait_for_selector("#o-status[data-status=withdrawn]")
    assert page.is_hidden("#withdraw-btn")

    # wrong PIN: an error, no data
    page.fill("#s-pin", "00000000")
    page.click("#status-btn")
    page.wait_for_selector("#status-error:not([hidden])")


def test_portal_is_keyboard_usable(live_server, page) -> None:
    page.goto(live_server.url + "/portal?lang=en")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    labels = page.eval_on_selector_all(
        "input:not([type=radio]):not([type=checkbox]), textarea, select",
        "els => els.filter(e => !document.querySelector(`label[for='${e.id}']`)).map(e => e.id)",
    )
    assert labels == [], f"inputs without a label: {labels}"


def test_moderator_works_the_queue(live_server, page, browser) -> None:
    # two requests from people, one regulator notice through the API
    person = browser.new_context().new_page()
    case_a, pin_a, _ = _file_request(person, live_server.url, "Alex Person")
    case_b, _, _ = _file_request(person, live_server.url, "Sam Person")
    api = person.request
    r = api.post(
        f"{live_server.url}/v1/keys",
        headers={"X-API-Key": ADMIN_KEY},
        data={"name": "maria", "role": "moderator"},
    )
    mod_key = r.json()["key"]
    r = api.post(
        f"{live_server.url}/v1/takedown",
        headers={"X-API-Key": mod_key},  # a verified notice: entered by staff
        data={
            "kind": "regulator_notice",
            "issuer": "esafety_au",
            "issuer_reference": "ES-2026-1",
            "signature": {"name": "eSafety officer"},
            "locations": ["https://social.example/p/9"],
            "contact": {"email": "notices@esafety.example"},
        },
    )
    assert r.status == 201
    case_c = r.json()["case_number"]

    page.goto(live_server.url + "/console")
    page.fill("#api-key", mod_key)
    page.keyboard.press("Enter")
    page.wait_for_selector("#queue li[data-id]")
    items = page.eval_on_selector_all("#queue li strong", "els => els.map(e => e.textContent)")
    assert items[0] == case_c  # 24-hour notice first: nearest deadline
    assert set(items) >= {case_a, case_b, case_c}
    shot(page, "console-queue")

    page.keyboard.press("j")  # open the first item
    page.wait_for_selector("#detail h2")
    assert case_c in page.text_content("#detail h2")
    assert "in_review" in page.text_content("#detail h2")
    page.keyboard.press("a")  # accept: remove
    page.wait_for_selector("#detail h2:has-text('removed')")
    page.wait_for_function(f"!document.querySelector('#queue').textContent.includes('{case_c}')")
    page.wait_for_selector("#queue[data-ready]")
    shot(page, "console-removed")

    page.keyboard.press("j")  # the item that moved up to the decided one's place
    first = page.text_content("#queue li:first-child strong")
    page.wait_for_selector(f"#detail h2:has-text('{first}')")
    for _ in range(10):  # walk down with "j" to Alex's request
        if case_a in (page.text_content("#detail h2") or ""):
            break
        page.keyboard.press("j")
        page.wait_for_timeout(300)
    assert case_a in (page.text_content("#detail h2") or "")
    page.keyboard.press("r")
    assert page.evaluate("document.activeElement.id") == "reject-reason"
    page.keyboard.type("the link does not show the person")
    page.click("#reject")
    page.wait_for_selector("#detail h2:has-text('rejected')")
    page.wait_for_function(
        "document.querySelector('#exposure').textContent.includes('2 decisions')"
    )
    expo = page.text_content("#exposure") or ""
    assert "maria (moderator)" in expo and "2 decisions" in expo
    shot(page, "console-after")

    st = api.post(
        f"{live_server.url}/v1/takedown/status", data={"case_number": case_a, "pin": pin_a}
    ).json()
    assert st["status"] == "rejected" and st["resolution"].startswith("the link")


def test_console_alerts_before_and_after_a_breach(live_server, page) -> None:
    import time

    api = page.request
    key = api.post(
        f"{live_server.url}/v1/keys",
        headers={"X-API-Key": ADMIN_KEY},
        data={"name": "noor", "role": "auditor"},
    ).json()["key"]
    cases = []
    for name in ("Due Soon", "Too Late"):
        r = api.post(
            f"{live_server.url}/v1/takedown",
            data={
                "signature": {"name": name},
                "locations": ["https://social.example/p/7"],
                "good_faith_statement": "not consensual",
                "contact": {"email": "a@example.org"},
            },
        )
        cases.append(r.json()["case_number"])
    db = live_server.app.state.services.db
    now = time.time()
    for case, deadline in zip(cases, (now + 3600, now - 600), strict=True):  # 1 h left; 10 min late
        db.execute(
            "UPDATE takedown_requests SET received_at = ?, deadline_at = ? WHERE case_number = ?",
            (deadline - 48 * 3600, deadline, case),
        )
    page.goto(live_server.url + "/console")
    page.fill("#api-key", key)
    page.keyboard.press("Enter")
    page.wait_for_selector("#alerts .notice")
    banner = page.text_content("#alerts") or ""
    assert cases[0] in banner and cases[1] in banner and "1 breached" in banner
    # the console opens on the tab whose work is due first and fills its queue after the alerts
    page.wait_for_selector("#queue li strong")
    first = page.eval_on_selector_all("#queue li strong", "els => els.map(e => e.textContent)")
    assert first[:2] == [cases[1], cases[0]]  # the breached request on top
    badges = page.eval_on_selector_all("#queue li .badge", "els => els.map(e => e.textContent)")
    assert badges[:2] == ["breached", "due_soon"]
    shot(page, "console-alerts")


def test_person_protects_an_image_with_hashes_only(live_server, page) -> None:
    posted: list[str] = []
    page.on("request", lambda r: posted.append(r.post_data or "") if r.method == "POST" else None)
    page.goto(live_server.url + "/portal?lang=en")
    page.set_input_files("#p-files", str(SAMPLE))
    page.wait_for_selector("#p-hash-list li")
    page.click("#protect-btn")
    page.wait_for_selector("#p-receipt:not([hidden])")
    assert (page.text_content("#p-case") or "").startswith("GF-")
    assert len(posted) == 1 and '"pdq":"' in posted[0] and len(posted[0]) < 500
    shot(page, "portal-protect")
