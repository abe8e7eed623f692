"""Bank import/export: CSV, ThreatExchange signal files, HMA JSON; all-or-nothing imports."""

from __future__ import annotations

import io
import json
import random

import pytest

from gardefou.banks import BankService
from gardefou.banks.formats import export_bank, import_file, import_text, parse
from gardefou.errors import BankError
from tests.bank_support import rand_hex


@pytest.fixture
def svc(tmp_db, tmp_path) -> BankService:
    s = BankService(tmp_db, index_dir=tmp_path / "index")
    s.create_bank("src")
    s.create_bank("dst")
    return s


def fill(svc: BankService, n: int = 5) -> list[str]:
    rng = random.Random(1)
    hashes = [rand_hex(rng) for _ in range(n)]
    for i, h in enumerate(hashes):
        svc.add_entry(
            "src",
            h,
            60 + i,
            md5=f"{i:032x}",
            source="partner",
            case_id=f"C{i}",
            note=f"note, with comma {i}",
            enabled=i != 2,
        )
    return hashes


def snapshot(svc: BankService, bank: str) -> list[tuple]:
    return [
        (e.pdq, e.quality, e.md5, e.source, e.case_id, e.note, e.enabled)
        for e in svc.list_entries(bank)
    ]


def test_csv_round_trip(svc: BankService) -> None:
    fill(svc)
    out = io.StringIO()
    assert export_bank(svc, "src", out, "csv") == 5
    report = import_text(svc, "dst", out.getvalue(), "csv")
    assert report.added == 5 and report.duplicates == 0
    assert snapshot(svc, "dst") == snapshot(svc, "src")
    again = import_text(svc, "dst", out.getvalue(), "csv")  # idempotent
    assert again.added == 0 and again.duplicates == 5


def test_hma_json_round_trip(svc: BankService) -> None:
    fill(svc)
    out = io.StringIO()
    export_bank(svc, "src", out, "hma")
    first = json.loads(out.getvalue().splitlines()[0])
    assert set(first) >= {"id", "enabled", "signals"} and "pdq" in first["signals"]
    import_text(svc, "dst", out.getvalue(), "hma")
    assert snapshot(svc, "dst") == snapshot(svc, "src")


def test_hma_json_array_and_disable_until_ts(svc: BankService) -> None:
    rng = random.Random(2)
    a, b = rand_hex(rng), rand_hex(rng)
    text = json.dumps(
        [
            {"signals": {"pdq": a}, "disable_until_ts": 0},
            {"signals": {"pdq": b}, "disable_until_ts": 1},
        ]
    )
    import_text(svc, "dst", text, "hma")
    assert [(e.pdq, e.enabled) for e in svc.list_entries("dst")] == [(a, False), (b, True)]


def test_threatexchange_file_round_trip(svc: BankService) -> None:
    hashes = fill(svc)
    out = io.StringIO()
    export_bank(svc, "src", out, "te")
    assert out.getvalue().splitlines()[0] == f"pdq {hashes[0]}"
    import_text(svc, "dst", "# comment\n\n" + out.getvalue() + hashes[0].upper() + "\n", "te")
    assert [e.pdq for e in svc.list_entries("dst")] == hashes  # bare hex line: a duplicate


def test_reference_hasher_output_without_header(svc: BankService, fixtures) -> None:
    rng = random.Random(3)
    text = f"{rand_hex(rng)},100,a.jpg\n{rand_hex(rng)},90,b.jpg\n"
    report = import_text(svc, "dst", text, "csv")
    assert report.added == 2
    assert [e.note for e in svc.list_entries("dst")] == ["a.jpg", "b.jpg"]


def test_import_file_detects_format(svc: BankService, tmp_path, fixtures) -> None:
    expected = fixtures / "pdq" / "expected.csv"  # path,pdq_hex,quality (the core fixture)
    report = import_file(svc, "dst", expected)
    assert report.added >= 1
    assert svc.list_entries("dst")[0].source == "import:expected.csv"


@pytest.mark.parametrize(
    ("text", "fmt", "message"),
    [
        ("pdq_hex,quality\n{ok},100\n{ok2},100\nnothex,100\n", "csv", "line 4: .*'nothex'"),
        ("pdq_hex,quality\n{ok},100\n{ok2},abc\n", "csv", "line 3: quality 'abc'"),
        ("pdq_hex,quality\n{ok},100\n{ok2},101\n", "csv", "line 3: quality 101"),
        ("pdq_hex,enabled\n{ok},maybe\n", "csv", "line 2: enabled value 'maybe'"),
        ("quality,note\n100,x\n", "csv", "line 1: .*no pdq_hex column"),
        ("pdq {ok}\nmd5 abc\n", "te", "line 2: md5 'abc' is not 32 hex digits"),
        ("pdq {ok}\nvideo-md5! x\n", "te", "line 2: signal type 'video-md5!'"),
        ('{{"signals": {{"pdq": "{ok}"}}}}\n{{"signals": {{}}}}\n', "hma", "line 2: no PDQ"),
        ('{{"signals": {{"pdq": "{ok}"}}, "disable_until_ts": -5}}\n', "hma", "line 1: disable"),
        ('{{"signals": {{"pdq": "{ok}"}}}}\n{{oops\n', "hma", "line 2: invalid JSON"),
    ],
)
def test_bad_row_names_its_line_and_nothing_is_imported(
    svc: BankService, text: str, fmt: str, message: str
) -> None:
    rng = random.Random(4)
    filled = text.format(ok=rand_hex(rng), ok2=rand_hex(rng))
    with pytest.raises(BankError, match=message):
        import_text(svc, "dst", filled, fmt)
    assert svc.list_entries("dst") == []


