"""Signal registry.

Built-in signals register through the same entry-point group a plugin would use
(``gardefou.signals`` in pyproject), so adding a signal touches its file, its entry point and
its test. ``get_signal(name)`` returns one shared instance per process so models load once.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Any

from gardefou.errors import ConfigError
from gardefou.signals.base import Signal, SignalResult

ENTRY_POINT_GROUP = "gardefou.signals"

# Built-ins are listed here too so the package works from a source tree without installation.
_BUILTINS: dict[str, str] = {
    "pdq": "gardefou.signals.pdq:PdqSignal",
    "pdq_dihedral": "gardefou.signals.pdq_dihedral:PdqDihedralSignal",
    "crypto_hash": "gardefou.signals.crypto_hash:CryptoHashSignal",
    "nudity": "gardefou.signals.nudity:NuditySignal",
    "faces": "gardefou.signals.faces:FacesSignal",
    "age": "gardefou.signals.age:AgeSignal",
    "identity": "gardefou.signals.identity:IdentitySignal",
    "provenance": "gardefou.signals.provenance:ProvenanceSignal",
    "ai_generated": "gardefou.signals.ai_generated:AiGeneratedSignal",
}

_instances: dict[str, Signal] = {}


def _load_target(target: str) -> type[Signal]:
    module, _, attr = target.partition(":")
    cls = getattr(importlib.import_module(module), attr)
    if not (isinstance(cls, type) and issubclass(cls, Signal)):
        raise ConfigError(f"signal entry point {target!r} is not a Signal subclass")
    return cls


def available_signals() -> dict[str, str]:
    """Map of registered signal name -> 'module:Class'."""
    found = dict(_BUILTINS)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(ep.name, ep.value)
    return found


def register(cls: type[Signal]) -> type[Signal]:
    """Register a signal class at run time (tests, notebooks). Usable as a decorator."""
    _BUILTINS[cls.name] = f"{cls.__module__}:{cls.__qualname__}"
    _instances.pop(cls.name, None)
    return cls


def get_signal(name: str) -> Signal:
    """The shared instance of a signal, created on first request."""
    if name not in _instances:
        targets = available_signals()
        if name not in targets:
            raise ConfigError(
                f"unknown signal {name!r}; known signals: {', '.join(sorted(targets))}"
            )
        _instances[name] = _load_target(targets[name])()
    return _instances[name]


DEFAULT_SCAN_SIGNALS: tuple[str, ...] = ("crypto_hash", "pdq", "pdq_dihedral")
#: the model-backed content signals, in the order that lets them share work (NudeNet's pass and
#: the face boxes are cached on the media); `--signals content` selects them
CONTENT_SIGNALS: tuple[str, ...] = ("nudity", "faces", "age", "identity", "provenance")


def signal_names(spec: str | None = None, default: tuple[str, ...] = DEFAULT_SCAN_SIGNALS
                 ) -> list[str]:  # fmt: skip
    """Parse a comma list ('pdq,nudity'), 'all' or 'content' into validated names."""
    if spec is None:
        return list(default)
    if spec == "content":
        return list(CONTENT_SIGNALS)
    if spec == "all":  # content signals last, in the order that shares their work
        found = available_signals()
        rest = sorted(n for n in found if n not in CONTENT_SIGNALS)
        return rest + [n for n in CONTENT_SIGNALS if n in found]
    names = [s.strip() for s in spec.split(",") if s.strip()]
    for n in names:
        if n not in available_signals():
            raise ConfigError(
                f"unknown signal {n!r}; known: {', '.join(sorted(available_signals()))}"
            )
    return names


__all__ = [
    "Any",
    "Signal",
    "SignalResult",
    "available_signals",
    "get_signal",
    "register",
    "signal_names",
]
