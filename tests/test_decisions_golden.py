"""The decisions of the demo stream, the policy cases and the pipeline benchmark's event set are
the recorded ones (``tests/fixtures/decisions/golden.json``, written by
``python -m tests.decision_golden --record`` from the decision layer before it became the
``gardefou.decide`` package): a change of structure must not change one decision."""

from __future__ import annotations

import json

import pytest

from . import decision_golden as G

GOLDEN = json.loads(G.GOLDEN.read_text(encoding="utf-8"))


def _diff(expected: dict, got: dict) -> list[str]:
    return [
        f"{k}: expected {expected.get(k)!r}, got {got.get(k)!r}"
        for k in sorted(set(expected) | set(got))
        if expected.get(k) != got.get(k)
    ]


def test_demo_stream_decisions_are_the_recorded_ones(tmp_path):
    demo = GOLDEN["demo"]
    got = G.run_demo(tmp_path, G.replay_services(demo["signals"], demo["intents"]))
    assert not _diff(demo["decisions"], got)


def test_policy_cases_decisions_are_the_recorded_ones():
    assert G.policy_cases() == GOLDEN["policy_cases"]


@pytest.mark.parametrize("lazy", [True, False], ids=["cheap-first", "eager"])
def test_pipeline_bench_event_set_decisions_are_the_recorded_ones(tmp_path, lazy):
    got = G.run_bench(tmp_path, lazy)
    assert not _diff(GOLDEN["bench"]["lazy" if lazy else "eager"], got)


@pytest.mark.slow
def test_demo_stream_with_the_real_models(tmp_path):
    """The replayed model outputs stand for the real ones: with the models, the same actions
    and reasons (scores may move in the last digits between CPUs; these do not)."""
    got = G.run_demo(tmp_path, None)
    actions = {
        k: [
            (v.get("decision") or {}).get("action"),
            [r[0] for r in (v.get("decision") or {}).get("reasons", [])],
        ]
        for k, v in got.items()
    }
    assert actions == GOLDEN["demo"]["real"]
