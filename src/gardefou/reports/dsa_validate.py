"""Validator for DSA statements of reasons, rule for rule as the EU Transparency Database checks
them (StatementStoreRequest::rules(), transcribed in ../shared/spec/dsa-sor/
validation_rules_summary.json), plus the Art. 24(5) screen for personal data.

``validate(statement)`` returns a list of ``FieldError(field, message)``; empty means the
database would accept the statement. Fields the database *excludes* (e.g.
``decision_visibility_other`` without ``DECISION_VISIBILITY_OTHER``) are dropped there, not
rejected, so they are not errors here either; unknown fields are ignored as the API does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlparse

from gardefou.reports import dsa_spec as S


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


PUID_RE = re.compile(r"[a-zA-Z0-9\-_]+")  # fullmatch: no trailing newline either
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
EAN13_RE = re.compile(r"^[0-9]{13}$")
YES_NO = ("Yes", "No")
MAX_DATE = date(2038, 1, 1)

REQUIRED = (
    "decision_ground",
    "content_type",
    "category",
    "content_date",
    "application_date",
    "decision_facts",
    "source_type",
    "automated_detection",
    "automated_decision",
    "puid",
)
RESTRICTIONS = (
    "decision_visibility",
    "decision_monetary",
    "decision_provision",
    "decision_account",
)
MAX_LEN = S.MAX_LEN
SCALAR_ENUMS: dict[str, tuple[str, ...]] = {
    "decision_monetary": S.DECISION_MONETARIES,
    "decision_provision": S.DECISION_PROVISIONS,
    "decision_account": S.DECISION_ACCOUNTS,
    "account_type": S.ACCOUNT_TYPES,
    "decision_ground": S.DECISION_GROUNDS,
    "category": S.STATEMENT_CATEGORIES,
    "content_language": S.ALL_LANGUAGES,
    "source_type": S.SOURCE_TYPES,
    "automated_detection": YES_NO,
    "automated_decision": S.AUTOMATED_DECISIONS,
}
ARRAY_ENUMS: dict[str, tuple[str, ...]] = {
    "decision_visibility": S.DECISION_VISIBILITIES,
    "category_specification": S.KEYWORDS,
    "content_type": S.CONTENT_TYPES,
    "category_addition": S.STATEMENT_CATEGORIES,
    "territorial_scope": S.EUROPEAN_COUNTRY_CODES,
}
DATES = {"content_date": date(2000, 1, 1), "application_date": date(2020, 1, 1),
         "end_date_account_restriction": None, "end_date_monetary_restriction": None,
         "end_date_service_restriction": None, "end_date_visibility_restriction": None}  # fmt: skip


def _present(value: Any) -> bool:
    """Laravel's notion of a filled value: not null, not '', not an empty array."""
    return value is not None and value != "" and value != [] and value != {}