def test_low_quality_rows_are_dropped_and_reported(svc: BankService) -> None:
    rng = random.Random(5)
    text = f"pdq_hex,quality\n{rand_hex(rng)},49\n{rand_hex(rng)},50\n{rand_hex(rng)},10\n"
    report = import_text(svc, "dst", text, "csv")
    assert report.added == 1 and report.dropped_low_quality == (2, 4)


def test_failure_inside_the_transaction_rolls_back(svc: BankService, monkeypatch) -> None:
    rng = random.Random(6)
    rows = parse("".join(f"{rand_hex(rng)},100\n" for _ in range(3)), "csv")
    calls = {"n": 0}
    original = svc._insert_entry

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise BankError("disk full")
        return original(*args, **kwargs)

    monkeypatch.setattr(svc, "_insert_entry", flaky)
    with pytest.raises(BankError, match="disk full"):
        svc.add_entries("dst", rows)
    assert svc.list_entries("dst") == []


def test_unknown_format(svc: BankService) -> None:
    with pytest.raises(BankError, match="csv, te, hma"):
        parse("x", "xml")


def test_unknown_signal_types_are_kept_counted_and_exported(svc: BankService) -> None:
    rng = random.Random(7)
    a, b = rand_hex(rng), rand_hex(rng)
    vmd5 = "d41d8cd98f00b204e9800998ecf8427e"
    text = f"pdq {a}\nvideo_md5 {vmd5}\nvpdq 0,{b},100,0.0\nurl https://example.org/x\n{b}\n"
    report = import_text(svc, "dst", text, "te")
    assert report.added == 2
    assert report.other_signals == {"url": 1, "video_md5": 1, "vpdq": 1}
    assert report.to_dict()["other_signals"]["video_md5"] == 1
    again = import_text(svc, "dst", text, "te")  # idempotent: kept signals are not doubled
    assert again.added == 0 and again.other_signals == {} and again.duplicates == 5
    out = io.StringIO()
    assert export_bank(svc, "dst", out, "te") == 5
    assert f"video_md5 {vmd5}" in out.getvalue().splitlines()
    hma = io.StringIO()
    export_bank(svc, "dst", hma, "hma")
    assert import_text(svc, "src", hma.getvalue(), "hma").other_signals == {
        "url": 1,
        "video_md5": 1,
        "vpdq": 1,
    }


def test_hma_import_keeps_disable_until_note_content_id_and_metadata(svc: BankService) -> None:
    import time

    rng = random.Random(8)
    future, past, plain = rand_hex(rng), rand_hex(rng), rand_hex(rng)
    later = int(time.time()) + 86_400
    items = [
        {"id": 11, "signals": {"pdq": future}, "disable_until_ts": later, "note": "wait"},
        {"id": 12, "signals": {"pdq": past}, "disable_until_ts": 1_000_000_000},
        {
            "id": 13,
            "signals": {"pdq": plain, "video_md5": "0" * 32},
            "disable_until_ts": 1,
            "note": "from partner",
            "metadata": {
                "content_id": "1197433091",
                "content_uri": "https://example.org/c/1",
                "json": {"k": [1, 2]},
                "collab": {"STOPNCII": ["abc"]},
            },
        },
    ]
    import_text(svc, "dst", "\n".join(json.dumps(i) for i in items), "hma")
    by_pdq = {e.pdq: e for e in svc.list_entries("dst")}
    assert by_pdq[future].disabled_until == later and by_pdq[future].note == "wait"
    assert by_pdq[past].disabled_until == 1_000_000_000
    e = by_pdq[plain]
    assert e.content_id == "1197433091" and e.note == "from partner"
    assert e.metadata["json"] == {"k": [1, 2]} and e.metadata["collab"] == {"STOPNCII": ["abc"]}
    assert e.metadata["hma_id"] == 13
    matched = {m.entry_id for m in svc.match(future)} | {m.entry_id for m in svc.match(past)}
    assert matched == {by_pdq[past].id}  # disabled until tomorrow: not yet
    out = io.StringIO()
    export_bank(svc, "dst", out, "hma")
    lines = [json.loads(x) for x in out.getvalue().splitlines()]
    first = next(x for x in lines if x["signals"].get("pdq") == future)
    assert first["disable_until_ts"] == later and first["note"] == "wait"
    third = next(x for x in lines if x["signals"].get("pdq") == plain)
    assert third["metadata"]["content_id"] == "1197433091"
    assert third["metadata"]["content_uri"] == "https://example.org/c/1"
