"""The public surface of every package, pinned: each ``__all__`` is written out in
``tests/fixtures/public_surface.json``, so adding, removing or renaming an export is a visible
change (and a CHANGELOG line), never an accident.
Every exported name exists, is public, and is gardefou's own (``gardefou.signals`` once
exported ``typing.Any``)."""

from __future__ import annotations

import importlib
import inspect
import json
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "gardefou"
#: packages that hold data files only (no Python API)
DATA_PACKAGES = frozenset({"gardefou.data", "gardefou.store.migrations"})

#: the pin, one sorted list per package; kept as data so the test reads it and a deliberate
#: change is one regenerated file: ``python tests/test_public_surface.py --write``
PIN_FILE = Path(__file__).resolve().parent / "fixtures" / "public_surface.json"
UPDATE_HINT = "if meant, run `python tests/test_public_surface.py --write`, review the diff"
EXPECTED_ALL: dict[str, list[str]] = json.loads(PIN_FILE.read_text(encoding="utf-8"))


def packages() -> list[str]:
    found = []
    for init in sorted(PACKAGE.rglob("__init__.py")):
        name = ".".join(init.parent.relative_to(PACKAGE.parent).parts)
        if name not in DATA_PACKAGES:
            found.append(name)
    return found


def _current(name: str) -> list[str] | None:
    exported = getattr(importlib.import_module(name), "__all__", None)
    return sorted(exported) if exported is not None else None


def _pin_line(name: str) -> str:
    """A package's pin as it is now, to name in a failure next to how to update the file."""
    exported = _current(name)
    return f"{name}: {exported!r}" if exported is not None else f"{name}: no __all__"


def write_pin() -> None:
    """Rewrite the pin from the packages as they are (run only once a change is meant)."""
    pins = {name: _current(name) for name in packages()}
    bare = sorted(name for name, exported in pins.items() if exported is None)
    if bare:
        raise SystemExit(f"give these packages an __all__ first: {bare}")
    PIN_FILE.write_text(json.dumps(pins, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def test_every_package_is_pinned() -> None:
    missing = sorted(set(packages()) - set(EXPECTED_ALL))
    lines = "\n".join(_pin_line(n) for n in missing)
    assert not missing, f"packages without a pinned __all__:\n{lines}\n{UPDATE_HINT}"
    gone = sorted(set(EXPECTED_ALL) - set(packages()))
    assert not gone, f"{gone} are no longer packages; {UPDATE_HINT}"


@pytest.mark.parametrize("name", sorted(EXPECTED_ALL))
def test_all_is_what_the_package_promises(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{name} has no __all__"
    assert len(exported) == len(set(exported)), f"{name}.__all__ lists a name twice"
    assert sorted(exported) == EXPECTED_ALL[name], f"now {_pin_line(name)}\n{UPDATE_HINT}"


@pytest.mark.parametrize("name", sorted(EXPECTED_ALL))
def test_exports_exist_are_public_and_are_gardefous_own(name: str) -> None:
    module = importlib.import_module(name)
    for attr in module.__all__:
        assert hasattr(module, attr), f"{name}.__all__ names {attr!r}, which it does not define"
        assert attr == "__version__" or not attr.startswith("_"), f"{name} exports {attr!r}"
        value = getattr(module, attr)
        # classes and functions only: a type alias (``Extract = Callable[...]``) reports the
        # module of its origin (collections.abc) though gardefou defines it
        own = inspect.isclass(value) or inspect.isfunction(value)
        origin = getattr(value, "__module__", None) if own else None
        if origin is not None:
            assert origin.startswith("gardefou"), f"{name} exports {attr!r} from {origin}"


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        raise SystemExit("usage: python tests/test_public_surface.py --write")
    write_pin()
