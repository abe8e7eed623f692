"""Clusters of cases: copies of one abuse reviewed with one decision (docs/web.md "Clusters").

A flood is the same victim's photo edited hundreds of times an hour; one queue item per copy
cannot keep up. Cases awaiting a person form one cluster when they share (transitively):

- a victim-bank entry (``bank:<entry id>``), a parent post (``parent:<post id>``: the photo the
  replies edit; for a generation, ``parent:sha256:<input>``), a consent-registry template
  (``consent:<template id>``) - exact keys, recorded when the case opens (``record_case_keys``);
- a PDQ hash within the bank threshold of another case's (the smallest threshold of the enabled
  positive banks; 31 without banks);

and await the same step (first or second review) with the same proposed action: a copy that
escalates (a possible minor) is never swept into a plain removal.

A cluster decision is applied case by case (``CaseStore.review``): each case keeps its own
``case_actions`` row and its own DSA statement. A case split out (``split``) is never grouped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from gardefou.cases.models import PENDING_REVIEW, SECOND_REVIEW
from gardefou.errors import ConfigError

log = logging.getLogger(__name__)
DEFAULT_PDQ_THRESHOLD = 31
SPLIT = "split"
BANK_SIGNAL_NAME = "pdq_dihedral"  # gardefou.decide.BANK_SIGNAL
EXACT = ("bank", "parent", "consent")


def _keys(db: Any, decided: Any) -> set[tuple[str, str]]:
    from gardefou.cases.review_keep import ancestor_id

    keys: set[tuple[str, str]] = set()
    parent = ancestor_id(db, decided)
    if parent:
        keys.add(("parent", parent))
    for m in decided.parent_images:
        keys.add(("parent", "sha256:" + m.sha256))
    for item in decided.items:
        pdq = _pdq(item.signals)
        if pdq:
            keys.add(("pdq", pdq))
        # the look-ups the decision made (``bank.entries``, ``consent.templates``): none again
        for kind, fact in (("bank", "bank.entries"), ("consent", "consent.templates")):
            found = item.context.get(fact)
            if isinstance(found, list | tuple):  # never UNKNOWN (it has no truth value)
                keys.update((kind, str(v)) for v in found)
    return keys


def _pdq(signals: Any) -> str | None:
    """The image's PDQ hash: the pdq signal's, else the unrotated one of pdq_dihedral."""
    for name in ("pdq", BANK_SIGNAL_NAME):
        r = signals.get(name)
        if r is None or not r.available:
            continue
        value = r.value.get("original") if isinstance(r.value, dict) else r.value
        if isinstance(value, str) and len(value) == 64:
            return value.lower()
    return None


def record_case_keys(db: Any, services: Any, decided: Any, case: Any) -> None:
    """Store what may group ``case`` with others (inside ``record``'s transaction)."""
    from gardefou.cases.review_keep import request_text

    keys = _keys(db, decided)
    text = request_text(db, decided)
    if text:  # shown to the moderator beside the pair; never a grouping key
        keys.add(("request", text[:1000]))
    for kind, value in sorted(keys):
        db.execute(
            "INSERT INTO case_keys (case_id, kind, value) VALUES (?,?,?) "
            "ON CONFLICT (case_id, kind, value) DO NOTHING",
            (case.id, kind, value),
        )


def split(db: Any, case_id: int) -> None:
    """Take a case out of its cluster for good (an exception decided on its own)."""
    db.execute(
        "INSERT INTO case_keys (case_id, kind, value) VALUES (?,?,?) "
        "ON CONFLICT (case_id, kind, value) DO NOTHING",
        (case_id, SPLIT, "1"),
    )


def pdq_threshold(db: Any) -> int:
    row = db.query_one("SELECT MIN(threshold) AS t FROM banks WHERE enabled = 1 AND negative = 0")
    return int(row["t"]) if row and row["t"] is not None else DEFAULT_PDQ_THRESHOLD


class _Union:
    def __init__(self, ids: Iterable[int]) -> None:
        self.parent = {i: i for i in ids}

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def join(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _popcount(x: Any) -> Any:
    import numpy as np

    if hasattr(np, "bitwise_count"):  # numpy >= 2.0
        return np.bitwise_count(x)
    return np.unpackbits(x.view(np.uint8), axis=-1).reshape(*x.shape, 64).sum(axis=-1)


def _near_components(items: Sequence[tuple[int, str]], threshold: int) -> list[tuple[int, int]]:
    """(case id, the first case id of its component) per hash: connected by PDQ hashes within
    ``threshold`` bits (exact: every pair is compared, in blocks; edges joined vectorized)."""
    import numpy as np

    if len(items) < 2:
        return []
    ids = np.array([i for i, _ in items], dtype=np.int64)
    words = np.frombuffer(b"".join(bytes.fromhex(h) for _, h in items), dtype=">u8")
    words = words.astype(np.uint64).reshape(len(items), 4)
    rows, cols = [], []
    for start in range(0, len(items), 256):
        block = words[start : start + 256]
        pc = _popcount(block[:, None, :] ^ words[None, :, :])
        # four adds instead of .sum(): reductions over a tiny axis are slow in numpy
        dist = pc[..., 0].astype(np.uint16) + pc[..., 1] + pc[..., 2] + pc[..., 3]
        r, c = np.nonzero(dist <= threshold)
        keep = start + r < c
        rows.append(start + r[keep])
        cols.append(c[keep])
    a, b = np.concatenate(rows), np.concatenate(cols)
    label = np.arange(len(items))
    while True:  # min-label propagation over the edges, then pointer jumping
        m = np.minimum(label[a], label[b])
        new = label.copy()
        np.minimum.at(new, a, m)
        np.minimum.at(new, b, m)
        new = new[new]
        if np.array_equal(new, label):
            break
        label = new
    return [(int(ids[k]), int(ids[label[k]])) for k in range(len(items))]


def _lane(case: Any) -> tuple[str, str]:
    return case.status, str(getattr(case.action, "value", case.action))


@dataclass
class Cluster:
    id: int  # its smallest case id
    case_ids: list[int]
    count: int
    deadline_at: float
    severity: int
    status: str
    shared: list[str]  # what groups them: "bank", "parent", "consent", "pdq"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def clusters(db: Any, cases: Sequence[Any], deadline: Callable[[Any], float]) -> list[Cluster]:
    """Group ``cases`` (awaiting a person; cases of another status are never joined with
    these), earliest deadline first, then most severe."""
    by_id = {c.id: c for c in cases}
    if not by_id:
        return []
    keys: dict[int, list[tuple[str, str]]] = {i: [] for i in by_id}
    ids = list(by_id)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" for _ in chunk)
        for r in db.query(
            f"SELECT case_id, kind, value FROM case_keys WHERE case_id IN ({marks})", chunk
        ):
            keys[int(r["case_id"])].append((r["kind"], r["value"]))
    solo = {i for i, ks in keys.items() if (SPLIT, "1") in ks}
    u = _Union(by_id)
    how: dict[int, set[str]] = {i: set() for i in by_id}
    owner: dict[tuple[str, str, str, str], int] = {}
    for i in sorted(by_id):
        if i in solo:
            continue
        for kind, value in keys[i]:
            if kind not in EXACT:
                continue
            # only cases awaiting the same step with the same proposed action are one decision
            # (a copy that escalates for a possible minor is never swept into a plain removal)
            k = (*_lane(by_id[i]), kind, value)
            if k in owner:
                u.join(owner[k], i)
                how[i].add(kind)
                how[owner[k]].add(kind)
            else:
                owner[k] = i
    hashes = [(i, v) for i in sorted(by_id) if i not in solo for k, v in keys[i] if k == "pdq"]
    # near hashes are compared within a lane (same step, same proposed action) only
    lanes: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for i, v in hashes:
        lanes.setdefault(_lane(by_id[i]), []).append((i, v))
    threshold = pdq_threshold(db)
    for lane_hashes in lanes.values():
        comp = _near_components(lane_hashes, threshold)
        sizes: dict[int, int] = {}
        for _, root in comp:
            sizes[root] = sizes.get(root, 0) + 1
        for i, root in comp:
            if sizes[root] > 1:  # a hash alone in its component groups nothing
                u.join(i, root)
                how[i].add("pdq")
    groups: dict[int, list[int]] = {}
    for i in sorted(by_id):
        groups.setdefault(u.find(i), []).append(i)
    out = []
    for root, members in groups.items():
        cs = [by_id[i] for i in members]
        out.append(
            Cluster(
                id=root,
                case_ids=members,
                count=len(members),
                deadline_at=min(deadline(c) for c in cs),
                severity=max(c.severity for c in cs),
                status=cs[0].status,
                shared=sorted(set().union(*(how[i] for i in members))),
            )
        )
    out.sort(key=lambda c: (c.deadline_at, -c.severity, c.id))
    return out


def decide_cluster(
    store: Any,
    case_ids: Sequence[int],
    reviewer: str,
    action: Any,
    note: str = "",
    rule_id: str | None = None,
) -> list[Any]:
    """One decision applied to each case (a first or a second review, by status), each in its
    own transaction with its own record and DSA statement. A case that no longer awaits this
    decision stops the batch before anything is written (the moderator decides what they saw)."""
    cases = [store.get(i) for i in case_ids]
    statuses = {c.status for c in cases}
    if len(statuses) != 1 or not statuses <= {PENDING_REVIEW, SECOND_REVIEW}:
        raise ConfigError(
            f"cases {list(case_ids)} are {sorted(statuses)}; a cluster decision applies to "
            "cases that all await the same review (reload the queue)"
        )
    review = store.review if PENDING_REVIEW in statuses else store.second_review
    note = note or f"cluster decision on {len(cases)} cases"
    return [review(c.id, reviewer, action, note, rule_id) for c in cases]
