"""The signal registry is a validated instance: one name, one signal; declared facts checked."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import pytest

from gardefou.errors import ConfigError, RegistryError
from gardefou.fact_spec import BOOL, NUMBER, FactSpec
from gardefou.signals.base import Signal
from gardefou.signals.registry import BUILTINS, SignalRegistry

HERE = __name__


class WatermarkSignal(Signal):
    facts: ClassVar[Mapping[str, FactSpec]] = {
        "present": FactSpec("watermark.present", BOOL, "a mark was found", read=lambda r: True)
    }

    def extract(self, media: Any, context: Any = None) -> Any:
        return self.result(True, 1.0, "fake watermark")


class OtherWatermarkSignal(Signal):
    name = "watermark"


class BadlyNamedFactSignal(Signal):
    facts: ClassVar[Mapping[str, FactSpec]] = {
        "score2": FactSpec("other.score2", NUMBER, "misnamed", read=lambda r: 1.0)
    }


def registry(plugins: Sequence[tuple[str, str]] = ()) -> SignalRegistry:
    return SignalRegistry({"pdq": BUILTINS["pdq"]}, "test", discover=lambda group: list(plugins))


def test_a_plugin_shadowing_a_built_in_is_refused_naming_both() -> None:
    """It used to be ignored silently (the built-in won, whatever the operator installed)."""
    reg = registry([("pdq", f"{HERE}:WatermarkSignal")])
    with pytest.raises(RegistryError, match=r"'pdq' is registered twice: .*PdqSignal.*Watermark"):
        reg.targets()


def test_two_plugins_under_one_name_are_refused() -> None:
    reg = registry(
        [("watermark", f"{HERE}:WatermarkSignal"), ("watermark", f"{HERE}:OtherWatermarkSignal")]
    )
    with pytest.raises(RegistryError, match="rename one of them"):
        reg.targets()


def test_the_same_target_twice_is_one_registration() -> None:
    """The built-ins are also installed as entry points: same name, same target, no error."""
    reg = registry([("pdq", BUILTINS["pdq"])])
    assert reg.targets() == {"pdq": BUILTINS["pdq"]}


def test_register_refuses_a_taken_name_and_accepts_a_new_one() -> None:
    reg = registry()
    reg.register(WatermarkSignal)
    assert reg.register(WatermarkSignal) is WatermarkSignal  # idempotent
    with pytest.raises(RegistryError, match="'watermark' is already registered"):
        reg.register(OtherWatermarkSignal)
    assert reg.get("watermark") is reg.get("watermark")
    assert set(reg.facts("watermark")) == {"score", "value", "available", "present"}


def test_an_entry_point_whose_class_has_another_name_is_refused() -> None:
    reg = registry([("wm", f"{HERE}:WatermarkSignal")])
    with pytest.raises(RegistryError, match="signal name is 'watermark'"):
        reg.get("wm")


def test_a_misnamed_fact_declaration_is_refused() -> None:
    with pytest.raises(
        RegistryError, match=r"is named 'other\.score2'; name it badly_named_fact\.score2"
    ):
        registry().register(BadlyNamedFactSignal)


def test_an_unknown_signal_is_a_config_error_and_registry_errors_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="unknown signal 'nope'; known signals: pdq"):
        registry().get("nope")
    assert issubclass(RegistryError, ConfigError) and RegistryError.exit_code == 2


def test_a_name_the_registry_does_not_know_offers_the_generic_facts_only() -> None:
    assert set(registry().facts("hypothetical")) == {"score", "value", "available"}


#: the signal facts a policy can name (public surface: a policy file depends on them), as the
#: hard-coded table in policy/facts.py listed them before the signals declared their own
EXPECTED_SIGNAL_FACTS = {
    ("age.minor_risk", "bool", None),
    ("age.score", "number", None),
    ("ai_generated.likely", "bool", None),
    ("ai_generated.probability", "number", None),
    ("faces.count", "number", None),
    ("faces.max_score", "number", None),
    ("faces.photo_likelihood", "number", None),
    ("identity.count", "number", None),
    ("nudity.explicit", "bool", None),
    ("nudity.level", "string", ("explicit", "suggestive", "none")),
    ("nudity.score", "number", None),
    ("nudity.sexualized", "bool", None),
    ("provenance.ai_generated", "bool", None),
    ("provenance.c2pa_present", "bool", None),
}


def test_the_derived_fact_table_is_the_one_policies_were_written_against() -> None:
    from gardefou.policy import signal_fact_table

    table = signal_fact_table()
    got = {(s.name, s.type, s.choices) for facts in table.values() for s in facts.values()}
    assert got == EXPECTED_SIGNAL_FACTS
