"""The ``decisions`` table has one owner, ``gardefou.decide.record`` (docs/architecture.md):
no other module of the package names it in SQL. Reports, the evidence job and the case view
read it through ``get_decision``, ``stored_decision_json``, ``stored_decisions`` and
``decisions_by_event``."""

from __future__ import annotations

import re
from pathlib import Path

import gardefou

SRC = Path(gardefou.__file__).parent
OWNER = SRC / "decide" / "record.py"
SQL_ON_DECISIONS = re.compile(r"\b(?:FROM|INTO|UPDATE|JOIN|TABLE)\s+decisions\b", re.IGNORECASE)


def test_only_the_owner_names_the_decisions_table_in_sql() -> None:
    found = [
        f"{p.relative_to(SRC.parent)}:{n}"
        for p in sorted(SRC.rglob("*.py"))
        if p != OWNER
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if SQL_ON_DECISIONS.search(line)
    ]
    assert found == [], "read decisions through gardefou.decide.record, not SQL: " + ", ".join(
        found
    )


def test_the_pattern_sees_the_owner_itself() -> None:
    assert SQL_ON_DECISIONS.search(OWNER.read_text(encoding="utf-8"))
