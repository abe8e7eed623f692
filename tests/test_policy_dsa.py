"""The DSA vocabulary matches the Transparency Database spec; shipped templates validate."""

from __future__ import annotations

import json

from gardefou.policy import dsa, load_default_policy
from tests.conftest import shared_path

SIGNALS = {"nudity", "faces", "age", "identity", "provenance"}


def test_enums_match_spec():
    enums = json.loads(shared_path("spec", "dsa-sor", "enums.json").read_text(encoding="utf-8"))
    assert set(enums["DECISION_GROUNDS"]) == dsa.DECISION_GROUNDS
    assert set(enums["STATEMENT_CATEGORIES"]) == dsa.CATEGORIES
    assert set(enums["KEYWORDS"]) == dsa.KEYWORDS
    assert set(enums["CONTENT_TYPES"]) == dsa.CONTENT_TYPES
    assert set(enums["DECISION_VISIBILITIES"]) == dsa.DECISION_VISIBILITIES
    assert set(enums["DECISION_ACCOUNTS"]) == dsa.DECISION_ACCOUNTS
    assert set(enums["DECISION_PROVISIONS"]) == dsa.DECISION_PROVISIONS


def test_default_templates_valid():
    policy = load_default_policy(signals=SIGNALS)
    assert policy.dsa
    for name, t in policy.dsa.items():
        assert dsa.template_problems(t) == [], name


def test_category_keyword_map_covers_all_keywords():
    covered = frozenset().union(*dsa.CATEGORY_KEYWORDS.values())
    assert dsa.KEYWORDS - covered == dsa.UNCATEGORIZED_KEYWORDS


def test_every_restricting_default_case_exports_a_valid_statement():
    """The DSA exporter + validator (gardefou.reports.dsa) accept what the policy emits."""
    import pytest

    dsa_export = pytest.importorskip("gardefou.reports.dsa")
    from importlib import resources

    from gardefou.cli.commands_policy import load_cases
    from gardefou.policy import evaluate
    from gardefou.policy.dsa import ACTION_VISIBILITY

    policy = load_default_policy(signals=SIGNALS)
    path = resources.files("gardefou.policy").joinpath("default_cases.yaml")
    built = 0
    for i, c in enumerate(load_cases(path)):  # type: ignore[arg-type]
        signals = {n: {"available": True, **r} for n, r in (c.get("signals") or {}).items()}
        d = evaluate(policy, signals, c.get("context") or {})
        meta = dsa_export.StatementMeta(
            puid=f"case-{i}", content_date="2026-01-05", application_date="2026-01-06"
        )
        statement = dsa_export.build_statement(d, meta)  # raises on any invalid field
        assert (statement is not None) == (d.action in ACTION_VISIBILITY)
        built += statement is not None
    assert built >= 7


def test_sanction_statement_is_valid(tmp_path):
    import pytest

    dsa_export = pytest.importorskip("gardefou.reports.dsa")
    from gardefou import testing as T
    from gardefou.cases import CaseStore
    from gardefou.policy import evaluate
    from gardefou.reports.dsa_validate import validate
    from gardefou.store import connect

    policy = load_default_policy(signals=SIGNALS)
    store = CaseStore(connect(tmp_path / "d.db"), policy)
    d = evaluate(policy, T.signal_set(T.nudity("explicit", 0.95), T.faces(1)), {})
    for i in range(5):
        store.open(f"e{i}", "post", d, poster="acct")
    rec = next(s for s in store.sanctions("acct") if s.sanction == "suspend")
    fields = store.sanction_dsa_fields(rec)
    meta = dsa_export.StatementMeta(
        puid="s-1", content_date="2026-01-05", application_date="2026-01-06"
    )
    s = dsa_export.build_statement(d, meta)
    assert s is not None
    s.update({k: v for k, v in fields.items() if k.startswith(("decision_account", "end_date"))})
    assert validate(s) == []
    assert s["decision_account"] == "DECISION_ACCOUNT_SUSPENDED"


def test_one_dsa_vocabulary():
    """The enum values and length limits exist once (reports.dsa_spec); the policy's sets, the
    statement exporter and the validator read that copy instead of keeping their own."""
    from gardefou.reports import dsa as dsa_export
    from gardefou.reports import dsa_spec, dsa_validate

    assert dsa_export.ACTION_VISIBILITY is dsa.ACTION_VISIBILITY
    assert dsa_validate.MAX_LEN is dsa_spec.MAX_LEN
    assert all(dsa.MAX_LEN[k] == dsa_spec.MAX_LEN[k] for k in dsa.MAX_LEN)
    assert set(dsa.CATEGORY_KEYWORDS) == dsa.CATEGORIES
    assert set(dsa.ACTION_VISIBILITY.values()) <= dsa.DECISION_VISIBILITIES
