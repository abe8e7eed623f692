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
