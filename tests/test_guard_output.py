"""Guard output check, audit, CLI and C2PA labelling (signals faked; real models marked slow)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from PIL import Image

from gardefou.decision import Action
from gardefou.guard import Guard, GuardConfig
from gardefou.guard.audit import AuditLog
from gardefou.media import load_media
from gardefou.testing import (
    FakeSignal,
    age,
    faces,
    identity,
    jitter,
    nudity,
    person_embedding,
)

FIX = Path(__file__).parent / "fixtures" / "guard"


def png(color: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(buf, "PNG")
    return buf.getvalue()


INPUT, OUTPUT = png((10, 20, 30)), png((200, 100, 50))
ALICE, BOB = person_embedding(1), person_embedding(2)


def by_image(table: dict[bytes, Any]) -> FakeSignal:
    """A fake signal answering per image (keyed by the image bytes)."""
    return FakeSignal(lambda media: table[media.data])


def output_guard(out_level: str = "suggestive", in_level: str = "none", same: bool = True,
                 out_faces: int = 1, identity_ok: bool = True, nudity_ok: bool = True,
                 out_minor: bool = False) -> Guard:  # fmt: skip
    out_emb = jitter(ALICE, 0.05) if same else BOB
    return Guard(signals={
        "faces": by_image({INPUT: faces(1), OUTPUT: faces(out_faces)}),
        "age": by_image({INPUT: age(False), OUTPUT: age(out_minor)}),
        "nudity": by_image({INPUT: nudity(in_level), OUTPUT: nudity(out_level,
                                                                    available=nudity_ok)}),
        "identity": by_image({INPUT: identity([ALICE], available=identity_ok),
                              OUTPUT: identity([out_emb], available=identity_ok)}),
    })  # fmt: skip


def test_same_person_more_sexualized_refused() -> None:
    d = output_guard().check_output(OUTPUT, "make it summer", [INPUT])
    assert d.action == Action.REFUSE
    assert d.reasons[0].code == "more_sexualized_than_input"
    assert d.reasons[0].signal == "identity"


def test_same_person_already_sexualized_still_refused() -> None:
    d = output_guard("suggestive", "suggestive").check_output(OUTPUT, None, [INPUT])
    assert d.action == Action.REFUSE and d.reasons[0].code == "sexualized_real_person"


def test_other_person_sexualized_allowed_by_default() -> None:
    d = output_guard(same=False).check_output(OUTPUT, "a model at the beach", [INPUT])
    assert d.action == Action.ALLOW


def test_clean_output_allowed() -> None:
    assert output_guard("none").check_output(OUTPUT, "add a hat", [INPUT]).action == "allow"


def test_named_person_or_minor_in_request() -> None:
    g = output_guard(same=False)
    assert g.check_output(OUTPUT, "Emma Watson at the beach", [INPUT]).action == "refuse"
    assert g.check_output(OUTPUT, "a 14 year old at the beach").action == "refuse"
    d = output_guard(out_minor=True).check_output(OUTPUT, "a person", [])
    assert d.action == Action.REFUSE and d.categories == ("minor",)


@pytest.mark.parametrize("kw", [{"identity_ok": False}, {"nudity_ok": False}])
def test_output_fails_closed(kw: dict[str, bool]) -> None:
    d = output_guard(**kw).check_output(OUTPUT, "edit", [INPUT])
    assert d.action == Action.REFUSE
    assert d.reasons[0].code == "fail_closed_signal_unavailable"
    assert d.unavailable


# -- audit ---------------------------------------------------------------------------------------
def test_audit_records_refusals_without_prompt_by_default(tmp_db: Any) -> None:
    g = Guard(signals={"faces": FakeSignal(faces(1)), "age": FakeSignal(age(False))},
              audit=AuditLog(tmp_db))  # fmt: skip
    g.check_request("add a hat", [INPUT])
    g.check_request("put her in a bikini", [INPUT])
    rows = tmp_db.query("SELECT * FROM guard_audit")
    assert len(rows) == 1
    row = rows[0]
    assert row["action"] == "refuse" and row["prompt_text"] is None
    assert len(row["request_hash"]) == 64 and "ncii" in row["categories"]
    assert json.loads(row["reasons_json"])[0]["code"].startswith("sexualized_edit_of_")


def test_audit_prompt_retention_and_purge(tmp_db: Any) -> None:
    from datetime import UTC, datetime, timedelta

    log = AuditLog(tmp_db, retain_prompt_days=7)
    g = Guard(signals={"faces": FakeSignal(faces(1)), "age": FakeSignal(age(False))}, audit=log)
    g.check_request("put her in a bikini", [INPUT])
    assert log.recent()[0]["prompt_text"] == "put her in a bikini"
    assert log.purge() == 0
    assert log.purge(datetime.now(UTC) + timedelta(days=8)) == 1
    assert log.recent()[0]["prompt_text"] is None


def test_audit_rejects_bad_retention(tmp_db: Any) -> None:
    from gardefou.errors import ConfigError

    with pytest.raises(ConfigError, match="retain_prompt_days=-1"):
        AuditLog(tmp_db, retain_prompt_days=-1)


# -- CLI -------------------------------------------------------------------------------------------
def _cli(*args: str, stdin: bytes | None = None) -> Any:
    from gardefou.cli import commands_guard  # noqa: F401 - registers the commands
    from gardefou.cli.main import cli

    return CliRunner().invoke(cli, list(args), input=stdin)


def test_cli_text_only() -> None:
    r = _cli("guard", "Scarlett Johansson nude", "--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["action"] == "refuse" and d["reasons"][0]["code"] == "sexualization_of_named_person"
    r = _cli("guard", "a landscape painting of mountains")
    assert r.exit_code == 0 and r.output.startswith("ALLOW")


def test_cli_bad_input() -> None:
    r = _cli("guard", "-", stdin=b"\xff\xfenude")
    assert r.exit_code == 1 and "not valid UTF-8" in r.output
    r = _cli("guard", "add a hat", "--image", str(FIX / "SOURCE.md"))
    assert r.exit_code == 1 and "error:" in r.output


# -- C2PA labelling ------------------------------------------------------------------------------
def test_label_writes_signed_trained_algorithmic_media_manifest(tmp_path: Path) -> None:
    pytest.importorskip("c2pa")
    from gardefou.guard.label import (
        TRAINED_ALGORITHMIC_MEDIA,
        LabelConfig,
        label_file,
        make_test_certificate,
        read_manifest,
    )

    chain, key = make_test_certificate()
    dest = tmp_path / "labelled.jpg"
    info = label_file(FIX / "object-houses.jpg", dest, LabelConfig(chain, key, generator="gen"))
    assert info["digital_source_type"] == TRAINED_ALGORITHMIC_MEDIA
    store = read_manifest(dest.read_bytes(), "image/jpeg")
    active = store["manifests"][store["active_manifest"]]
    actions = [a for x in active["assertions"] if x["label"].startswith("c2pa.actions")
               for a in x["data"]["actions"]]  # fmt: skip
    assert actions[0]["digitalSourceType"] == TRAINED_ALGORITHMIC_MEDIA
    assert active["signature_info"]["common_name"] == "gardefou test signer"
    load_media(dest)  # still a valid image


def test_label_wrong_key_is_a_clear_error(tmp_path: Path) -> None:
    pytest.importorskip("c2pa")
    from gardefou.errors import ConfigError
    from gardefou.guard.label import LabelConfig, label_file, make_test_certificate

    chain, _ = make_test_certificate()
    _, other_key = make_test_certificate()
    with pytest.raises(ConfigError, match="C2PA signing failed"):
        label_file(FIX / "object-houses.jpg", tmp_path / "x.jpg", LabelConfig(chain, other_key))


# -- the real models on the bundled benign photos ------------------------------------------------
@pytest.mark.slow
def test_real_signals_portrait_and_object() -> None:
    g = Guard()
    portrait, obj = FIX / "portrait-orl-s4-1.png", FIX / "object-houses.jpg"
    d = g.check_request("put him in a speedo", [portrait])
    assert d.action == Action.REFUSE and d.reasons[0].code.startswith("sexualized_edit_of_")
    d = Guard(GuardConfig(image_signals="always")).check_request("put him in a speedo", [portrait])
    assert d.reasons[0].code == "sexualized_edit_of_real_person" and d.categories[0] == "ncii"
    assert g.check_request("put him in a tuxedo", [portrait]).action == Action.ALLOW
    assert g.check_request("make it nsfw", [obj]).action == Action.REVIEW
    # same person (s4-2), a clean output: allowed
    d = g.check_output(FIX / "portrait-orl-s4-2.png", "make him smile", [portrait])
    assert d.action == Action.ALLOW, d.reasons


def test_cli_label(tmp_path: Path) -> None:
    pytest.importorskip("c2pa")
    from gardefou.guard.label import make_test_certificate

    chain, key = make_test_certificate()
    (tmp_path / "chain.pem").write_bytes(chain)
    (tmp_path / "key.pem").write_bytes(key)
    dest = tmp_path / "out.jpg"
    r = _cli("guard-label", str(FIX / "object-houses.jpg"), str(dest),
             "--cert", str(tmp_path / "chain.pem"), "--key", str(tmp_path / "key.pem"))  # fmt: skip
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["digital_source_type"].endswith("trainedAlgorithmicMedia")
    assert dest.stat().st_size > 0
