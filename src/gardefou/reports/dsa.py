"""DSA statements of reasons (Art. 17, 24(5)) for the EU Transparency Database.

``build_statement(decision, meta)`` turns one ``gardefou.decision.Decision`` (its ``dsa_fields``
come from the policy's DSA template) plus per-item metadata (an opaque puid, dates, how it was
detected and decided, the notice type) into the JSON object the API takes. Texts are built from
the decision's reason codes, rule ids and the policy's fixed templates, never from user content,
and every statement passes ``validate`` (the official rules) and the personal-data screen before
it is written. ``batches`` cuts a list into API calls of at most 100 statements.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from gardefou.decision import Decision
from gardefou.errors import ConfigError
from gardefou.policy.dsa import ACTION_VISIBILITY
from gardefou.reports.dsa_spec import EUROPEAN_ECONOMIC_AREA_COUNTRY_CODES
from gardefou.reports.dsa_validate import FieldError, personal_data_problems, validate

__all__ = ["FieldError", "StatementMeta", "batches", "build_statement", "opaque_puid",
           "personal_data_problems", "statements_from_records", "validate"]  # fmt: skip

MAX_BATCH = 100

#: fixed sentences per reason code; unknown codes are named, never paraphrased from user text
REASON_TEXT = {
    "victim_bank_match": "The image matches a hash that a depicted person reported as an "
    "intimate image shared without consent.",
    "sexualized_edit_of_real_person": "The image is a sexualized edit of a photograph of a "
    "real person taken from the same conversation.",
    "sexualizing_request_answered": "The image answers a request to undress or sexualize a person.",
    "consent_registry_match": "The image sexualizes a person who registered to be protected "
    "from such images.",
    "minor_sexualized": "The image sexualizes a person estimated as possibly under 18.",
    "sexualized_real_person": "The image shows a sexualized, real and identifiable person "
    "without evidence of consent.",
    "synthetic_sexualized_real_person": "The image is generated or manipulated and shows a "
    "sexualized real person without evidence of consent.",
    "synthetic_real_person": "The image is generated or manipulated and depicts a real person.",
    "takedown_request": "A person depicted asked for the removal of the image.",
    "appeal_upheld": "The decision was confirmed on appeal.",
    "exchange_hash_match": "The matched hash was shared through a hash-sharing exchange.",
}
_SAFE_TOKEN = re.compile(r"[^A-Za-z0-9_.:@-]")
_TEMPLATE_KEYS = ("decision_ground", "category", "category_addition", "category_specification",
                  "category_specification_other", "content_type", "content_type_other",
                  "illegal_content_legal_ground", "illegal_content_explanation",
                  "incompatible_content_ground", "incompatible_content_explanation",
                  "incompatible_content_illegal", "decision_ground_reference_url",
                  "decision_visibility", "decision_visibility_other")  # fmt: skip


def opaque_puid(internal_id: str, secret: bytes | str) -> str:
    """A puid that names the decision without revealing the internal id (HMAC-SHA256)."""
    key = secret.encode() if isinstance(secret, str) else secret
    if len(key) < 16:
        raise ConfigError("the puid secret must be at least 16 bytes (set GARDEFOU_PUID_SECRET)")
    return "gf-" + hmac.new(key, internal_id.encode(), hashlib.sha256).hexdigest()[:40]


def _day(v: date | datetime | str) -> str:
    if isinstance(v, datetime):
        return v.date().isoformat()
    if isinstance(v, date):
        return v.isoformat()
    return str(v)[:10]


@dataclass(frozen=True)
class StatementMeta:
    """Per-item facts the decision does not know. No field may hold personal data."""

    puid: str
    content_date: date | datetime | str
    application_date: date | datetime | str
    source_type: str = "SOURCE_VOLUNTARY"  # or SOURCE_ARTICLE_16, SOURCE_TRUSTED_FLAGGER, ...
    automated_detection: bool = True
    human_reviewed: bool = False  # a moderator confirmed: AUTOMATED_DECISION_PARTIALLY
    automated_decision: str | None = None  # explicit override
    territorial_scope: tuple[str, ...] = EUROPEAN_ECONOMIC_AREA_COUNTRY_CODES
    content_language: str | None = None
    content_types: tuple[str, ...] = ()  # added to the policy's (e.g. CONTENT_TYPE_SYNTHETIC_MEDIA)
    account_type: str | None = None
    restrictions: Mapping[str, Any] = field(default_factory=dict)  # decision_account, end dates...
    decision_ground_reference_url: str | None = None  # the terms-of-service page
    source_identity: str | None = None  # a trusted flagger's organisation, never a person
    #: False for an account or service restriction (a sanction): no decision_visibility then,
    #: and ``restrictions`` must carry decision_account or decision_provision
    content_restricted: bool = True

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> StatementMeta:
        known = set(cls.__dataclass_fields__)
        extra = sorted(set(d) - known - {"decision", "id"})
        restrictions = {k: d[k] for k in extra if k.startswith(("decision_", "end_date_"))}
        kw = {k: d[k] for k in known & set(d)}
        for k in ("territorial_scope", "content_types"):
            if k in kw:
                kw[k] = tuple(kw[k])
        kw["restrictions"] = {**restrictions, **dict(kw.get("restrictions") or {})}
        return cls(**kw)


def _facts(decision: Decision, meta: StatementMeta) -> str:
    sentences = []
    for code in dict.fromkeys(r.code for r in decision.reasons):
        sentences.append(REASON_TEXT.get(code, f"Reason code: {_SAFE_TOKEN.sub('', code)}."))
    for r in decision.reasons:  # which exchange: an operator-chosen name, never personal data
        if r.code == "exchange_hash_match" and (r.signal or "").startswith("exchange:"):
            names = _SAFE_TOKEN.sub("", (r.signal or "")[9:].replace(",", ":"))
            sentences.append(f"Exchange: {names}.")
            break
    scores = [f"{_SAFE_TOKEN.sub('', r.signal)} {r.score:.2f}" for r in decision.reasons
              if r.signal and isinstance(r.score, int | float)]  # fmt: skip
    if scores:
        sentences.append(f"Signal scores: {', '.join(dict.fromkeys(scores))}.")
    how = "Detected by automated means" if meta.automated_detection else "Reported"
    how += "; confirmed by a moderator." if meta.human_reviewed else "."
    sentences.append(how)
    rules = [_SAFE_TOKEN.sub("", t.rule) for t in decision.rule_trace if t.matched]
    if decision.policy or rules:
        sentences.append(f"Policy {_SAFE_TOKEN.sub('', decision.policy) or 'unnamed'}"
                         f"{', rule ' + ', '.join(rules) if rules else ''}; "
                         f"action {decision.action.value}.")  # fmt: skip
    return " ".join(sentences)[:5000]


def build_statement(decision: Decision, meta: StatementMeta) -> dict[str, Any] | None:
    """The statement for ``decision``, or None when it restricted nothing (allow, review).

    Raises ConfigError naming every field the database would reject or that looks personal.
    """
    if decision.action not in ACTION_VISIBILITY:
        return None
    t = decision.dsa_fields or {}
    if not t.get("decision_ground") or not t.get("category"):
        raise ConfigError(
            f"decision {meta.puid} ({decision.action.value}, policy {decision.policy!r}) has no "
            "DSA template (decision_ground, category); add a `dsa:` template to the rule"
        )
    s: dict[str, Any] = {k: (list(t[k]) if isinstance(t[k], list | tuple) else t[k])
                         for k in _TEMPLATE_KEYS if t.get(k) is not None}  # fmt: skip
    if meta.content_restricted:
        s.setdefault("decision_visibility", [ACTION_VISIBILITY[decision.action]])
    else:
        s.pop("decision_visibility", None)
        s.pop("decision_visibility_other", None)
    ctypes = list(s.get("content_type") or ["CONTENT_TYPE_IMAGE"])
    s["content_type"] = ctypes + [c for c in meta.content_types if c not in ctypes]
    if s.get("decision_ground") != "DECISION_GROUND_INCOMPATIBLE_CONTENT":
        s.pop("incompatible_content_illegal", None)
    if meta.automated_decision:
        automated = meta.automated_decision
    elif meta.human_reviewed:
        automated = "AUTOMATED_DECISION_PARTIALLY"
    else:
        automated = "AUTOMATED_DECISION_FULLY"
    s.update(
        puid=meta.puid,
        content_date=_day(meta.content_date),
        application_date=_day(meta.application_date),
        source_type=meta.source_type,
        automated_detection="Yes" if meta.automated_detection else "No",
        automated_decision=automated,
        decision_facts=_facts(decision, meta),
        territorial_scope=list(meta.territorial_scope),
    )
    if meta.content_language:
        s["content_language"] = meta.content_language
    if meta.account_type:
        s["account_type"] = meta.account_type
    if meta.decision_ground_reference_url:
        s["decision_ground_reference_url"] = meta.decision_ground_reference_url
    if meta.source_identity and meta.source_type != "SOURCE_VOLUNTARY":
        s["source_identity"] = meta.source_identity
    for k, v in meta.restrictions.items():
        s[k] = _day(v) if k.startswith("end_date_") and v is not None else v
    problems = validate(s) + personal_data_problems(s)
    if problems:
        raise ConfigError(f"statement {meta.puid} would be rejected: "
                          + "; ".join(str(p) for p in problems))  # fmt: skip
    return s


def statements_from_records(
    records: Iterable[Mapping[str, Any]], puid_secret: bytes | str | None = None
) -> Iterator[dict[str, Any]]:
    """Statements from plain records: ``{"decision": Decision.to_dict(), "puid" or "id",
    "content_date", "application_date", ...StatementMeta fields}``. Records whose decision
    restricted nothing are skipped. An ``id`` needs ``puid_secret`` (HMAC, see opaque_puid)."""
    for i, rec in enumerate(records):
        try:
            decision = rec["decision"]
            if not isinstance(decision, Decision):
                decision = Decision.from_dict(decision)
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"record {i}: no readable 'decision' (Decision.to_dict()): "
                              f"{type(exc).__name__}: {exc}") from None  # fmt: skip
        meta_d = dict(rec)
        if "puid" not in meta_d:
            if "id" not in meta_d:
                raise ConfigError(f"record {i}: give a 'puid' (opaque) or an 'id' to derive it")
            secret = puid_secret or os.environ.get("GARDEFOU_PUID_SECRET")
            if not secret:
                raise ConfigError(f"record {i} has an internal 'id' but no puid: set "
                                  "GARDEFOU_PUID_SECRET so the id is never published")  # fmt: skip
            meta_d["puid"] = opaque_puid(str(meta_d["id"]), secret)
        try:
            meta = StatementMeta.from_dict(meta_d)
        except TypeError as exc:
            raise ConfigError(f"record {i}: {exc}") from None
        statement = build_statement(decision, meta)
        if statement is not None:
            yield statement


def batches(statements: list[dict[str, Any]], size: int = MAX_BATCH) -> list[dict[str, Any]]:
    """Request bodies for ``POST /api/v1/statements``: ``{"statements": [...]}``, <= 100 each."""
    if not 1 <= size <= MAX_BATCH:
        raise ConfigError(f"batch size {size} out of range: the API takes 1 to {MAX_BATCH}")
    return [{"statements": statements[i : i + size]} for i in range(0, len(statements), size)]


def write_statements(
    path: str | os.PathLike[str],
    statements: list[dict[str, Any]],
    batch_dir: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """Write the JSON array to ``path`` and, optionally, API-sized batch files to ``batch_dir``."""
    seen: set[str] = set()
    for s in statements:
        if s["puid"] in seen:
            raise ConfigError(f"puid {s['puid']} appears twice; the database rejects duplicates")
        seen.add(s["puid"])
    Path(path).write_text(json.dumps(statements, indent=1, ensure_ascii=False) + "\n", "utf-8")
    files = []
    if batch_dir is not None:
        d = Path(batch_dir)
        d.mkdir(parents=True, exist_ok=True)
        for n, body in enumerate(batches(statements), 1):
            f = d / f"statements-{n:05d}.json"
            f.write_text(json.dumps(body, ensure_ascii=False) + "\n", "utf-8")
            files.append(str(f))
    n_batches = -(-len(statements) // MAX_BATCH)
    return {"out": str(path), "statements": len(statements), "batches": n_batches,
            "batch_files": files}  # fmt: skip
