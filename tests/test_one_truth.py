"""Each shared truth lives in one module and the others read it, so two copies cannot drift."""

from __future__ import annotations


def test_one_nudity_ranking():
    from gardefou.guard import images
    from gardefou.media import video_scan
    from gardefou.signals import nudity_levels

    assert nudity_levels.LEVEL_RANK == {"none": 0, "suggestive": 1, "explicit": 2}
    assert images.NUDITY_LEVEL is nudity_levels.LEVEL_RANK
    assert video_scan.LEVEL_RANK is nudity_levels.LEVEL_RANK
    from gardefou import thread
    from gardefou.decide import context

    assert thread.LEVEL_RANK is context.LEVEL_RANK is nudity_levels.LEVEL_RANK


#: modules that still read the wall clock themselves, and why
OWN_CLOCK = {
    "clock.py": "the one clock",
    "reports/transparency.py": "'now' in the timezone of the requests it measures",
    # owned elsewhere at the time of writing; each takes an injectable clock already
    "gateway/service.py": "gateway clock",
    "signals/c2pa_sign.py": "certificate validity window",
    "guard/label.py": "certificate validity window",
}


def test_one_clock():
    """Writers of timestamps take the time and its text form from gardefou.clock."""
    import re
    from datetime import datetime

    from gardefou import clock
    from tests.conftest import REPO

    src = REPO / "src" / "gardefou"
    readers = sorted(
        str(p.relative_to(src))
        for p in src.rglob("*.py")
        if re.search(r"datetime\.now\(|def (utc)?now\(|def _now\(", p.read_text(encoding="utf-8"))
    )
    assert [r for r in readers if r not in OWN_CLOCK] == []
    assert datetime.fromisoformat(clock.now()).utcoffset().total_seconds() == 0
    assert clock.now("seconds").endswith("+00:00") and len(clock.now("seconds")) == 25
    assert clock.now_z().endswith("Z") and len(clock.now_z()) == 27


def test_one_has_table(tmp_path):
    """Readers of optional tables ask the store (Database.has_table), not their own SQL."""
    from gardefou.evidence import from_store
    from gardefou.reports import from_store as report_store
    from gardefou.store.db import connect

    db = connect(tmp_path / "s.db")
    assert db.has_table("cases") and not db.has_table("no_such_table")
    assert not hasattr(report_store, "_has") and not hasattr(from_store, "_has")


def test_one_pdq_quality_floor():
    """The PDQ quality floor is set once (signals/pdq_core.py); the signal, the banks and the
    takedown service read it."""
    import re

    from gardefou.signals import pdq_core
    from tests.conftest import REPO

    src = REPO / "src" / "gardefou"
    setters = sorted(
        str(p.relative_to(src))
        for p in src.rglob("*.py")
        if re.search(r"^MIN_QUALITY\s*=", p.read_text(encoding="utf-8"), re.M)
    )
    assert setters == ["signals/pdq_core.py"] and pdq_core.MIN_QUALITY == 50
