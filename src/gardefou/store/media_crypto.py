"""Review images encrypted at rest: the evidence blobs' scheme (AES-256-GCM, ``MAGIC || nonce ||
ciphertext+tag``), with the row's owner and the image's SHA-256 as associated data, so a
ciphertext copied to another case's row fails to decrypt.

The key: ``$GARDEFOU_REVIEW_MEDIA_KEY`` (32 bytes, base64), else ``review-media.key`` in the
evidence key folder (``$GARDEFOU_EVIDENCE_KEYS``, else ``evidence-keys/`` beside the SQLite
database). Unlike the evidence blob key, this one is created on first use: losing it loses only
images that a retention of days would delete anyway, never evidence. Every process that keeps or
shows review images (workers, ``gardefou serve``) must read the same key: with PostgreSQL, set
the variable (or share the folder).
"""

from __future__ import annotations

import base64
import logging
import os
import secrets
from pathlib import Path
from typing import Any

from gardefou.errors import ConfigError, EvidenceError

MAGIC = b"GFR1"
KEY_FILE = "review-media.key"
log = logging.getLogger(__name__)


def _aesgcm(key: bytes) -> Any:
    try:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    except ImportError:
        raise ConfigError(
            "review images are encrypted at rest with `cryptography`; "
            "`pip install 'gardefou[reports]'`"
        ) from None
    return AESGCM(key)


#: (database url, working directory) -> its key folder: resolving the path took most of the
#: ~1 ms every kept or held image paid for its key (a flood holds every post's images)
_FOLDERS: dict[tuple[str, str], Path] = {}
#: key file -> ((inode, size, mtime), key): read again whenever the file changes
_KEYS: dict[Path, tuple[tuple[int, int, int], bytes]] = {}


def key_folder(db: Any) -> Path:
    """Where ``review-media.key`` lives for the store ``db``."""
    env = os.environ.get("GARDEFOU_EVIDENCE_KEYS")
    if env:
        return Path(env)
    url = str(getattr(db, "url", "") or "")
    if url.startswith(("postgresql://", "postgres://")) or not url or url == ":memory:":
        from gardefou.store.db import default_db_path

        return default_db_path().parent / "evidence-keys"
    path = url.removeprefix("sqlite:///")
    # a relative database path resolves against the cwd (asked only then, as resolve() did)
    where = (url, "" if os.path.isabs(path) else os.getcwd())
    if where not in _FOLDERS:
        _FOLDERS[where] = Path(path).resolve().parent / "evidence-keys"
    return _FOLDERS[where]


def _decode_key(text: str, where: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise ConfigError(
            f"{where} is not 32 bytes of base64 (got {text.strip()[:12]!r}...); make one with "
            '`python -c "import os,base64;print(base64.b64encode(os.urandom(32)).decode())"`'
        )
    return key


def load_key(db: Any) -> bytes:
    env = os.environ.get("GARDEFOU_REVIEW_MEDIA_KEY")
    if env:
        return _decode_key(env, "$GARDEFOU_REVIEW_MEDIA_KEY")
    path = key_folder(db) / KEY_FILE
    try:
        st = os.stat(path)
    except FileNotFoundError:
        pass
    else:
        stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
        known = _KEYS.get(path)
        if known is not None and known[0] == stamp:
            return known[1]
        key = _decode_key(path.read_text(encoding="ascii"), str(path))
        _KEYS[path] = (stamp, key)
        return key
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_bytes(32)
    # O_EXCL: two workers starting together create one key, the other reads it
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _decode_key(path.read_text(encoding="ascii"), str(path))
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(base64.b64encode(key).decode() + "\n")
    log.warning("created the review image key %s (keep it with the evidence keys)", path)
    return key


class ReviewCipher:
    """Seals and opens review image bytes bound to ``(owner, sha256)``."""

    def __init__(self, key: bytes) -> None:
        self._aead = _aesgcm(key)

    @classmethod
    def for_db(cls, db: Any) -> ReviewCipher:
        return cls(load_key(db))

    def seal(self, data: bytes | None, owner: str, sha256: str) -> bytes | None:
        if data is None:
            return None
        nonce = secrets.token_bytes(12)
        return MAGIC + nonce + self._aead.encrypt(nonce, data, f"{owner}:{sha256}".encode())

    def open(self, blob: bytes | None, owner: str, sha256: str) -> bytes | None:
        if blob is None:
            return None
        from cryptography.exceptions import InvalidTag

        blob = bytes(blob)
        if blob[:4] != MAGIC or len(blob) < 4 + 12 + 16:
            raise EvidenceError(f"review image of {owner}: not a gardefou encrypted image")
        try:
            return bytes(self._aead.decrypt(blob[4:16], blob[16:], f"{owner}:{sha256}".encode()))
        except InvalidTag:
            raise EvidenceError(
                f"review image of {owner} fails authentication: wrong key "
                "($GARDEFOU_REVIEW_MEDIA_KEY / review-media.key differ between processes?) "
                "or an altered row"
            ) from None
