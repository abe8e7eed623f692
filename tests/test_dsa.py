"""DSA statements built from Decisions: valid, free of personal data, batched for the API, and
every decision the default policy can produce exports to a statement the validator accepts."""

from __future__ import annotations

import itertools
import json
from importlib import resources
from pathlib import Path

import pytest
import yaml

from gardefou.decision import Action, Decision, Reason, RuleTrace
from gardefou.errors import ConfigError
from gardefou.reports.dsa import (
    StatementMeta,
    batches,
    build_statement,
    opaque_puid,
    statements_from_records,
    validate,
    write_statements,
)

TEMPLATE = {
    "decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT",
    "category": "STATEMENT_CATEGORY_CYBER_VIOLENCE",
    "category_specification": ["KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE"],
    "illegal_content_legal_ground": "Directive (EU) 2024/1385, Art. 5(1)(b)",
    "illegal_content_explanation": "Sexually explicit manipulation of a real person's photo.",
    "content_type": ["CONTENT_TYPE_IMAGE"],
}


def decision(action: Action = Action.REMOVE, **dsa) -> Decision:
    return Decision(
        action=action,
        reasons=(
            Reason(
                "sexualized_edit_of_real_person",
                "Reply by @jane_doe99 to the photo of Jane Doe (jane@example.com)",
                "thread",
                0.91,
                "ncii",
            ),
        ),
        rule_trace=(
            RuleTrace("sexualized_edit_explicit", True, "matched", "remove"),
            RuleTrace("victim_bank", False, "no match"),
        ),
        dsa_fields={**TEMPLATE, **dsa},
        policy="gardefou-ncii@1",
    )


META = StatementMeta(puid="gf-5f2a9c", content_date="2026-01-05", application_date="2026-01-06")


def test_statement_is_valid_and_has_no_personal_data() -> None:
    s = build_statement(decision(), META)
    assert s is not None and validate(s) == []
    text = json.dumps(s)
    for leak in ("jane", "Jane", "@", "example.com"):
        assert leak not in text.replace("gardefou-ncii@1", "")
    assert s["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_REMOVED"]
    assert (
        s["automated_detection"] == "Yes" and s["automated_decision"] == "AUTOMATED_DECISION_FULLY"
    )
    assert "sexualized edit of a photograph" in s["decision_facts"]
    assert (
        "thread 0.91" in s["decision_facts"] and "sexualized_edit_explicit" in s["decision_facts"]
    )
    assert "victim_bank" not in s["decision_facts"]  # only rules that matched
    assert len(s["territorial_scope"]) == 30


def test_allow_and_review_need_no_statement() -> None:
    assert build_statement(decision(Action.ALLOW), META) is None
    assert build_statement(decision(Action.REVIEW), META) is None


def test_reviewed_reported_synthetic() -> None:
    meta = StatementMeta(puid="gf-1", content_date="2026-01-05", application_date="2026-01-07",
                         source_type="SOURCE_ARTICLE_16", human_reviewed=True,
                         automated_detection=False, source_identity="Notice form",
                         content_types=("CONTENT_TYPE_SYNTHETIC_MEDIA",),
                         restrictions={"decision_account": "DECISION_ACCOUNT_SUSPENDED",
                                       "end_date_account_restriction": "2026-02-07"})  # fmt: skip
    s = build_statement(decision(), meta)
    assert s is not None
    assert s["automated_decision"] == "AUTOMATED_DECISION_PARTIALLY"
    assert s["automated_detection"] == "No" and s["source_identity"] == "Notice form"
    assert s["content_type"] == ["CONTENT_TYPE_IMAGE", "CONTENT_TYPE_SYNTHETIC_MEDIA"]
    assert s["decision_account"] == "DECISION_ACCOUNT_SUSPENDED"
    voluntary = build_statement(decision(), StatementMeta("gf-2", "2026-01-05", "2026-01-05",
                                                          source_identity="x"))  # fmt: skip
    assert voluntary is not None and "source_identity" not in voluntary


def test_bad_template_or_meta_rejected_with_field_named() -> None:
    with pytest.raises(ConfigError, match=r"illegal_content_explanation.*personal data"):
        build_statement(decision(illegal_content_explanation="Reported by @victim_account"), META)
    with pytest.raises(ConfigError, match="no DSA template"):
        build_statement(Decision(Action.REMOVE, policy="p@1"), META)
    with pytest.raises(ConfigError, match="puid"):
        build_statement(decision(), StatementMeta("user jane.doe", "2026-01-05", "2026-01-05"))
    with pytest.raises(ConfigError, match="application_date"):
        build_statement(decision(), StatementMeta("gf-1", "2026-01-05", "2019-01-05"))


def test_records_with_internal_ids_get_opaque_puids(monkeypatch) -> None:
    rec = {"decision": decision().to_dict(), "id": "case-17/user-42",
           "content_date": "2026-01-05", "application_date": "2026-01-05"}  # fmt: skip
    monkeypatch.delenv("GARDEFOU_PUID_SECRET", raising=False)
    with pytest.raises(ConfigError, match="GARDEFOU_PUID_SECRET"):
        list(statements_from_records([rec]))
    (s,) = statements_from_records([rec], puid_secret="s" * 32)
    assert s["puid"] == opaque_puid("case-17/user-42", "s" * 32)
    assert "42" not in s["puid"][:5] and validate(s) == []


