"""The DSA Transparency Database vocabulary a policy may use, and how an action maps onto it.

The enum values themselves (the KEYS of the EU DSA Transparency Database, copied so a policy
validates without network access) live once, in ``gardefou.reports.dsa_spec``, a leaf data module
checked against the spec snapshot; this module only views them as sets and adds what the spec
files do not list: which keywords belong to which category, what each gardefou action restricts
(``ACTION_VISIBILITY``, also used by the statement exporter) and which template keys a policy may
set.
"""

from __future__ import annotations

from typing import Any

from gardefou.decision import Action
from gardefou.reports import dsa_spec as _spec

DECISION_GROUNDS = frozenset(_spec.DECISION_GROUNDS)

#: category -> the keywords (category_specification) the DSA templates list under it
CATEGORY_KEYWORDS: dict[str, frozenset[str]] = {
    "STATEMENT_CATEGORY_ANIMAL_WELFARE": frozenset(
        {"KEYWORD_ANIMAL_HARM", "KEYWORD_UNLAWFUL_SALE_ANIMALS"}
    ),
    "STATEMENT_CATEGORY_CONSUMER_INFORMATION": frozenset(
        {
            "KEYWORD_HIDDEN_ADVERTISEMENT",
            "KEYWORD_INSUFFICIENT_INFORMATION_ON_TRADERS",
            "KEYWORD_MISLEADING_INFO_GOODS_SERVICES",
            "KEYWORD_MISLEADING_INFO_CONSUMER_RIGHTS",
            "KEYWORD_NONCOMPLIANCE_PRICING",
        }
    ),
    "STATEMENT_CATEGORY_CYBER_VIOLENCE": frozenset(
        {
            "KEYWORD_CYBER_BULLYING_INTIMIDATION",
            "KEYWORD_CYBER_HARASSMENT",
            "KEYWORD_CYBER_INCITEMENT",
            "KEYWORD_CYBER_STALKING",
            "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING",
            "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE",
        }
    ),
    "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN": frozenset(
        {
            "KEYWORD_BULLYING_AGAINST_GIRLS",
            "KEYWORD_CYBER_HARASSMENT_AGAINST_WOMEN",
            "KEYWORD_CYBER_STALKING_AGAINST_WOMEN",
            "KEYWORD_FEMALE_GENDERED_DISINFORMATION",
            "KEYWORD_INCITEMENT_AGAINST_WOMEN",
            "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING_AGAINST_WOMEN",
            "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN",
        }
    ),
    "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS": frozenset(
        {
            "KEYWORD_BIOMETRIC_DATA_BREACH",
            "KEYWORD_DATA_FALSIFICATION",
            "KEYWORD_MISSING_PROCESSING_GROUND",
            "KEYWORD_RIGHT_TO_BE_FORGOTTEN",
        }
    ),
    "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH": frozenset(
        {"KEYWORD_DEFAMATION", "KEYWORD_DISCRIMINATION", "KEYWORD_HATE_SPEECH"}
    ),
    "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS": frozenset(
        {
            "KEYWORD_COPYRIGHT_INFRINGEMENT",
            "KEYWORD_DESIGN_INFRINGEMENT",
            "KEYWORD_GEOGRAPHIC_INDICATIONS_INFRINGEMENT",
            "KEYWORD_PATENT_INFRINGEMENT",
            "KEYWORD_TRADE_SECRET_INFRINGEMENT",
            "KEYWORD_TRADEMARK_INFRINGEMENT",
        }
    ),
    "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS": frozenset(
        {
            "KEYWORD_MISINFORMATION_DISINFORMATION",
            "KEYWORD_VIOLATION_EU_LAW",
            "KEYWORD_VIOLATION_NATIONAL_LAW",
        }
    ),
    "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE": frozenset(),
    "STATEMENT_CATEGORY_OTHER_VIOLATION_TC": frozenset(
        {
            "KEYWORD_ADULT_SEXUAL_MATERIAL",
            "KEYWORD_AGE_SPECIFIC_RESTRICTIONS",
            "KEYWORD_GEOGRAPHICAL_REQUIREMENTS",
            "KEYWORD_GOODS_SERVICES_NOT_PERMITTED",
            "KEYWORD_LANGUAGE_REQUIREMENTS",
            "KEYWORD_NUDITY",
        }
    ),
    "STATEMENT_CATEGORY_PROTECTION_OF_MINORS": frozenset(
        {
            "KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS",
            "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL",
            "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE",
            "KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS",
            "KEYWORD_UNSAFE_CHALLENGES",
        }
    ),
    "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY": frozenset(
        {
            "KEYWORD_ILLEGAL_ORGANIZATIONS",
            "KEYWORD_RISK_ENVIRONMENTAL_DAMAGE",
            "KEYWORD_RISK_PUBLIC_HEALTH",
            "KEYWORD_TERRORIST_CONTENT",
        }
    ),
    "STATEMENT_CATEGORY_SCAMS_AND_FRAUD": frozenset(
        {
            "KEYWORD_IMPERSONATION_ACCOUNT_HIJACKING",
            "KEYWORD_INAUTHENTIC_ACCOUNTS",
            "KEYWORD_INAUTHENTIC_LISTINGS",
            "KEYWORD_INAUTHENTIC_USER_REVIEWS",
            "KEYWORD_PHISHING",
            "KEYWORD_PYRAMID_SCHEMES",
        }
    ),
    "STATEMENT_CATEGORY_SELF_HARM": frozenset(
        {"KEYWORD_CONTENT_PROMOTING_EATING_DISORDERS", "KEYWORD_SELF_MUTILATION", "KEYWORD_SUICIDE"}
    ),
    "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS": frozenset(
        {"KEYWORD_PROHIBITED_PRODUCTS", "KEYWORD_UNSAFE_PRODUCTS"}
    ),
    "STATEMENT_CATEGORY_VIOLENCE": frozenset(
        {
            "KEYWORD_COORDINATED_HARM",
            "KEYWORD_INCITEMENT_VIOLENCE_HATRED",
            "KEYWORD_HUMAN_EXPLOITATION",
            "KEYWORD_HUMAN_TRAFFICKING",
            "KEYWORD_TRAFFICKING_WOMEN_GIRLS",
        }
    ),
}