def validate(statement: Mapping[str, Any]) -> list[FieldError]:
    """Every reason the Transparency Database would reject ``statement`` (empty: accepted)."""
    if not isinstance(statement, Mapping):
        return [FieldError("statement", f"must be a JSON object, got {type(statement).__name__}")]
    s = statement
    errs: list[FieldError] = []

    def err(field: str, msg: str) -> None:
        errs.append(FieldError(field, msg))

    for f in REQUIRED:
        if not _present(s.get(f)):
            err(f, f"the {f} field is required")
    if not any(_present(s.get(f)) for f in RESTRICTIONS):
        for f in RESTRICTIONS:
            others = " / ".join(o for o in RESTRICTIONS if o != f)
            err(f, f"the {f} field is required when none of {others} are present")

    for f, allowed in SCALAR_ENUMS.items():
        v = s.get(f)
        if _present(v) and v not in allowed:
            err(f, f"the selected {f} {v!r} is invalid; allowed: {', '.join(allowed[:8])}"
                   f"{' ...' if len(allowed) > 8 else ''}")  # fmt: skip
    for f, allowed in ARRAY_ENUMS.items():
        v = s.get(f)
        if v is None:
            continue
        if not isinstance(v, list):
            err(f, f"the {f} field must be an array, got {type(v).__name__}")
            continue
        for item in v:
            if item not in allowed:
                err(f, f"the selected {f} value {item!r} is invalid")

    for f, limit in MAX_LEN.items():
        v = s.get(f)
        if v is None:
            continue
        if not isinstance(v, str):
            err(f, f"the {f} field must be a string, got {type(v).__name__}")
        elif len(v) > limit:
            err(f, f"the {f} field must not be greater than {limit} characters (is {len(v)})")

    # the *_other rules
    vis_raw = s.get("decision_visibility")
    vis = vis_raw if isinstance(vis_raw, list) else []
    if "DECISION_VISIBILITY_OTHER" in vis and not _present(s.get("decision_visibility_other")):
        err("decision_visibility_other",
            "required when decision_visibility contains DECISION_VISIBILITY_OTHER")  # fmt: skip
    if s.get("decision_monetary") == "DECISION_MONETARY_OTHER" and not _present(
        s.get("decision_monetary_other")
    ):
        err("decision_monetary_other", "required when decision_monetary is DECISION_MONETARY_OTHER")
    ct_raw = s.get("content_type")
    ctypes = ct_raw if isinstance(ct_raw, list) else []
    if "CONTENT_TYPE_OTHER" in ctypes and not _present(s.get("content_type_other")):
        err("content_type_other", "required when content_type contains CONTENT_TYPE_OTHER")

    # grounds
    ground = s.get("decision_ground")
    if ground == "DECISION_GROUND_ILLEGAL_CONTENT":
        for f in ("illegal_content_legal_ground", "illegal_content_explanation"):
            if not _present(s.get(f)):
                err(f, f"the {f} field is required when decision_ground is "
                       "DECISION_GROUND_ILLEGAL_CONTENT")  # fmt: skip
    if ground == "DECISION_GROUND_INCOMPATIBLE_CONTENT":
        for f in ("incompatible_content_ground", "incompatible_content_explanation"):
            if not _present(s.get(f)):
                err(f, f"the {f} field is required when decision_ground is "
                       "DECISION_GROUND_INCOMPATIBLE_CONTENT")  # fmt: skip
        v = s.get("incompatible_content_illegal")
        if v is not None and v not in YES_NO:
            err("incompatible_content_illegal", f"must be 'Yes' or 'No', not {v!r}")

    url = s.get("decision_ground_reference_url")
    if _present(url) and isinstance(url, str):
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            err("decision_ground_reference_url", f"must be a valid URL, got {url!r}")

    parsed_dates: dict[str, date] = {}
    for f, earliest in DATES.items():
        v = s.get(f)
        if v is None or (v == "" and f not in REQUIRED):
            continue
        d = _parse_date(v)
        if d is None:
            err(f, f"the {f} field must match the format Y-m-d (YYYY-MM-DD), got {v!r}")
            continue
        parsed_dates[f] = d
        if earliest is not None and d < earliest:
            err(f, f"the {f} field must be a date after or equal to {earliest.isoformat()}")
        if d > MAX_DATE:
            err(f, f"the {f} field must be a date before or equal to 2038-01-01")
    # The API documentation asks for end dates >= application_date, but the validator does not
    # enforce it (the official examples break it), so neither do we; the builder never does.

    puid = s.get("puid")
    if isinstance(puid, str) and puid and not PUID_RE.fullmatch(puid):
        err("puid", f"the puid {puid!r} may only contain a-z, A-Z, 0-9, '-' and '_'")

    cid = s.get("content_id")
    if cid is not None:
        if not isinstance(cid, Mapping):
            err("content_id", 'the content_id field must be an object like {"EAN-13": ...}')
        else:
            for k, v in cid.items():
                if k != "EAN-13":
                    err("content_id", f"content_id key {k!r} is not allowed (only 'EAN-13')")
                elif not isinstance(v, str) or not EAN13_RE.match(v):
                    err("content_id.EAN-13", f"must be 13 digits, got {v!r}")
    return errs


def _parse_date(v: Any) -> date | None:
    if not isinstance(v, str) or not DATE_RE.match(v):
        return None
    try:
        return date.fromisoformat(v)
    except ValueError:
        return None


# -- Art. 24(5): no personal data ------------------------------------------------------------------

_PII_PATTERNS = (
    ("an e-mail address", re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")),
    ("a user handle", re.compile(r"(?<![\w@])@[A-Za-z_][A-Za-z0-9_]+")),
    ("a phone number", re.compile(r"\+\d[\d\s().-]{7,}\d|\b\d{3}[\s.-]\d{3}[\s.-]\d{4}\b")),
    ("an IP address", re.compile(r"(?<!\d)(?:\d{1,3}\.){3}\d{1,3}(?!\d)")),
    ("a web address", re.compile(r"(?i)\bhttps?://|\bwww\.")),
)
#: free-text fields a person could leak into; enum fields are checked by validate()
FREE_TEXT = ("decision_facts", "illegal_content_legal_ground", "illegal_content_explanation",
             "incompatible_content_ground", "incompatible_content_explanation",
             "decision_visibility_other", "decision_monetary_other", "content_type_other",
             "category_specification_other", "source_identity")  # fmt: skip


def personal_data_problems(statement: Mapping[str, Any]) -> list[FieldError]:
    """Free-text fields that look like they carry personal data (handles, e-mails, phones,
    IPs, links). A heuristic screen, on top of building texts from reason codes only."""
    out = []
    for f in FREE_TEXT:
        v = statement.get(f)
        if not isinstance(v, str):
            continue
        for what, pattern in _PII_PATTERNS:
            m = pattern.search(v)
            if m:
                out.append(
                    FieldError(
                        f,
                        f"looks like it contains {what} ({m.group(0)!r}); "
                        "statements must not carry personal data (DSA Art. 24(5))",
                    )
                )
                break
    return out