def test_batches_of_at_most_100(tmp_path: Path) -> None:
    metas = [StatementMeta(f"gf-{i}", "2026-01-05", "2026-01-05") for i in range(250)]
    statements = [build_statement(decision(), m) for m in metas]
    bodies = batches(statements)  # type: ignore[arg-type]
    assert [len(b["statements"]) for b in bodies] == [100, 100, 50]
    with pytest.raises(ConfigError):
        batches(statements, 101)  # type: ignore[arg-type]
    info = write_statements(tmp_path / "sor.json", statements, tmp_path / "batches")  # type: ignore[arg-type]
    assert info["statements"] == 250 and info["batches"] == 3
    assert json.loads((tmp_path / "sor.json").read_text())[0]["puid"] == "gf-0"
    with pytest.raises(ConfigError, match="twice"):
        write_statements(tmp_path / "dup.json", [statements[0], statements[0]])  # type: ignore[list-item]


# -- the default policy ----------------------------------------------------------------------------


def _policy():
    policy_mod = pytest.importorskip("gardefou.policy")
    return policy_mod, policy_mod.load_default_policy()


def test_every_default_policy_decision_exports() -> None:
    """Each restricting rule x possible final action x synthetic x who decided x notice type."""
    policy_mod, policy = _policy()
    restricting = [Action.LABEL, Action.AGE_RESTRICT, Action.REFUSE, Action.REMOVE,
                   Action.REMOVE_ESCALATE]  # fmt: skip
    n = 0
    for rule in policy.rules:
        if rule.action not in restricting:
            continue
        for synthetic, automated, source, reviewed in itertools.product(
            (False, True),
            ("AUTOMATED_DECISION_FULLY", "AUTOMATED_DECISION_PARTIALLY"),
            ("SOURCE_VOLUNTARY", "SOURCE_ARTICLE_16", "SOURCE_TRUSTED_FLAGGER",
             "SOURCE_TYPE_OTHER_NOTIFICATION"),
            (False, True),
        ):  # fmt: skip
            fields = policy_mod.dsa_fields(policy, rule, rule.action, synthetic=synthetic,
                                           automated=automated, source_type=source)  # fmt: skip
            assert fields, f"rule {rule.id} ({rule.action}) has no DSA template"
            d = Decision(rule.action, (Reason(rule.code, rule.message, None, 0.9, rule.category),),
                         (RuleTrace(rule.id, True, "matched", rule.action.value),), fields,
                         policy=policy.ref)  # fmt: skip
            meta = StatementMeta(f"gf-{n}", "2026-01-05", "2026-01-06", source_type=source,
                                 human_reviewed=reviewed,
                                 source_identity="Notice form" if reviewed else None)  # fmt: skip
            s = build_statement(d, meta)
            assert s is not None and validate(s) == [], (rule.id, s)
            if synthetic:
                assert "CONTENT_TYPE_SYNTHETIC_MEDIA" in s["content_type"]
            n += 1
    assert n >= 64


def test_default_policy_cases_export() -> None:
    """Run the policy's own labelled cases through evaluate(); every restriction exports."""
    policy_mod, policy = _policy()
    path = resources.files("gardefou.policy").joinpath("default_cases.yaml")
    cases = yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]
    exported = 0
    for i, case in enumerate(cases):
        d = policy_mod.evaluate(policy, case.get("signals") or {}, case.get("context") or {})
        s = build_statement(d, StatementMeta(f"gf-case-{i}", "2026-01-05", "2026-01-05"))
        if d.action in (Action.ALLOW, Action.REVIEW):
            assert s is None
            continue
        assert s is not None and validate(s) == [], (case["name"], s)
        exported += 1
    assert exported >= 3


def test_submit_batches_with_retry_and_rejections() -> None:
    httpx = pytest.importorskip("httpx")
    from gardefou.reports.dsa_submit import submit

    calls = []

    def handler(request):
        body = json.loads(request.content)
        calls.append(len(body["statements"]))
        assert request.headers["Authorization"] == "Bearer tok"
        if len(calls) == 1:
            return httpx.Response(429)  # rate limited once: retried
        if len(calls) == 3:  # second batch: one duplicate puid
            return httpx.Response(422, json={"errors": {"statement_4": {"puid": ["not unique"]}}})
        return httpx.Response(201, json={"statements": body["statements"]})

    metas = [StatementMeta(f"gf-{i}", "2026-01-05", "2026-01-05") for i in range(150)]
    statements = [build_statement(decision(), m) for m in metas]
    client = httpx.Client(transport=httpx.MockTransport(handler))
    res = submit(statements, "https://tdb.example/", "tok", client=client, backoff=0)  # type: ignore[arg-type]
    assert calls == [100, 100, 50]
    assert res.created == 100 and res.batches_sent == 2 and res.not_created == 50
    assert res.rejected == [{"puid": "gf-104", "errors": {"puid": ["not unique"]}}]
    with pytest.raises(ConfigError, match="GARDEFOU_DSA_TOKEN"):
        submit(statements, "https://tdb.example/", "", client=client)  # type: ignore[arg-type]


def test_unreadable_records_named() -> None:
    with pytest.raises(ConfigError, match="record 0: no readable 'decision'"):
        list(statements_from_records([{"puid": "gf-1"}]))
    with pytest.raises(ConfigError, match="record 0: no readable 'decision'"):
        list(statements_from_records([{"decision": {"action": "obliterate"}, "puid": "gf-1"}]))
    with pytest.raises(ConfigError, match="record 1"):
        list(statements_from_records([
            {"decision": decision().to_dict(), "puid": "gf-1", "content_date": "2026-01-05",
             "application_date": "2026-01-05"},
            {"decision": decision().to_dict(), "puid": "gf-2"},
        ]))  # fmt: skip
