"""The append-only evidence log: every entry is a leaf of an RFC 9162 Merkle tree.

An entry's leaf data is its canonical JSON body (sorted keys, no spaces, UTF-8), which carries
its own sequence number, so a reordered export names the first misplaced entry. Rows are written
in one transaction; the in-memory tree follows *committed* rows only, so a crash or a failed
write mid-append leaves a database whose log still verifies (tests/test_evidence_crash.py kills a
writer process mid-append). Several processes may append to one database: a sequence-number
conflict reloads the rows the other writer committed and retries.

Checkpoints are signed notes over (origin, tree size, root, time): publish them, and any later
rewrite of history is caught by a consistency proof against the published root.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from gardefou import clock
from gardefou.errors import EvidenceError, ProofError
from gardefou.evidence.keys import Signer, Verifier
from gardefou.evidence.merkle import MerkleTree, leaf_hash
from gardefou.store.db import Database

NOTE_HEADER = "gardefou-evidence/v1"
_INSERT = (
    "INSERT INTO evidence_entries (seq, leaf_hash, kind, subject, body, created_at) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class Receipt:
    """What an append returns: where the entry sits and the proof that it is in the tree."""

    seq: int
    leaf_hash: bytes
    tree_size: int
    root: bytes
    proof: tuple[bytes, ...]

    def to_dict(self) -> dict[str, Any]:
        b64 = base64.b64encode
        return {"seq": self.seq, "leaf_hash": self.leaf_hash.hex(),
                "tree_size": self.tree_size, "root": self.root.hex(),
                "proof": [b64(p).decode() for p in self.proof]}  # fmt: skip


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    tree_size: int
    root: bytes
    timestamp: str
    key_id: str
    signature: bytes

    @staticmethod
    def note_text(origin: str, tree_size: int, root: bytes, timestamp: str) -> str:
        root_b64 = base64.b64encode(root).decode()
        return f"{NOTE_HEADER} {origin}\n{tree_size}\n{root_b64}\n{timestamp}\n"

    @property
    def note(self) -> str:
        return self.note_text(self.origin, self.tree_size, self.root, self.timestamp)

    def serialize(self) -> str:
        """The signed note: body, a blank line, then ``— <key id> <base64 signature>``."""
        return f"{self.note}\n\u2014 {self.key_id} {base64.b64encode(self.signature).decode()}\n"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        try:
            body, sig_line = text.split("\n\n", 1)
            head, size, root_b64, ts = body.split("\n")
            header, origin = head.split(" ", 1)
            dash, kid, sig_b64 = sig_line.strip("\n").split(" ")
            if header != NOTE_HEADER or dash != "\u2014":
                raise ValueError("bad header")
            cp = cls(origin, int(size), base64.b64decode(root_b64, validate=True), ts, kid,
                     base64.b64decode(sig_b64, validate=True))  # fmt: skip
        except ValueError as exc:
            raise ProofError(f"malformed checkpoint ({exc}): {text[:120]!r}") from None
        if cp.serialize() != text:
            raise ProofError("checkpoint is not in canonical form (extra or altered bytes)")
        return cp

    def verify(self, verifier: Verifier) -> None:
        if self.key_id != verifier.key_id:
            raise ProofError(f"checkpoint signed by key {self.key_id}, not {verifier.key_id}")
        if not verifier.verify(self.signature, self.note.encode()):
            raise ProofError(f"checkpoint signature invalid (tree size {self.tree_size})")


def _is_conflict(exc: BaseException) -> bool:
    if isinstance(exc, sqlite3.IntegrityError):
        return True
    return type(exc).__name__ in ("UniqueViolation", "IntegrityError")


class EvidenceLog:
    """The Merkle log over the ``evidence_entries`` table of one database."""

    def __init__(
        self, db: Database, signer: Signer | None = None, origin: str = "gardefou"
    ) -> None:
        if not origin.strip() or any(c in origin for c in "\n\r\u2014"):
            raise EvidenceError(f"log origin {origin!r} must be one line of text (e.g. a domain)")
        self.db = db
        self.signer = signer
        self.origin = origin
        self.tree = MerkleTree()
        self._lock = threading.RLock()
        self.refresh()

    def refresh(self) -> int:
        """Load entries other writers committed since we last looked; return the tree size."""
        with self._lock:
            while True:
                rows = self.db.query(
                    "SELECT seq, leaf_hash FROM evidence_entries WHERE seq >= ? ORDER BY seq "
                    "LIMIT 100000",
                    (self.tree.size,),
                )
                for row in rows:
                    if row["seq"] != self.tree.size:
                        raise EvidenceError(
                            f"evidence log has a gap: expected entry {self.tree.size}, "
                            f"found {row['seq']}"
                        )
                    self.tree.append(bytes(row["leaf_hash"]))
                if len(rows) < 100000:
                    return self.tree.size

    @property
    def size(self) -> int:
        return self.tree.size

    def append(self, kind: str, fields: Mapping[str, Any], subject: str | None = None) -> Receipt:
        return self.append_many([(kind, fields, subject)])[0]

    def append_many(
        self, items: list[tuple[str, Mapping[str, Any], str | None]], extra_sql: Any = None
    ) -> list[Receipt]:
        """Append entries in one transaction and return a receipt (with proof) for each.

        ``extra_sql(db, seqs)`` runs inside the same transaction (e.g. to index a blob row), so
        the entries and their side rows commit together or not at all.
        """
        if getattr(self.db, "_depth", 0):
            raise EvidenceError(
                "append to the evidence log outside any other transaction: its Merkle tree "
                "must only follow committed rows"
            )
        with self._lock:
            for _attempt in range(20):
                start = self.tree.size
                rows = []
                now = clock.now_z()
                for i, (kind, fields, subject) in enumerate(items):
                    body = canonical_json({**fields, "kind": kind, "seq": start + i, "time": now})
                    lh = leaf_hash(body.encode())
                    rows.append((start + i, lh, kind, subject, body, now))
                try:
                    with self.db.transaction() as db:  # rolls back (PostgreSQL too) on error
                        if len(rows) == 1:
                            db.execute(_INSERT, rows[0])
                        else:
                            db.executemany(_INSERT, rows)
                        if extra_sql is not None:
                            extra_sql(db, [r[0] for r in rows])
                except Exception as exc:
                    if not _is_conflict(exc):
                        raise
                    self.refresh()  # another writer took these sequence numbers
                    continue
                for r in rows:
                    self.tree.append(r[1])
                size = self.tree.size
                if len(rows) == 1:
                    root, proof = self.tree.newest_receipt()
                    return [Receipt(rows[0][0], rows[0][1], size, root, tuple(proof))]
                root = self.tree.root(size)
                return [
                    Receipt(r[0], r[1], size, root, tuple(self.tree.inclusion_proof(r[0], size)))
                    for r in rows
                ]
            raise EvidenceError("evidence log append kept conflicting with other writers")

    def entries(self, start: int = 0, end: int | None = None) -> Iterator[dict[str, Any]]:
        end = self.tree.size if end is None else end
        pos = start
        while pos < end:
            rows = self.db.query(
                "SELECT seq, leaf_hash, kind, subject, body, created_at FROM evidence_entries "
                "WHERE seq >= ? AND seq < ? ORDER BY seq LIMIT 10000",
                (pos, end),
            )
            if not rows:
                return
            yield from rows
            pos = rows[-1]["seq"] + 1

    # -- checkpoints -----------------------------------------------------------------------------
    def checkpoint(self) -> Checkpoint:
        """Sign and store a checkpoint at the current size (idempotent per size)."""
        if self.signer is None:
            raise EvidenceError("signing a checkpoint needs the evidence signing key")
        with self._lock:
            self.refresh()
            size = self.tree.size
            existing = self.checkpoint_at(size)
            if existing is not None:
                return existing
            root = self.tree.root(size)
            ts = clock.now_z()
            note = Checkpoint.note_text(self.origin, size, root, ts)
            sig = self.signer.sign(note.encode())
            cp = Checkpoint(self.origin, size, root, ts, self.signer.verifier.key_id, sig)
            try:
                self.db.execute(
                    "INSERT INTO evidence_checkpoints (tree_size, root, note, key_id, signature, "
                    "created_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (size, root, cp.serialize(), cp.key_id, sig, ts),
                )
            except Exception as exc:
                if not _is_conflict(exc):
                    raise
                found = self.checkpoint_at(size)
                assert found is not None
                return found
            return cp

    def checkpoint_at(self, size: int) -> Checkpoint | None:
        row = self.db.query_one(
            "SELECT note FROM evidence_checkpoints WHERE tree_size = ?", (size,)
        )
        return Checkpoint.parse(row["note"]) if row else None

    def checkpoints(self) -> list[Checkpoint]:
        rows = self.db.query("SELECT note FROM evidence_checkpoints ORDER BY tree_size")
        return [Checkpoint.parse(r["note"]) for r in rows]

    # -- self-check ------------------------------------------------------------------------------
    def verify(self, verifier: Verifier | None = None) -> dict[str, Any]:
        """Recompute the whole log from the stored bodies; raise ProofError on any mismatch."""
        verifier = verifier or (self.signer.verifier if self.signer else None)
        self.refresh()
        rebuilt = MerkleTree()
        for row in self.entries(0, 1 << 62):
            seq, body = row["seq"], row["body"]
            if seq != rebuilt.size:
                raise ProofError(f"evidence log gap or reorder at entry {rebuilt.size} (got {seq})")
            lh = leaf_hash(body.encode())
            if lh != bytes(row["leaf_hash"]):
                raise ProofError(f"evidence entry {seq}: body does not match its stored leaf hash")
            if json.loads(body).get("seq") != seq:
                raise ProofError(f"evidence entry {seq}: body names another sequence number")
            rebuilt.append(lh)
        if rebuilt.size < self.tree.size:
            raise ProofError(f"log has {rebuilt.size} readable entries, tree had {self.tree.size}")
        checked = 0
        for cp in self.checkpoints():
            if cp.tree_size > rebuilt.size:
                raise ProofError(f"checkpoint at size {cp.tree_size} is beyond the log's end")
            if rebuilt.root(cp.tree_size) != cp.root:
                raise ProofError(f"checkpoint at size {cp.tree_size}: root does not match the log")
            if verifier is not None:
                cp.verify(verifier)
            checked += 1
        return {"entries": rebuilt.size, "root": rebuilt.root().hex(), "checkpoints": checked}
