"""The project's one PIN hasher, and the wrong-PIN lockout shared by every worker.

Every secret a person gets back to prove a claim later (takedown and submission PINs, consent
withdrawal codes) is hashed and checked here. A PIN (takedown case, hash submission) is 8
digits: 10^8 values, so it is only as strong as the cost of each guess. Stored PINs are argon2id
(OWASP's minimum profile: 19 MiB, 2 passes, 1 lane; ~30 ms a check here), so a stolen table is
slow to brute-force; online guesses are capped per case by ``Attempts`` (stored, so the cap
holds across addresses, workers and restarts).

Hashes written before this module (``pbkdf2_sha256$<iterations>$<salt>$<digest>``, 120,000 or
200,000 iterations), and consent withdrawal codes hashed before they moved here
(``<salt>$<digest>``, 100,000 iterations over the salt's text), still verify; ``needs_rehash``
tells the caller to store an argon2id hash of the secret after its next successful check.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from gardefou.errors import RateLimitError
from gardefou.store.db import Database

_HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
#: a consent withdrawal code hashed by an older release: 8 random bytes as hex, then the digest
_CONSENT_LEGACY = re.compile(r"[0-9a-f]{16}\$[0-9a-f]{64}")
_dummy_hash: str | None = None
_dummy_lock = threading.Lock()


def hash_pin(pin: str) -> str:
    """An argon2id hash of ``pin`` (salted; the PIN itself is never stored)."""
    return _HASHER.hash(pin)


def check_pin(pin: str, stored: str) -> bool:
    """Whether ``pin`` matches ``stored`` (argon2id, or a legacy PBKDF2 hash); constant-time."""
    if stored.startswith("pbkdf2_sha256$"):
        _, iterations, salt, digest = stored.split("$")
        got = hashlib.pbkdf2_hmac("sha256", pin.encode(), bytes.fromhex(salt), int(iterations))
        return hmac.compare_digest(got.hex(), digest)
    if _CONSENT_LEGACY.fullmatch(stored):
        salt, _, digest = stored.partition("$")
        got = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt.encode(), 100_000)
        return hmac.compare_digest(got.hex(), digest)
    try:
        return _HASHER.verify(stored, pin)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """True for a legacy PBKDF2 hash or an argon2 hash with weaker parameters than today's."""
    if stored.startswith("pbkdf2_sha256$") or _CONSENT_LEGACY.fullmatch(stored):
        return True
    return _HASHER.check_needs_rehash(stored)


def dummy_check(pin: str) -> None:
    """Spend what a wrong PIN costs, for a case that does not exist: the answer's timing must
    not tell which case numbers are real."""
    global _dummy_hash
    with _dummy_lock:
        if _dummy_hash is None:
            _dummy_hash = _HASHER.hash("not-a-pin")
    check_pin(pin, _dummy_hash)


@dataclass(frozen=True)
class LockoutPolicy:
    """``free`` wrong PINs per case, then each further one locks the case for ``base_s``
    doubling up to ``max_s``: 10^8 PINs at one guess an hour is out of reach, and the person
    who mistypes is never locked out for more than an hour."""

    free: int = 5
    base_s: float = 60.0
    max_s: float = 3600.0
    forget_after_s: float = 86400.0  # a case with no wrong PIN for a day starts afresh

    def lock_for(self, failures: int) -> float:
        if failures < self.free:
            return 0.0
        return min(self.max_s, self.base_s * 2.0 ** min(failures - self.free, 40))


