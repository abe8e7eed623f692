"""Content-addressed, encrypted blob store.

A blob is named by the SHA-256 of its *plaintext* and stored as
``<root>/<aa>/<sha256>.gfe`` = ``b"GFE1" || nonce(12) || AES-256-GCM(ciphertext || tag)``, with
the address as associated data so a ciphertext moved under another name fails to decrypt. Writes
go to a temporary file, are fsynced and renamed into place, so a crash leaves either the whole
blob or none (at worst an orphan temporary file, never a torn blob).
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from pathlib import Path

from gardefou.errors import ConfigError, EvidenceError, NotFoundError

MAGIC = b"GFE1"
_SHA_RE = re.compile(r"[0-9a-f]{64}")


def _aesgcm(key: bytes):
    try:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    except ImportError:
        raise ConfigError(
            "evidence encryption needs `cryptography`; `pip install 'gardefou[reports]'`"
        ) from None
    return AESGCM(key)


def check_address(sha256: str) -> str:
    if not _SHA_RE.fullmatch(sha256):
        raise EvidenceError(f"not a SHA-256 hex address: {sha256!r} (64 lowercase hex digits)")
    return sha256


class BlobStore:
    def __init__(self, root: str | os.PathLike[str], key: bytes) -> None:
        self.root = Path(root)
        self._aead = _aesgcm(key)

    def path(self, sha256: str) -> Path:
        check_address(sha256)
        return self.root / sha256[:2] / f"{sha256}.gfe"

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).exists()

    def put(self, data: bytes) -> str:
        """Store ``data`` (idempotent) and return its SHA-256 hex address."""
        sha = hashlib.sha256(data).hexdigest()
        path = self.path(sha)
        if path.exists():
            return sha
        nonce = secrets.token_bytes(12)
        blob = MAGIC + nonce + self._aead.encrypt(nonce, data, sha.encode())
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{sha}.{secrets.token_hex(4)}.tmp")
        with open(tmp, "wb") as fh:
            fh.write(blob)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        return sha

    def get(self, sha256: str) -> bytes:
        path = self.path(sha256)
        try:
            blob = path.read_bytes()
        except FileNotFoundError:
            raise NotFoundError(
                f"evidence blob {sha256} is not stored (deleted or never kept)"
            ) from None
        from cryptography.exceptions import InvalidTag

        if blob[:4] != MAGIC or len(blob) < 4 + 12 + 16:
            raise EvidenceError(f"evidence blob {sha256}: not a gardefou encrypted blob")
        try:
            data = self._aead.decrypt(blob[4:16], blob[16:], sha256.encode())
        except InvalidTag:
            raise EvidenceError(
                f"evidence blob {sha256} fails authentication: wrong key or altered file"
            ) from None
        if hashlib.sha256(data).hexdigest() != sha256:
            raise EvidenceError(f"evidence blob {sha256}: content does not match its address")
        return bytes(data)

    def delete(self, sha256: str) -> bool:
        try:
            self.path(sha256).unlink()
        except FileNotFoundError:
            return False
        return True
