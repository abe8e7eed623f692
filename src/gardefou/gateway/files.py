"""``response_format=url``: checked, labelled images kept for a while behind signed links.

Only when the operator configures storage (``image_dir``, a local directory, and ``image_url``,
the public base URL of the gateway's ``/v1/images/files/`` route). An image is written under
the SHA-256 of its (labelled) bytes and answered as

    {image_url}/v1/images/files/{sha256}.{ext}?expires={unix time}&sig={HMAC-SHA256}

The HMAC covers the name and the expiry, so a link cannot be extended or pointed at another
file; past ``url_ttl_s`` it is refused (410) and the file is deleted by the next sweep. The key
is ``url_secret`` (GARDEFOU_GATEWAY_URL_SECRET) or, when unset, a random key kept in
``image_dir/.url-secret`` (mode 0600) so that every gateway worker sharing the directory signs
and checks the same links. Only images the gateway itself released are ever stored here.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from gardefou.errors import ConfigError, GoneError, NotFoundError

_NAME = re.compile(r"[0-9a-f]{64}\.(png|jpg|webp)")
_EXT = {b"\x89PNG": "png", b"\xff\xd8\xff": "jpg", b"RIFF": "webp"}
MIME = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}
SWEEP_EVERY_S = 600.0


@dataclass
class ImageFiles:
    directory: Path
    base_url: str
    ttl_s: int = 3600
    secret: bytes = b""
    _swept: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self.directory = Path(self.directory)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            probe = self.directory / ".write-probe"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise ConfigError(
                f"image_dir {str(self.directory)!r} is not a writable directory "
                f"({exc.strerror}); create it for the gateway's user or unset it"
            ) from None
        self.base_url = self.base_url.rstrip("/")
        if not self.secret:
            self.secret = _shared_secret(self.directory / ".url-secret")

    def _sig(self, name: str, expires: int) -> str:
        return hmac.new(self.secret, f"{name}:{expires}".encode(), hashlib.sha256).hexdigest()

    def put(self, data: bytes, now: float | None = None) -> str:
        """Store ``data`` and return its signed, expiring link."""
        now = time.time() if now is None else now
        ext = next((e for magic, e in _EXT.items() if data.startswith(magic)), "png")
        name = f"{hashlib.sha256(data).hexdigest()}.{ext}"
        path = self.directory / name
        if not path.exists():
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(data)
            tmp.replace(path)  # atomic: a reader never sees half an image
        else:
            os.utime(path)  # kept as long as its newest link
        if now - self._swept > SWEEP_EVERY_S:
            self.sweep(now)
        expires = int(now) + self.ttl_s
        sig = self._sig(name, expires)
        return f"{self.base_url}/v1/images/files/{name}?expires={expires}&sig={sig}"

    def open(self, name: str, expires: str, sig: str, now: float | None = None) -> Path:
        """The file a link names, after checking its signature and expiry."""
        try:
            exp = int(expires)
        except ValueError:
            exp = -1
        if not _NAME.fullmatch(name) or not hmac.compare_digest(self._sig(name, exp), sig):
            raise NotFoundError("no such image link (unknown name or bad signature)")
        if (time.time() if now is None else now) > exp:
            raise GoneError(
                f"this image link expired at {exp} (links last {self.ttl_s} s); "
                "generate the image again"
            )
        path = self.directory / name
        if not path.is_file():
            raise GoneError("this image is no longer kept; generate it again")
        return path

    def sweep(self, now: float | None = None) -> int:
        """Delete images whose newest link has expired; the number deleted."""
        now = time.time() if now is None else now
        self._swept = now
        gone = 0
        for path in self.directory.iterdir():
            if _NAME.fullmatch(path.name):
                try:
                    if path.stat().st_mtime + self.ttl_s < now:
                        path.unlink()
                        gone += 1
                except FileNotFoundError:  # another worker swept it first
                    pass
        return gone


def _shared_secret(path: Path) -> bytes:
    """The link key shared by every worker using this directory, created once."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # another worker may be writing it right now
            key = path.read_bytes().strip()
            if len(key) >= 32:
                return key
            time.sleep(0.01)
        raise ConfigError(
            f"{str(path)!r} holds no usable link key; delete it (a new one is made) or set "
            "GARDEFOU_GATEWAY_URL_SECRET"
        ) from None
    with os.fdopen(fd, "wb") as f:
        key = secrets.token_hex(32).encode()
        f.write(key)
    return key
