"""What the console shows beside a case's decision: the thread pair (parent and reply, the
same-person score, nudity levels, the request that linked them) and the facts in plain words."""

from __future__ import annotations

import re
from typing import Any

_FACT = re.compile(r"\b([a-z_]+\.[a-z_]+)=([^,;]+)")


def _context(decision: dict[str, Any] | None) -> str:
    if not decision:
        return ""
    for t in decision.get("rule_trace") or ():
        if t.get("rule") == "context":
            return str(t.get("detail") or "")
    return ""


def _levels(db: Any, post_id: str) -> list[str | None]:
    from gardefou.thread import ThreadStore

    post = ThreadStore(db).get(post_id)
    return [m.level for m in post.media] if post is not None else []


def thread_view(db: Any, case: Any, decision: dict[str, Any] | None) -> dict[str, Any] | None:
    """The pair a thread case is judged on, or None for a case with no parent."""
    keys = db.query("SELECT kind, value FROM case_keys WHERE case_id = ?", (case.id,))
    parent = next((k["value"] for k in keys if k["kind"] == "parent"), None)
    request = next((k["value"] for k in keys if k["kind"] == "request"), None)
    if parent is None and request is None:
        return None
    score = None
    m = re.search(r"thread\.same_person_score=([0-9.]+)", _context(decision))
    if m:
        score = float(m.group(1))
    generation = parent is not None and parent.startswith("sha256:")
    return {
        "parent": None if generation else parent,
        "parent_kind": "input image" if generation else "parent post",
        "request_text": request,
        "same_person_score": score,
        "reply_levels": _levels(db, case.event_id),
        "parent_levels": [] if generation or parent is None else _levels(db, parent),
    }


def facts_in_words(decision: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The context facts the decision used, each with what it means (``policy.facts``)."""
    from gardefou.policy.facts import CONTEXT_FACTS

    out, seen = [], set()
    for name, value in _FACT.findall(_context(decision)):
        spec = CONTEXT_FACTS.get(name)
        if spec is None or name in seen:
            continue
        seen.add(name)
        out.append({"fact": name, "value": value.strip(), "means": spec.doc})
    return out
