"""Consent registry: people who ask to be protected register a face template, never a photo.

A template is a 128-d identity embedding (``gardefou.signals.identity``). ``enroll`` takes the
embedding (a client can compute it and send only the numbers); ``enroll_from_image`` computes it
from an image and keeps nothing but the numbers. Sexualized images whose faces match an active
template are removed under the default policy (``consent.match``). The person gets a withdrawal
code (shown once, stored as a salted hash); ``withdraw`` stops matching at once and erases the
embedding. ``owner_account`` (optional) links the person's own account: their own posts count as
consent evidence (``consent.evidence``).
"""

from __future__ import annotations

import json
import math
import secrets
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gardefou import clock
from gardefou.errors import ConfigError, ForbiddenError, NotFoundError
from gardefou.pins import check_pin, hash_pin, needs_rehash

EMBEDDING_SIZE = 128


@dataclass(frozen=True)
class Enrollment:
    template_id: int
    withdrawal_code: str  # shown once to the person; only its hash is stored


@dataclass(frozen=True)
class ConsentMatch:
    template_id: int
    distance: float
    score: float
    owner_account: str | None


@dataclass(frozen=True)
class Template:
    id: int
    label: str
    owner_account: str | None
    created_at: str
    withdrawn_at: str | None

    @property
    def active(self) -> bool:
        return self.withdrawn_at is None


def validate_embedding(emb: Any) -> list[float]:
    if not isinstance(emb, list | tuple) or len(emb) != EMBEDDING_SIZE:
        n = len(emb) if isinstance(emb, list | tuple) else type(emb).__name__
        raise ConfigError(
            f"a face template is {EMBEDDING_SIZE} numbers (the identity signal's "
            f"embedding), got {n}"
        )
    out = []
    for x in emb:
        if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x):
            raise ConfigError(f"face template value {x!r} is not a finite number")
        out.append(float(x))
    if math.sqrt(sum(x * x for x in out)) == 0.0:
        raise ConfigError("face template is all zeros; compute it with the identity signal")
    return out