CATEGORIES = frozenset(_spec.STATEMENT_CATEGORIES)
#: keywords the database accepts that no category lists (KEYWORD_STALKING is a legacy value)
UNCATEGORIZED_KEYWORDS = frozenset({"KEYWORD_OTHER", "KEYWORD_STALKING"})
KEYWORDS = frozenset(_spec.KEYWORDS)
CONTENT_TYPES = frozenset(_spec.CONTENT_TYPES)
DECISION_VISIBILITIES = frozenset(_spec.DECISION_VISIBILITIES)
DECISION_ACCOUNTS = frozenset(_spec.DECISION_ACCOUNTS)
DECISION_PROVISIONS = frozenset(_spec.DECISION_PROVISIONS)

#: the visibility restriction each restricting action means; other actions restrict nothing
#: (allow, review) and therefore produce no statement of reasons of their own
ACTION_VISIBILITY: dict[Action, str] = {
    Action.LABEL: "DECISION_VISIBILITY_CONTENT_LABELLED",
    Action.AGE_RESTRICT: "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED",
    Action.REFUSE: "DECISION_VISIBILITY_CONTENT_DISABLED",
    Action.REMOVE: "DECISION_VISIBILITY_CONTENT_REMOVED",
    Action.REMOVE_ESCALATE: "DECISION_VISIBILITY_CONTENT_REMOVED",
}

TEMPLATE_KEYS = frozenset(
    {
        "decision_ground",
        "category",
        "category_addition",
        "category_specification",
        "category_specification_other",
        "content_type",
        "illegal_content_legal_ground",
        "illegal_content_explanation",
        "incompatible_content_ground",
        "incompatible_content_explanation",
        "incompatible_content_illegal",
        "decision_ground_reference_url",
    }
)

