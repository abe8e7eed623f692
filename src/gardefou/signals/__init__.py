"""Signal registry.

Built-in signals register through the same entry-point group a plugin would use
(``gardefou.signals`` in pyproject), so adding a signal touches its file, its entry point and
its test. ``get_signal(name)`` returns one shared instance per process so models load once.
The registry is one validated ``SignalRegistry`` instance (``registry.py``): a name claimed by
two signals is refused with ``RegistryError``, and the policy's table of signal facts is derived
from what each signal class declares (``Signal.facts``).
"""

from __future__ import annotations

from gardefou.errors import ConfigError
from gardefou.fact_spec import FactSpec
from gardefou.signals.base import Signal, SignalResult
from gardefou.signals.registry import BUILTINS, ENTRY_POINT_GROUP, SignalRegistry

#: the process's registry: built-ins, then installed plugins, then run-time ``register()``
REGISTRY = SignalRegistry(BUILTINS, ENTRY_POINT_GROUP)


def available_signals() -> dict[str, str]:
    """Map of registered signal name -> 'module:Class'."""
    return REGISTRY.targets()


def register(cls: type[Signal]) -> type[Signal]:
    """Register a signal class at run time (tests, notebooks). Usable as a decorator; a name
    already taken by another class raises RegistryError."""
    return REGISTRY.register(cls)


def get_signal(name: str) -> Signal:
    """The shared instance of a signal, created on first request."""
    return REGISTRY.get(name)


def signal_facts(name: str) -> dict[str, FactSpec]:
    """The policy facts of signal ``name`` (generic + declared), derived from its class."""
    return REGISTRY.facts(name)


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
    "CONTENT_SIGNALS",
    "DEFAULT_SCAN_SIGNALS",
    "ENTRY_POINT_GROUP",
    "REGISTRY",
    "Signal",
    "SignalRegistry",
    "SignalResult",
    "available_signals",
    "get_signal",
    "register",
    "signal_facts",
    "signal_names",
]