class ConsentRegistry:
    """Templates in the ``consent_templates`` table (migration 0004)."""

    def __init__(self, db: Any, threshold: float | None = None) -> None:
        self.db = db
        self.threshold = threshold
        self._lock = threading.Lock()
        self._cache: tuple[Any, Any, Any] | None = None  # (stamp, ids+owners, matrix)

    # -- enrolment -----------------------------------------------------------------------------
    def enroll(
        self, embedding: Sequence[float], *, label: str = "", owner_account: str | None = None
    ) -> Enrollment:
        """Register a face template to protect; returns its id and the withdrawal code."""
        emb = validate_embedding(list(embedding))
        if len(label) > 200:
            raise ConfigError(f"label is {len(label)} characters; the limit is 200")
        code = secrets.token_urlsafe(12)
        tid = self.db.insert(
            "INSERT INTO consent_templates (embedding_json, label, owner_account, code_hash, "
            "created_at) VALUES (?, ?, ?, ?, ?)",
            (
                json.dumps([round(x, 6) for x in emb]),
                label,
                owner_account,
                hash_pin(code),
                clock.now("seconds"),
            ),
        )
        self._cache = None
        return Enrollment(tid, code)

    def enroll_from_image(self, media: Any, **kw: Any) -> Enrollment:
        """Compute the template from an image with exactly one face; the image is not kept."""
        from gardefou.signals import get_signal

        r = get_signal("identity").extract(media)
        if not r.available:
            raise ConfigError(f"the identity model is unavailable: {r.explanation}")
        if len(r.value or []) != 1:
            raise ConfigError(f"the photo must show exactly one face; found {len(r.value or [])}")
        return self.enroll(r.value[0]["embedding"], **kw)

    def withdraw(self, template_id: int, code: str) -> None:
        """Stop protecting and erase the embedding (the row keeps only that it existed)."""
        row = self.db.query_one(
            "SELECT code_hash, withdrawn_at FROM consent_templates WHERE id = ?", (template_id,)
        )
        if row is None:
            raise NotFoundError(f"no consent template {template_id}")
        if not check_pin(str(code), row["code_hash"]):
            raise ForbiddenError(f"wrong withdrawal code for consent template {template_id}")
        if needs_rehash(row["code_hash"]):  # a PBKDF2 hash from an older release: upgrade it
            self.db.execute(
                "UPDATE consent_templates SET code_hash = ? WHERE id = ?",
                (hash_pin(str(code)), template_id),
            )
        if row["withdrawn_at"] is None:
            self.db.execute(
                "UPDATE consent_templates SET withdrawn_at = ?, embedding_json = NULL WHERE id = ?",
                (clock.now(), template_id),
            )
        self._cache = None

    def get(self, template_id: int) -> Template:
        row = self.db.query_one(
            "SELECT id, label, owner_account, created_at, withdrawn_at "
            "FROM consent_templates WHERE id = ?",
            (template_id,),
        )
        if row is None:
            raise NotFoundError(f"no consent template {template_id}")
        return Template(**row)

    def count(self) -> int:
        row = self.db.query_one(
            "SELECT COUNT(*) AS n FROM consent_templates WHERE withdrawn_at IS NULL"
        )
        return int(row["n"]) if row else 0

    # -- matching ------------------------------------------------------------------------------
    def _active(self) -> tuple[list[tuple[int, str | None]], Any, Any]:
        """(ids and owners, float32 template matrix, squared norms), reloaded when the table
        changed (a cheap stamp query per call, so other processes' withdrawals apply at once)."""
        import numpy as np

        # both answered from indexes; withdrawals carry microsecond times, so each one moves
        # MAX(withdrawn_at)
        stamp_row = self.db.query_one(
            "SELECT MAX(id) AS m, MAX(withdrawn_at) AS w FROM consent_templates"
        )
        stamp = tuple(stamp_row.values()) if stamp_row else ()
        with self._lock:
            if self._cache is not None and self._cache[0] == stamp:
                return self._cache[1]
            rows = self.db.query(
                "SELECT id, owner_account, embedding_json FROM consent_templates "
                "WHERE withdrawn_at IS NULL ORDER BY id"
            )
            meta = [(int(r["id"]), r["owner_account"]) for r in rows]
            matrix = (
                np.asarray([json.loads(r["embedding_json"]) for r in rows], dtype=np.float32)
                if rows
                else np.zeros((0, EMBEDDING_SIZE), dtype=np.float32)
            )
            loaded = (meta, matrix, np.einsum("ij,ij->i", matrix, matrix))
            self._cache = (stamp, loaded, None)
            return loaded

    def match(self, embeddings: Sequence[Sequence[float]]) -> list[ConsentMatch]:
        """Active templates within the identity threshold of any of the given faces."""
        import numpy as np

        from gardefou.signals.identity import DEFAULT_THRESHOLD, compare

        meta, matrix, norms = self._active()
        if not len(meta) or not embeddings:
            return []
        threshold = self.threshold if self.threshold is not None else DEFAULT_THRESHOLD
        out: dict[int, ConsentMatch] = {}
        for emb in embeddings:
            q = np.asarray(validate_embedding(list(emb)), dtype=np.float32)
            # |t - q|^2 = |t|^2 + |q|^2 - 2 t.q; einsum rather than BLAS `@`, which measured 40x
            # slower here under thread contention on a busy 2-core machine. A small margin
            # absorbs float32 rounding; the exact check below decides.
            d2 = norms + float(q @ q) - 2.0 * np.einsum("ij,j->i", matrix, q)
            for i in np.flatnonzero(d2 <= (threshold + 1e-3) ** 2):
                tid, owner = meta[int(i)]
                # the calibrated comparison decides and gives the score (float64, same threshold)
                r = compare(list(map(float, emb)), matrix[int(i)].astype(np.float64), threshold)
                if r.same and (tid not in out or r.distance < out[tid].distance):
                    out[tid] = ConsentMatch(tid, float(r.distance), float(r.score), owner)
        return sorted(out.values(), key=lambda m: m.distance)


def consent_facts(matches: Sequence[ConsentMatch], poster: str | None) -> dict[str, Any]:
    """Context facts for the policy: a protected person is shown; they posted it themselves."""
    if not matches:
        return {}
    others = [m for m in matches if poster is None or m.owner_account != poster]
    # their own post is consent evidence only when every protected person shown is the poster
    # which templates: the review queue groups the cases of one protected person
    templates = sorted({str(m.template_id) for m in matches})
    return {"consent.match": True, "consent.evidence": not others, "consent.templates": templates}
