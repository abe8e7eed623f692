# ruff: noqa: E501  (one row per official rule reads best unwrapped)
"""The shipped DSA validator: one case per official validation rule (StatementStoreRequest),
each rejected with the field named; the official examples accepted."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from gardefou.reports import dsa_spec
from gardefou.reports.dsa import personal_data_problems, validate
from tests.conftest import shared_path

BASE: dict[str, Any] = {
    "decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"],
    "decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT",
    "illegal_content_legal_ground": "Directive (EU) 2024/1385, Art. 5",
    "illegal_content_explanation": "Sexually explicit manipulation of a real person's photo.",
    "content_type": ["CONTENT_TYPE_IMAGE", "CONTENT_TYPE_SYNTHETIC_MEDIA"],
    "category": "STATEMENT_CATEGORY_CYBER_VIOLENCE",
    "category_specification": ["KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE"],
    "territorial_scope": ["DE", "FR"],
    "content_date": "2026-01-05",
    "application_date": "2026-01-05",
    "decision_facts": "Reason code: sexualized_edit_of_real_person.",
    "source_type": "SOURCE_VOLUNTARY",
    "automated_detection": "Yes",
    "automated_decision": "AUTOMATED_DECISION_FULLY",
    "puid": "gf-0123abcd",
}
INCOMPATIBLE = {**{k: v for k, v in BASE.items() if not k.startswith("illegal_")},
                "decision_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
                "incompatible_content_ground": "Terms of service 4.2",
                "incompatible_content_explanation": "Sexualized edit of a real person.",
                "incompatible_content_illegal": "Yes"}  # fmt: skip
DROP = object()


def fields(statement: dict[str, Any]) -> set[str]:
    return {e.field for e in validate(statement)}


def test_base_statements_valid() -> None:
    assert validate(BASE) == []
    assert validate(INCOMPATIBLE) == []


# (case id, base, changes, field that must be named)
RULES: list[tuple[str, dict[str, Any], dict[str, Any], str]] = [
    # required fields
    *[(f"required-{f}", BASE, {f: DROP}, f) for f in (
        "decision_ground", "content_type", "category", "content_date", "application_date",
        "decision_facts", "source_type", "automated_detection", "automated_decision", "puid")],
    ("required-empty-string", BASE, {"decision_facts": ""}, "decision_facts"),
    ("required-empty-array", BASE, {"content_type": []}, "content_type"),
    ("required_without_all-restrictions", BASE, {"decision_visibility": DROP}, "decision_visibility"),
    ("required_without_all-null", BASE, {"decision_visibility": None}, "decision_account"),
    # enums
    ("enum-decision_visibility", BASE, {"decision_visibility": ["DECISION_VISIBILITY_GONE"]}, "decision_visibility"),
    ("enum-decision_monetary", BASE, {"decision_monetary": "MONEY"}, "decision_monetary"),
    ("enum-decision_provision", BASE, {"decision_provision": "X"}, "decision_provision"),
    ("enum-decision_account", BASE, {"decision_account": "DECISION_ACCOUNT_BANNED"}, "decision_account"),
    ("enum-account_type", BASE, {"account_type": "ACCOUNT_TYPE_ALIEN"}, "account_type"),
    ("enum-category_specification", BASE, {"category_specification": ["KEYWORD_NOPE"]}, "category_specification"),
    ("enum-decision_ground", BASE, {"decision_ground": "DECISION_GROUND_VIBES"}, "decision_ground"),
    ("enum-content_type", BASE, {"content_type": ["CONTENT_TYPE_HOLOGRAM"]}, "content_type"),
    ("enum-category", BASE, {"category": "STATEMENT_CATEGORY_NOPE"}, "category"),
    ("enum-category_addition", BASE, {"category_addition": ["NOPE"]}, "category_addition"),
    ("enum-territorial_scope", BASE, {"territorial_scope": ["US"]}, "territorial_scope"),
    ("enum-content_language", BASE, {"content_language": "en"}, "content_language"),
    ("enum-source_type", BASE, {"source_type": "SOURCE_RUMOUR"}, "source_type"),
    ("enum-automated_detection", BASE, {"automated_detection": "maybe"}, "automated_detection"),
    ("enum-automated_decision", BASE, {"automated_decision": "Yes"}, "automated_decision"),
    ("enum-incompatible_content_illegal", INCOMPATIBLE, {"incompatible_content_illegal": "Perhaps"}, "incompatible_content_illegal"),
    ("array-content_type", BASE, {"content_type": "CONTENT_TYPE_IMAGE"}, "content_type"),
    ("array-decision_visibility", BASE, {"decision_visibility": "DECISION_VISIBILITY_CONTENT_REMOVED"}, "decision_visibility"),
    # the *_other rules
    ("other-decision_visibility", BASE, {"decision_visibility": ["DECISION_VISIBILITY_OTHER"]}, "decision_visibility_other"),
    ("other-decision_monetary", BASE, {"decision_monetary": "DECISION_MONETARY_OTHER"}, "decision_monetary_other"),
    ("other-content_type", BASE, {"content_type": ["CONTENT_TYPE_OTHER"]}, "content_type_other"),
    # conditional grounds
    ("required_if-illegal_content_legal_ground", BASE, {"illegal_content_legal_ground": DROP}, "illegal_content_legal_ground"),
    ("required_if-illegal_content_explanation", BASE, {"illegal_content_explanation": DROP}, "illegal_content_explanation"),
    ("required_if-incompatible_content_ground", INCOMPATIBLE, {"incompatible_content_ground": DROP}, "incompatible_content_ground"),
    ("required_if-incompatible_content_explanation", INCOMPATIBLE, {"incompatible_content_explanation": DROP}, "incompatible_content_explanation"),
    # lengths
    *[(f"max-{f}", base, {**extra, f: "x" * (n + 1)}, f) for f, n, base, extra in (
        ("decision_visibility_other", 500, BASE, {"decision_visibility": ["DECISION_VISIBILITY_OTHER"]}),
        ("decision_monetary_other", 500, BASE, {"decision_monetary": "DECISION_MONETARY_OTHER"}),
        ("category_specification_other", 500, BASE, {}),
        ("illegal_content_legal_ground", 500, BASE, {}),
        ("illegal_content_explanation", 2000, BASE, {}),
        ("incompatible_content_ground", 500, INCOMPATIBLE, {}),
        ("incompatible_content_explanation", 2000, INCOMPATIBLE, {}),
        ("content_type_other", 500, BASE, {"content_type": ["CONTENT_TYPE_OTHER"]}),
        ("decision_facts", 5000, BASE, {}),
        ("source_identity", 500, BASE, {"source_type": "SOURCE_TRUSTED_FLAGGER"}),
        ("puid", 500, BASE, {}),
    )],
    ("max-decision_ground_reference_url", BASE, {"decision_ground_reference_url": "https://x.eu/" + "a" * 500}, "decision_ground_reference_url"),
    ("url-decision_ground_reference_url", BASE, {"decision_ground_reference_url": "not a url"}, "decision_ground_reference_url"),
    # dates
    ("date-format-content_date", BASE, {"content_date": "05/01/2026"}, "content_date"),
    ("date-format-application_date", BASE, {"application_date": "2026-1-5"}, "application_date"),
    ("date-invalid-day", BASE, {"content_date": "2026-02-30"}, "content_date"),
    ("date-content_date-too-early", BASE, {"content_date": "1999-12-31"}, "content_date"),
    ("date-application_date-too-early", BASE, {"application_date": "2019-12-31"}, "application_date"),
    ("date-content_date-too-late", BASE, {"content_date": "2038-01-02"}, "content_date"),
    ("date-application_date-too-late", BASE, {"application_date": "2038-01-02"}, "application_date"),
    *[(f"date-{f}", BASE, {f: v}, f) for f in (
        "end_date_account_restriction", "end_date_monetary_restriction",
        "end_date_service_restriction", "end_date_visibility_restriction")
      for v in ("2026/12/01", "2038-01-02", "2026-13-01")],
    # puid
    ("puid-pattern-space", BASE, {"puid": "gf 1"}, "puid"),
    ("puid-pattern-email", BASE, {"puid": "jane.doe@example.com"}, "puid"),
    ("puid-pattern-newline", BASE, {"puid": "gf-1\n"}, "puid"),
    # content_id
    ("content_id-key", BASE, {"content_id": {"ISBN": "123"}}, "content_id"),
    ("content_id-ean13", BASE, {"content_id": {"EAN-13": "12345"}}, "content_id.EAN-13"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "base", "changes", "field"), RULES, ids=[r[0] for r in RULES])
def test_rule_rejected_with_field_named(case: str, base: dict, changes: dict, field: str) -> None:
    s = copy.deepcopy(base)
    for k, v in changes.items():
        if v is DROP:
            s.pop(k, None)
        else:
            s[k] = v
    errors = validate(s)
    assert errors, f"{case}: accepted"
    assert field in {e.field for e in errors}, f"{case}: errors name {errors}"
    assert all(str(e).startswith(e.field) for e in errors)


def test_excluded_fields_are_not_errors() -> None:
    """The API drops these (exclude_unless / exclude_if) rather than rejecting them."""
    s = {**BASE, "decision_visibility_other": "x", "source_identity": "org"}
    assert validate(s) == []
    assert validate({**BASE, "platform_name": "ignored", "permalink": "https://x"}) == []


def test_valid_variants_accepted() -> None:
    for s in (
        {**BASE, "decision_visibility": None, "decision_account": "DECISION_ACCOUNT_SUSPENDED"},
        {**BASE, "decision_visibility": ["DECISION_VISIBILITY_OTHER"],
         "decision_visibility_other": "blurred"},
        {**BASE, "content_language": "EN", "territorial_scope": None},
        {**BASE, "content_id": {"EAN-13": "0123456789123"}, "end_date_visibility_restriction": None},
        {**BASE, "end_date_account_restriction": "2037-12-31"},
        {**BASE, "puid": "A-b_9"},
    ):  # fmt: skip
        assert validate(s) == [], s


def test_not_an_object() -> None:
    assert [e.field for e in validate([])] == ["statement"]  # type: ignore[arg-type]


def test_official_examples_accepted() -> None:
    root = shared_path("spec", "dsa-sor")
    single = json.loads((root / "cypress_fixtures_example_statement.json").read_text())
    multi = json.loads((root / "cypress_fixtures_example_multi_statements.json").read_text())
    for s in [single, *multi["statements"]]:
        assert validate(s) == [], (s["puid"], validate(s))


def test_enum_copy_matches_the_spec() -> None:
    enums = json.loads(shared_path("spec", "dsa-sor", "enums.json").read_text())
    for name, values in enums.items():
        if name.startswith("_"):
            continue
        assert tuple(values) == getattr(dsa_spec, name), name


@pytest.mark.parametrize("text", [
    "Posted by @janedoe in reply", "contact jane.doe@example.com", "call +33 6 12 34 56 78",
    "from 192.168.10.4", "see https://social.example/user/jane",
])  # fmt: skip
def test_personal_data_screen(text: str) -> None:
    assert [e.field for e in personal_data_problems({**BASE, "decision_facts": text})] == [
        "decision_facts"
    ]


def test_personal_data_screen_allows_policy_text() -> None:
    s = {**BASE, "decision_facts": "Policy gardefou-ncii@1, rule sexualized_edit; 2026-01-05. "
         "Directive (EU) 2024/1385, Art. 5(1)(a)-(b). Signal scores: nudity 0.97."}  # fmt: skip
    assert personal_data_problems(s) == []


def test_api_documentation_example_accepted() -> None:
    """The example payload in the API documentation (first ```json block)."""
    import re

    doc = shared_path("spec", "dsa-sor", "resources_markdown_api-documentation.md").read_text()
    block = re.search(r"```json\n(.*?)```", doc, re.S)
    assert block is not None
    example = json.loads(block.group(1))
    assert example["puid"] == "TK421"
    assert validate(example) == []