#: the validator's length limits on the fields a template sets
MAX_LEN = {k: v for k, v in _spec.MAX_LEN.items() if k in TEMPLATE_KEYS}


def template_part(fields: dict[str, Any]) -> dict[str, Any]:
    """The fields of a statement that come from a policy template (what ``template_problems``
    checks), without those the decision adds (visibility, automation, dates)."""
    return {k: v for k, v in fields.items() if k in TEMPLATE_KEYS}


def template_problems(t: dict[str, Any]) -> list[tuple[str, str]]:
    """Problems of one DSA template as (key, message); empty when it would validate."""
    out: list[tuple[str, str]] = []
    for key in t:
        if key not in TEMPLATE_KEYS:
            out.append(
                (key, f"unknown DSA field {key!r}; allowed: {', '.join(sorted(TEMPLATE_KEYS))}")
            )
    ground = t.get("decision_ground")
    if ground not in DECISION_GROUNDS:
        out.append(
            (
                "decision_ground",
                f"decision_ground {ground!r} must be one of {', '.join(sorted(DECISION_GROUNDS))}",
            )
        )
    category = t.get("category")
    if category not in CATEGORIES:
        out.append(
            (
                "category",
                f"category {category!r} is not a DSA statement category (STATEMENT_CATEGORY_...)",
            )
        )
    additions = _as_list(t.get("category_addition"))
    for extra in additions:
        if extra not in CATEGORIES:
            out.append(("category_addition", f"category_addition {extra!r} is not a DSA category"))
    allowed_kw = set().union(*(CATEGORY_KEYWORDS.get(c, set()) for c in [category, *additions]))
    for kw in _as_list(t.get("category_specification")):
        if kw not in KEYWORDS:
            out.append(("category_specification", f"keyword {kw!r} is not a DSA keyword"))
        elif kw not in UNCATEGORIZED_KEYWORDS and kw not in allowed_kw:
            out.append(
                (
                    "category_specification",
                    f"keyword {kw!r} does not belong to category "
                    f"{category} (add its category to category_addition or pick one of "
                    f"{', '.join(sorted(allowed_kw)) or 'none'})",
                )
            )
    for ct in _as_list(t.get("content_type")):
        if ct not in CONTENT_TYPES:
            out.append(
                (
                    "content_type",
                    f"content_type {ct!r} must be one of {', '.join(sorted(CONTENT_TYPES))}",
                )
            )
    if ground == "DECISION_GROUND_ILLEGAL_CONTENT":
        for key in ("illegal_content_legal_ground", "illegal_content_explanation"):
            if not t.get(key):
                out.append((key, f"{key} is required when decision_ground is illegal content"))
        for key in (
            "incompatible_content_ground",
            "incompatible_content_explanation",
            "incompatible_content_illegal",
        ):
            if key in t:
                out.append(
                    (key, f"{key} is only allowed with DECISION_GROUND_INCOMPATIBLE_CONTENT")
                )
    elif ground == "DECISION_GROUND_INCOMPATIBLE_CONTENT":
        for key in ("incompatible_content_ground", "incompatible_content_explanation"):
            if not t.get(key):
                out.append((key, f"{key} is required when decision_ground is incompatible content"))
        for key in ("illegal_content_legal_ground", "illegal_content_explanation"):
            if key in t:
                out.append((key, f"{key} is only allowed with DECISION_GROUND_ILLEGAL_CONTENT"))
        if t.get("incompatible_content_illegal", "No") not in ("Yes", "No"):
            bad = t.get("incompatible_content_illegal")
            out.append(
                (
                    "incompatible_content_illegal",
                    f"incompatible_content_illegal must be 'Yes' or 'No', not {bad!r}",
                )
            )
    for key, limit in MAX_LEN.items():
        if isinstance(t.get(key), str) and len(t[key]) > limit:
            out.append((key, f"{key} is {len(t[key])} characters; the limit is {limit}"))
    return out


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]
