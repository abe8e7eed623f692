"""In Chromium, the demo as a new moderator meets it (issue 21): the console opens on the cases
the demo filled, the first item is a cluster of two copies, its case shows the reply's image and
the parent's side by side, both blurred and grey; one image is revealed (counted); the cluster is
decided with one exception split out; the exception gets a second review."""

from __future__ import annotations

import threading
import time

import pytest

from tests.browser.conftest import ADMIN_KEY, _free_port, shot

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    import uvicorn

    from gardefou.pipeline.demo import run_demo
    from gardefou.web import Settings, create_app

    folder = tmp_path_factory.mktemp("demo")
    run_demo(folder, echo=lambda *_: None)
    app = create_app(Settings(db=str(folder / "gardefou.db"), admin_key=ADMIN_KEY))
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started:
        if time.time() > deadline:
            pytest.fail("the demo server did not start within 20 s")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", app
    server.should_exit = True
    thread.join(timeout=10)


def test_moderator_walks_the_demo(demo_server, page) -> None:
    url, app = demo_server
    key = page.request.post(
        f"{url}/v1/keys",
        headers={"X-API-Key": ADMIN_KEY},
        data={"name": "nour", "role": "moderator"},
    ).json()["key"]

    page.goto(url + "/console")
    page.fill("#api-key", key)
    page.keyboard.press("Enter")
    # the console opens where the work is: the demo filled Cases, not Takedown requests
    page.wait_for_selector("#tab-cases[aria-selected=true]")
    page.wait_for_selector("#queue li[data-id]")
    assert "Cluster of 2 cases" in page.text_content("#queue li[data-id]")

    page.focus("#queue")
    page.keyboard.press("j")
    page.wait_for_selector("#detail h2:has-text('pending_review')")
    assert page.text_content("#case-summary").strip()  # the human reason first
    roles = page.eval_on_selector_all("#pair figure", "fs => fs.map(f => f.dataset.role)")
    assert roles == ["media", "parent"]
    page.wait_for_function(
        "() => [...document.querySelectorAll('#pair img')].every(i => i.complete && "
        "i.naturalWidth > 0 && i.classList.contains('protected'))"
    )
    assert "put him in a bikini" in page.text_content("#detail")  # the request that linked them
    assert page.get_attribute("#trace", "open") is None  # the rule trace is folded
    assert page.locator("#trace mark").count() >= 1  # with the matched rule marked
    shot(page, "demo-walk-pair-blurred")

    page.click("#pair figure[data-role=parent] button[data-action=reveal-one]")
    page.wait_for_function(
        "() => !document.querySelector('#pair figure[data-role=parent] img')"
        ".classList.contains('protected')"
    )
    assert "protected" in page.get_attribute("#pair figure[data-role=media] img", "class")
    page.wait_for_function("() => document.querySelector('#exposure').textContent"
                           ".includes('1 revealed')")  # fmt: skip
    shot(page, "demo-walk-one-revealed")

    page.select_option("#case-action", "remove")
    grounds = page.eval_on_selector_all("#case-ground option", "os => os.map(o => o.value)")
    page.select_option("#case-ground", next(g for g in grounds if g))
    page.wait_for_function(
        "() => document.querySelector('#statement-preview').textContent.includes('decision_ground')"
    )
    boxes = page.eval_on_selector_all("#cluster .cluster-case", "bs => bs.map(b => b.value)")
    assert len(boxes) == 2
    exception = boxes[1]
    page.uncheck(f"#cluster .cluster-case[value='{exception}']")  # split one out
    page.click("#case-decide")
    page.wait_for_selector("#cluster-result")
    result = page.text_content("#cluster-result")
    assert "Cluster decision: 1 cases actioned" in result and f"case {exception}" in result
    shot(page, "demo-walk-cluster-decided")

    # the exception is decided on its own: here, by asking a second review
    page.wait_for_function("() => document.querySelectorAll('#queue li[data-id]').length === 1")
    page.click("#queue li[data-id]")
    page.wait_for_selector(f"#detail h2:has-text('Case {exception} — pending_review')")
    page.click("#case-second")
    page.wait_for_selector(f"#detail h2:has-text('Case {exception} — second_review')")
    shot(page, "demo-walk-second-review")

    db = app.state.services.db
    first = int(boxes[0])
    reviewed = db.query(
        "SELECT dsa_json FROM case_actions WHERE case_id = ? AND kind = 'review'", (first,)
    )
    assert len(reviewed) == 1 and "decision_ground" in reviewed[0]["dsa_json"]
    kept = db.query("SELECT event_id FROM review_media")
    decided_event = db.query_one("SELECT event_id FROM cases WHERE id = ?", (first,))["event_id"]
    assert decided_event not in {r["event_id"] for r in kept}  # purged once decided
