"""API keys with roles. Keys are random, shown once, and stored as SHA-256 digests.

Every request reads its key's row (one indexed lookup on the unique ``key_hash``): nothing about
a key is cached in the process, so a revocation by another worker or by ``gardefou apikey
revoke`` is refused on the very next request everywhere. Keys are 192-bit random, so a plain
SHA-256 is the whole verification; a slow hash would buy nothing and cost every request.

Roles: ``admin`` (everything, key management), ``moderator`` (review console: cases, takedown
requests, banks), ``auditor`` (read-only: cases, decisions, reports, takedown queue),
``platform`` (services: scan, match, guard, ingest), ``public`` (no key: the takedown portal).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from gardefou import clock
from gardefou.errors import AuthError, ConfigError, NotFoundError
from gardefou.store.db import Database


class Role(StrEnum):
    ADMIN = "admin"
    MODERATOR = "moderator"
    AUDITOR = "auditor"
    PLATFORM = "platform"
    PUBLIC = "public"


@dataclass(frozen=True)
class Principal:
    """Who is calling: a key's id, name and role (anonymous callers are role ``public``)."""

    key_id: int | None
    name: str
    role: Role

    @property
    def anonymous(self) -> bool:
        return self.key_id is None and self.role is Role.PUBLIC


ANONYMOUS = Principal(None, "anonymous", Role.PUBLIC)
BOOTSTRAP = Principal(0, "bootstrap-admin", Role.ADMIN)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class KeyStore:
    def __init__(self, db: Database, bootstrap_admin_key: str | None = None) -> None:
        self.db = db
        self._bootstrap = _digest(bootstrap_admin_key) if bootstrap_admin_key else None

    def create(self, name: str, role: str) -> tuple[int, str]:
        """Create a key; return (id, key). The key is shown once and never stored in clear."""
        if not name.strip() or len(name) > 100:
            raise ConfigError(f"key name {name[:100]!r} must be 1-100 characters")
        try:
            r = Role(role)
        except ValueError:
            raise ConfigError(
                f"role {role!r} unknown; use one of {', '.join(x.value for x in Role)}"
            ) from None
        key = "gf_" + secrets.token_urlsafe(24)
        kid = self.db.insert(
            "INSERT INTO api_keys (name, role, key_hash, prefix, created_at) VALUES (?,?,?,?,?)",
            (
                name.strip(),
                str(r),
                _digest(key),
                key[:7],
                clock.now("seconds"),
            ),
        )
        return kid, key

    def list(self) -> list[dict[str, Any]]:
        return self.db.query(
            "SELECT id, name, role, prefix, created_at, revoked_at FROM api_keys ORDER BY id"
        )

    def revoke(self, key_id: int) -> None:
        row = self.db.query_one("SELECT id FROM api_keys WHERE id = ?", (key_id,))
        if row is None:
            raise NotFoundError(f"API key {key_id} does not exist")
        self.db.execute(
            "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            (clock.now("seconds"), key_id),
        )

    def verify(self, key: str) -> Principal:
        digest = _digest(key)
        if self._bootstrap is not None and hmac.compare_digest(digest, self._bootstrap):
            return BOOTSTRAP
        # No per-process cache: the store is the one truth about revocation (issue 13 H1).
        row = self.db.query_one(
            "SELECT id, name, role FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL",
            (digest,),
        )
        if row is None:
            raise AuthError("API key unknown or revoked; ask an administrator for a valid key")
        return Principal(int(row["id"]), row["name"], Role(row["role"]))
