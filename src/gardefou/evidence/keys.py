"""Keys for evidence: an AES-256-GCM key for blobs at rest and an Ed25519 key for checkpoints.

Keys live in a directory (``$GARDEFOU_EVIDENCE_KEYS``, else ``evidence-keys/`` beside the
database) written by ``gardefou evidence keygen`` with owner-only permissions:

    blob.key          32 random bytes, base64 (``$GARDEFOU_EVIDENCE_BLOB_KEY`` overrides it)
    signing.pem       Ed25519 private key, PKCS#8 PEM
    signing.pub.pem   its public key, to hand to whoever verifies exported bundles

No key is ever generated implicitly: losing the blob key loses the evidence, so creating one is
an explicit, logged act. Tests generate throwaway keys in temporary folders.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gardefou.errors import ConfigError, ProofError


def _crypto() -> Any:
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ImportError:
        raise ConfigError(
            "evidence signing and encryption need `cryptography`; install it with "
            "`pip install 'gardefou[reports]'`"
        ) from None
    return serialization, ed25519


def key_id(public_raw: bytes) -> str:
    """Short stable name of a public key: the first 8 bytes of its SHA-256, hex."""
    return hashlib.sha256(public_raw).hexdigest()[:16]


@dataclass(frozen=True)
class Verifier:
    """An Ed25519 public key that checks signatures."""

    public_raw: bytes

    @property
    def key_id(self) -> str:
        return key_id(self.public_raw)

    def verify(self, signature: bytes, message: bytes) -> bool:
        _, ed25519 = _crypto()
        from cryptography.exceptions import InvalidSignature

        try:
            ed25519.Ed25519PublicKey.from_public_bytes(self.public_raw).verify(signature, message)
        except InvalidSignature:
            return False
        return True

    def pem(self) -> bytes:
        serialization, ed25519 = _crypto()
        return ed25519.Ed25519PublicKey.from_public_bytes(self.public_raw).public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @classmethod
    def from_pem(cls, data: bytes) -> Verifier:
        serialization, ed25519 = _crypto()
        from cryptography.exceptions import UnsupportedAlgorithm

        try:
            key = serialization.load_pem_public_key(data)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            # a damaged key file can also name an unknown algorithm: still "not a valid key"
            raise ProofError(f"not a PEM public key: {exc}") from None
        if not isinstance(key, ed25519.Ed25519PublicKey):
            raise ProofError(f"public key is {type(key).__name__}, not Ed25519")
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return cls(raw)


class Signer:
    """An Ed25519 private key."""

    def __init__(self, private: Any) -> None:
        self._private = private
        serialization, _ = _crypto()
        raw = private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.verifier = Verifier(raw)

    @classmethod
    def generate(cls) -> Signer:
        _, ed25519 = _crypto()
        return cls(ed25519.Ed25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, data: bytes, source: str = "<pem>") -> Signer:
        serialization, ed25519 = _crypto()
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"{source}: not an unencrypted PEM private key ({exc})") from None
        if not isinstance(key, ed25519.Ed25519PrivateKey):
            raise ConfigError(f"{source}: key is {type(key).__name__}, expected Ed25519")
        return cls(key)

    def pem(self) -> bytes:
        serialization, _ = _crypto()
        return self._private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def sign(self, message: bytes) -> bytes:
        return bytes(self._private.sign(message))


@dataclass(frozen=True)
class EvidenceKeys:
    blob_key: bytes
    signer: Signer

    @classmethod
    def generate(cls) -> EvidenceKeys:
        return cls(secrets.token_bytes(32), Signer.generate())

    def save(self, directory: str | os.PathLike[str]) -> Path:
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True, mode=0o700)
        for name, data, mode in (
            ("blob.key", base64.b64encode(self.blob_key) + b"\n", 0o600),
            ("signing.pem", self.signer.pem(), 0o600),
            ("signing.pub.pem", self.signer.verifier.pem(), 0o644),
        ):
            path = d / name
            if path.exists():
                raise ConfigError(f"{path} already exists; refusing to overwrite an evidence key")
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
        return d

    @classmethod
    def load(cls, directory: str | os.PathLike[str]) -> EvidenceKeys:
        d = Path(directory)
        env_key = os.environ.get("GARDEFOU_EVIDENCE_BLOB_KEY")
        try:
            blob_b64 = env_key.encode() if env_key else (d / "blob.key").read_bytes()
            pem = (d / "signing.pem").read_bytes()
        except FileNotFoundError as exc:
            raise ConfigError(
                f"evidence key {exc.filename} not found; create keys with "
                f"`gardefou evidence keygen --keys {d}` (and back them up)"
            ) from None
        try:
            blob_key = base64.b64decode(blob_b64.strip(), validate=True)
        except ValueError:
            raise ConfigError("evidence blob key is not valid base64") from None
        if len(blob_key) != 32:
            raise ConfigError(f"evidence blob key has {len(blob_key)} bytes, expected 32")
        return cls(blob_key, Signer.from_pem(pem, str(d / "signing.pem")))
