"""The guard's output check on a generated clip, from the library, the CLI and the web API: the
clip's sampled frames are compared with the generation's input photo (same person and more
sexualized -> refuse). Signals are recorded values (gardefou.testing); the photo is a colour
square and the clip a benign synthetic one."""

from __future__ import annotations

import base64
import io
import warnings

import pytest

pytest.importorskip("av")

from PIL import Image

from gardefou import testing as fakes
from gardefou.guard import Guard
from gardefou.guard.video import check_output_media
from tests.video_support import synthetic_clip

ALICE, BOB = fakes.person_embedding(1), fakes.person_embedding(2)


@pytest.fixture(scope="module")
def clip() -> bytes:
    return synthetic_clip(seconds=3.0, fps=10, size=(160, 120), seed=3)


@pytest.fixture(scope="module")
def photo() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 20, 30)).save(buf, "PNG")
    return buf.getvalue()


def guard(photo: bytes, frame_level: str, frame_person) -> Guard:
    """The input photo shows Alice, not sexualized; every frame of the clip shows
    ``frame_person`` at ``frame_level``."""

    def per(for_photo, for_frames):
        return fakes.FakeSignal(lambda m: for_photo if m.data == photo else for_frames)

    return Guard(
        signals={
            "faces": per(fakes.faces(1), fakes.faces(1)),
            "age": per(fakes.age(False), fakes.age(False)),
            "nudity": per(fakes.nudity("none"), fakes.nudity(frame_level, 0.8)),
            "identity": per(
                fakes.identity([ALICE]), fakes.identity([fakes.jitter(frame_person, 0.05)])
            ),
        }
    )


def test_clip_of_the_input_person_more_sexualized_is_refused(clip, photo) -> None:
    d = check_output_media(guard(photo, "suggestive", ALICE), clip, "animate her", [photo])
    assert not d.allowed
    assert d.reasons[0].code == "more_sexualized_than_input", d.reasons
    assert d.reasons[0].message.startswith("at 0.0s: ")
    assert d.dsa_fields["content_type"][0] == "CONTENT_TYPE_VIDEO"
    # the same clip showing someone else: no real person of the inputs, allowed by default
    other = check_output_media(guard(photo, "suggestive", BOB), clip, "animate", [photo])
    assert other.allowed, other.reasons
    # not sexualized: allowed
    assert check_output_media(guard(photo, "none", ALICE), clip, "animate", [photo]).allowed
    # an image output still goes through Guard.check_output
    d = check_output_media(guard(photo, "none", ALICE), photo, "edit", [photo])
    assert d.allowed and "CONTENT_TYPE_VIDEO" not in d.dsa_fields.get("content_type", [])


def test_cli_guard_output_takes_a_clip(clip, photo, tmp_path, monkeypatch) -> None:
    from click.testing import CliRunner

    import gardefou.cli.commands_guard as commands
    from gardefou.cli.main import cli

    (tmp_path / "out.mp4").write_bytes(clip)
    (tmp_path / "in.png").write_bytes(photo)
    monkeypatch.setattr(commands, "_guard", lambda *a: guard(photo, "suggestive", ALICE))
    result = CliRunner().invoke(
        cli,
        ["guard-output", str(tmp_path / "out.mp4"), "--input", str(tmp_path / "in.png"), "--json"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert '"more_sexualized_than_input"' in result.output


def test_web_guard_output_takes_a_clip(clip, photo, tmp_path) -> None:
    from tests.web_support import make_web

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    web = make_web(tmp_path)
    web.app.state.services.provide("guard", guard(photo, "suggestive", ALICE))
    client = TestClient(web.app, raise_server_exceptions=False)
    body = {
        "output": base64.b64encode(clip).decode(),
        "request": "animate her",
        "inputs": [base64.b64encode(photo).decode()],
    }
    try:
        r = client.post("/v1/guard/output", json=body, headers=web.h("platform"))
        assert r.status_code == 200, r.text
        assert r.json()["action"] == "refuse"
        assert r.json()["reasons"][0]["code"] == "more_sexualized_than_input"
        # a hostile clip is a typed error, never an allow
        from tests.video_support import mkv

        body["output"] = base64.b64encode(mkv(5000, 5000, 2, payload=b"\0" * 8)).decode()
        r = client.post("/v1/guard/output", json=body, headers=web.h("platform"))
        assert r.status_code == 413, r.text
    finally:
        web.app.state.services.db.close()
