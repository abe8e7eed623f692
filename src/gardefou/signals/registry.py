"""The signal registry: a validated instance, not a loose dict.

Built-in signals register through the same entry-point group a plugin would use
(``gardefou.signals`` in pyproject), and are also listed here so a source tree works without
installation. The registry checks what it is given:

* one name, one signal: a second class under a taken name (two plugins, or a plugin shadowing a
  built-in) raises ``RegistryError`` naming both, instead of one silently winning;
* an entry point's class is a ``Signal`` whose ``name`` is the entry point's name;
* each signal's declared policy facts (``Signal.facts``) are named ``<signal>.<attribute>``
  with a known type and a reader.

The table of signal facts a policy can name is derived from those declarations
(``facts(name)``), plus the generic ``<name>.score``, ``.value`` and ``.available`` every
registered signal offers.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Mapping
from importlib.metadata import entry_points
from types import MappingProxyType

from gardefou.errors import ConfigError, RegistryError
from gardefou.fact_spec import ANY, BOOL, TYPES, FactSpec, score_fact
from gardefou.signals.base import Signal

ENTRY_POINT_GROUP = "gardefou.signals"

BUILTINS: Mapping[str, str] = MappingProxyType(
    {
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
)


def generic_facts(name: str) -> dict[str, FactSpec]:
    """The facts every registered signal offers, whatever it declares."""
    return {
        "score": score_fact(name),
        "value": FactSpec(f"{name}.value", ANY, "the signal's raw value", read=lambda r: r.value),
        "available": FactSpec(f"{name}.available", BOOL, "the signal ran", read=lambda r: True),
    }


def check_facts(cls: type[Signal]) -> None:
    """Refuse a signal whose fact declarations a policy could not use."""
    for attr, spec in cls.facts.items():
        where = f"signal {cls.name!r} ({cls.__module__}.{cls.__qualname__}) fact {attr!r}"
        if not isinstance(spec, FactSpec):
            raise RegistryError(f"{where}: {spec!r} is not a FactSpec")
        if spec.name != f"{cls.name}.{attr}":
            raise RegistryError(f"{where} is named {spec.name!r}; name it {cls.name}.{attr}")
        if spec.type not in TYPES:
            raise RegistryError(f"{where} has type {spec.type!r}; use one of {', '.join(TYPES)}")
        if not callable(spec.read):
            raise RegistryError(f"{where} has no read function; give FactSpec(read=...)")


class SignalRegistry:
    """Signal names -> ``module:Class`` targets, shared instances, and declared facts."""

    def __init__(
        self,
        builtins: Mapping[str, str],
        group: str | None = ENTRY_POINT_GROUP,
        discover: Callable[[str], list[tuple[str, str]]] | None = None,
    ) -> None:
        self._builtins = dict(builtins)
        self._group = group
        self._discover = discover or _entry_points
        self._added: dict[str, str] = {}
        self._instances: dict[str, Signal] = {}
        self._classes: dict[str, type[Signal]] = {}
        self._targets: dict[str, str] | None = None  # validated once; register() resets it
        self._lock = threading.Lock()

    # -- names -----------------------------------------------------------------------------------
    def targets(self) -> dict[str, str]:
        """Every registered name -> ``module:Class``; RegistryError when a name is claimed by two
        different targets (the same target twice, as the built-ins' own entry points, is fine)."""
        if self._targets is None:
            self._targets = self._validated_targets()
        return dict(self._targets)

    def _validated_targets(self) -> dict[str, str]:
        found = dict(self._builtins)
        origin = {name: "built-in" for name in found}
        plugins = self._discover(self._group) if self._group else []
        for source, pairs in (("entry point", plugins), ("register()", self._added.items())):
            for name, target in pairs:
                if name in found and found[name] != target:
                    raise RegistryError(
                        f"signal name {name!r} is registered twice: {found[name]} "
                        f"({origin[name]}) and {target} ({source}); rename one of them"
                    )
                found[name], origin[name] = target, source
        return found

    def register(self, cls: type[Signal]) -> type[Signal]:
        """Register a signal class at run time (tests, notebooks). Usable as a decorator."""
        target = f"{cls.__module__}:{cls.__qualname__}"
        check_facts(cls)
        taken = self.targets().get(cls.name)
        if taken is not None and taken != target:
            raise RegistryError(
                f"signal name {cls.name!r} is already registered to {taken}; {target} needs "
                "another name (set its `name` class attribute)"
            )
        self._added[cls.name] = target
        self._targets = None
        self._classes[cls.name] = cls
        self._instances.pop(cls.name, None)
        return cls

    # -- classes and instances -------------------------------------------------------------------
    def signal_class(self, name: str) -> type[Signal]:
        if name not in self._classes:
            targets = self.targets()
            if name not in targets:
                raise ConfigError(
                    f"unknown signal {name!r}; known signals: {', '.join(sorted(targets))}"
                )
            cls = load_target(targets[name])
            if cls.name != name:
                raise RegistryError(
                    f"entry point {name!r} names {targets[name]}, whose signal name is "
                    f"{cls.name!r}; register it as {cls.name!r} or set its `name` to {name!r}"
                )
            check_facts(cls)
            self._classes[name] = cls
        return self._classes[name]

    def get(self, name: str) -> Signal:
        """The shared instance of a signal, created on first request (models load once)."""
        if name not in self._instances:
            with self._lock:
                if name not in self._instances:
                    self._instances[name] = self.signal_class(name)()
        return self._instances[name]

    # -- facts -----------------------------------------------------------------------------------
    def facts(self, name: str) -> dict[str, FactSpec]:
        """The facts a policy may name on signal ``name``: the generic three plus what the signal
        declares. A name this registry does not know (a policy checked against a hypothetical
        set of signals) offers the generic facts only."""
        declared = self.signal_class(name).facts if name in self.targets() else {}
        return {**generic_facts(name), **declared}

    def fact_table(self) -> dict[str, dict[str, FactSpec]]:
        """Every registered signal's declared facts (the table policy authors read)."""
        return {name: dict(self.signal_class(name).facts) for name in sorted(self.targets())}


def load_target(target: str) -> type[Signal]:
    module, _, attr = target.partition(":")
    cls = getattr(importlib.import_module(module), attr)
    if not (isinstance(cls, type) and issubclass(cls, Signal)):
        raise RegistryError(f"signal entry point {target!r} is not a Signal subclass")
    return cls


def _entry_points(group: str) -> list[tuple[str, str]]:
    return [(ep.name, ep.value) for ep in entry_points(group=group)]


__all__ = [
    "BUILTINS",
    "ENTRY_POINT_GROUP",
    "SignalRegistry",
    "check_facts",
    "generic_facts",
    "load_target",
]
