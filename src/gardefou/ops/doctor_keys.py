"""Doctor's key checks: each secret gardefou reads is present where it is needed and readable
by its owner only. A private key others can read is an error (anyone on the host could sign
evidence checkpoints or decrypt review images); a missing optional key is a warning saying
which feature is off and the command that creates it."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path
from typing import Any

from gardefou.ops.checks import ERROR, OK, WARNING, Check

#: file in the evidence key folder -> (check name, the variable that replaces the file, what
#: its absence means and the fix)
EVIDENCE_FILES = {
    "signing.pem": (
        "key.evidence_signing",
        None,
        "evidence checkpoints cannot be signed; `gardefou evidence keygen`",
    ),
    "blob.key": (
        "key.evidence_blob",
        "GARDEFOU_EVIDENCE_BLOB_KEY",
        "evidence blobs cannot be encrypted; `gardefou evidence keygen`",
    ),
    "review-media.key": (
        "key.review_media",
        "GARDEFOU_REVIEW_MEDIA_KEY",
        "created on first use (set GARDEFOU_REVIEW_MEDIA_KEY to share one across hosts)",
    ),
}


def check_keys(db: str | None) -> list[Check]:
    from gardefou.store.media_crypto import key_folder

    folder = key_folder(_StoreRef(db))
    checks = [_folder_check(folder)]
    for filename, (name, env, missing) in EVIDENCE_FILES.items():
        if env and os.environ.get(env):
            checks.append(_base64_key(name, env, os.environ[env]))
            continue
        path = folder / filename
        if not path.exists():
            severity = OK if filename == "review-media.key" else WARNING
            checks.append(Check(name, severity, f"{path} absent: {missing}"))
            continue
        checks.append(private_file(name, path))
    checks.extend(_c2pa())
    checks.append(_puid_secret())
    return checks


class _StoreRef:
    """What ``key_folder`` reads of a store (its URL), without opening it."""

    def __init__(self, db: str | None) -> None:
        from gardefou.store.db import default_db_path

        self.url = str(db) if db else str(default_db_path())


def _folder_check(folder: Path) -> Check:
    if not folder.exists():
        return Check("key.folder", OK, f"{folder} absent (no evidence keys made yet)")
    mode = stat.S_IMODE(folder.stat().st_mode)
    if mode & 0o077:
        return Check(
            "key.folder",
            WARNING,
            f"{folder} has mode {mode:o}: others can list it; `chmod 700 {folder}`",
            {"path": str(folder), "mode": f"{mode:o}"},
        )
    return Check("key.folder", OK, f"{folder} (mode {mode:o})", {"path": str(folder)})


def private_file(name: str, path: Path) -> Check:
    """A key file: present, a regular file, and not readable or writable by group or others."""
    try:
        info = path.stat()
    except OSError as exc:
        return Check(name, ERROR, f"cannot read {path}: {exc.strerror or exc}")
    mode = stat.S_IMODE(info.st_mode)
    detail: dict[str, Any] = {"path": str(path), "mode": f"{mode:o}"}
    if not stat.S_ISREG(info.st_mode):
        return Check(name, ERROR, f"{path} is not a regular file", detail)
    if mode & 0o077:
        return Check(
            name,
            ERROR,
            f"{path} has mode {mode:o}: group or others can read it; `chmod 600 {path}`",
            detail,
        )
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        detail["owner_uid"] = info.st_uid
        return Check(name, WARNING, f"{path} belongs to uid {info.st_uid}, not this user", detail)
    return Check(name, OK, f"{path} (mode {mode:o})", detail)


def _base64_key(name: str, var: str, value: str) -> Check:
    try:
        size = len(base64.b64decode(value.strip(), validate=True))
    except ValueError:
        size = -1
    if size != 32:
        return Check(name, ERROR, f"${var} is not 32 bytes of base64; make one with os.urandom(32)")
    return Check(name, OK, f"from ${var} (32 bytes)")


def _c2pa() -> list[Check]:
    cert, key = os.environ.get("GARDEFOU_C2PA_CERT"), os.environ.get("GARDEFOU_C2PA_KEY")
    if not cert and not key:
        return [Check("key.c2pa", OK, "not configured (generated images are not C2PA-signed)")]
    if not (cert and key):
        return [Check("key.c2pa", ERROR, "set both GARDEFOU_C2PA_CERT and GARDEFOU_C2PA_KEY (PEM)")]
    checks = [private_file("key.c2pa", Path(key))]
    if not Path(cert).is_file():
        checks.append(Check("key.c2pa_cert", ERROR, f"GARDEFOU_C2PA_CERT={cert}: no such file"))
    else:
        checks.append(Check("key.c2pa_cert", OK, f"{cert}"))
    return checks


def _puid_secret() -> Check:
    secret = os.environ.get("GARDEFOU_PUID_SECRET")
    if not secret:
        return Check(
            "key.puid_secret", OK, "not set (needed only to export DSA statements of reasons)"
        )
    if len(secret.encode()) < 16:
        return Check(
            "key.puid_secret",
            ERROR,
            f"GARDEFOU_PUID_SECRET is {len(secret.encode())} bytes; it must be at least 16",
        )
    return Check("key.puid_secret", OK, "set")
