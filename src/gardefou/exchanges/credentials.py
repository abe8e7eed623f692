"""Exchange credentials: read from the environment or a secret file at use, never stored.

The store keeps a reference only: ``env:VARIABLE`` or ``file:/run/secrets/stopncii``. The value
is python-threatexchange's own format for the exchange (StopNCII:
``fetch_function_key,subscription_key`` and optionally ``,feedback_function_key``).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from gardefou.errors import ConfigError, ExchangeAuthError


def default_reference(name: str) -> str:
    """``env:GARDEFOU_EXCHANGE_<NAME>_CREDENTIALS`` (name upper-cased, '-' and '.' as '_')."""
    return (
        "env:GARDEFOU_EXCHANGE_" + name.upper().replace("-", "_").replace(".", "_") + "_CREDENTIALS"
    )


def check_reference(ref: str) -> str:
    """Refuse anything that is not a reference: a secret typed on the command line would end
    up in the store and in shell history."""
    kind, _, target = ref.partition(":")
    if kind not in ("env", "file") or not target:
        raise ConfigError(
            f"credentials {ref[:6]!r}… must be a reference, env:VARIABLE or file:/path to a "
            "secret file; the secret itself is never stored"
        )
    return ref


def resolve(ref: str) -> str:
    """The secret behind a reference; ExchangeAuthError (no retry helps) when it is missing."""
    kind, _, target = check_reference(ref).partition(":")
    if kind == "env":
        value = os.environ.get(target, "")
        if not value.strip():
            raise ExchangeAuthError(
                f"credentials variable {target} is not set; export it (see docs/exchanges.md)"
            )
        return value.strip()
    path = Path(target).expanduser()
    try:
        mode = path.stat().st_mode
        value = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ExchangeAuthError(f"cannot read credentials file {path}: {exc.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ExchangeAuthError(
            f"credentials file {path} is readable by other users (mode {stat.S_IMODE(mode):o}); "
            f"run `chmod 600 {path}`"
        )
    if not value.strip():
        raise ExchangeAuthError(f"credentials file {path} is empty")
    return value.strip()