class Attempts:
    """Wrong-PIN counters per (scope, case number) in the store (table ``pin_attempts``; this
    class is its owner). Unknown case numbers are counted too, so that the lockout itself does
    not reveal which cases exist."""

    def __init__(
        self,
        db: Database,
        scope: str,
        *,
        policy: LockoutPolicy | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.scope = scope
        self.policy = policy or LockoutPolicy()
        self.clock = clock

    def check(self, subject: str) -> None:
        """Raise RateLimitError while ``subject`` is locked (before any PIN is hashed)."""
        row = self.db.query_one(
            "SELECT locked_until FROM pin_attempts WHERE scope = ? AND subject = ?",
            (self.scope, subject),
        )
        wait = float(row["locked_until"]) - self.clock() if row else 0.0
        if wait > 0:
            raise RateLimitError(
                f"too many wrong PINs for case {subject!r}; try again in {wait:.0f} s "
                "(check the case number and PIN on your receipt)",
                retry_after=wait,
            )

    def failed(self, subject: str) -> None:
        """Count one wrong PIN and lock if due. The increment is one upsert, so two workers
        counting at once never lose a failure (PostgreSQL holds the row lock to commit)."""
        with self.db.transaction():
            self._count(subject, self.clock(), refuse_if_locked=False)

    def begin(self, subject: str) -> None:
        """Refuse while ``subject`` is locked, else count this attempt as a failure *before* its
        PIN is hashed (``succeeded`` clears it), in one transaction: a burst of simultaneous
        guesses is counted one by one, so the guess after the free ones is refused even when
        all of them arrive before the first is hashed."""
        now = self.clock()
        with self.db.transaction():
            wait = self._count(subject, now, refuse_if_locked=True)
            if wait > 0:  # raising rolls the count back: a refused guess is not counted
                raise RateLimitError(
                    f"too many wrong PINs for case {subject!r}; try again in {wait:.0f} s "
                    "(check the case number and PIN on your receipt)",
                    retry_after=wait,
                )

    def _count(self, subject: str, now: float, *, refuse_if_locked: bool) -> float:
        """One more failure for ``subject`` (inside the caller's transaction) and the lock it
        earns. With ``refuse_if_locked``, a lock set *before* this call is left as it is and
        the time it still runs is returned (the caller raises, which undoes the count)."""
        stale = now - self.policy.forget_after_s
        self.db.execute(
            "INSERT INTO pin_attempts (scope, subject, failures, locked_until, updated_at) "
            "VALUES (?,?,1,0,?) ON CONFLICT (scope, subject) DO UPDATE SET failures = "
            "CASE WHEN pin_attempts.updated_at < ? THEN 1 ELSE pin_attempts.failures + 1 END,"
            " updated_at = excluded.updated_at",
            (self.scope, subject, now, stale),
        )
        row = self.db.query_one(
            "SELECT failures, locked_until FROM pin_attempts WHERE scope = ? AND subject = ?",
            (self.scope, subject),
        )
        failures = int(row["failures"]) if row else 1
        held = float(row["locked_until"]) - now if row else 0.0
        if refuse_if_locked and held > 0:
            return held
        lock = self.policy.lock_for(failures)
        if lock > 0:
            self.db.execute(
                "UPDATE pin_attempts SET locked_until = ? WHERE scope = ? AND subject = ?",
                (now + lock, self.scope, subject),
            )
        # now and then (1 in 64, at random: not tied to the case, so no timing tell),
        # forget counters idle for a day: the table stays bounded
        if secrets.randbelow(64) == 0:
            self.db.execute(
                "DELETE FROM pin_attempts WHERE updated_at < ? AND locked_until < ?",
                (stale, now),
            )
        return 0.0

    def verify(self, subject: str, pin: str, stored: str | None) -> bool:
        """The whole guarded check: refuse while locked, compare ``pin`` with ``stored`` (or,
        for an unknown subject, spend the same time on a dummy hash), count the outcome."""
        self.begin(subject)  # counted as wrong until the hash says otherwise
        if stored is None:
            dummy_check(pin)
        if stored is None or not check_pin(pin, stored):
            return False
        self.succeeded(subject)
        return True

    def succeeded(self, subject: str) -> None:
        self.db.execute(
            "DELETE FROM pin_attempts WHERE scope = ? AND subject = ?", (self.scope, subject)
        )
