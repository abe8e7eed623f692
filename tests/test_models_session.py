"""onnxruntime sessions: one intra-op thread per CPU the process may use, no spinning pool."""

from __future__ import annotations

import pytest

from gardefou.errors import ModelUnavailableError
from gardefou.signals import _onnx

ort = pytest.importorskip("onnxruntime")


@pytest.fixture
def captured(monkeypatch) -> dict:
    seen: dict = {}

    def fake_session(model, sess_options=None, providers=None):  # type: ignore[no-untyped-def]
        seen["options"] = sess_options
        return object()

    monkeypatch.setattr(ort, "InferenceSession", fake_session)
    return seen


def test_a_pinned_worker_gets_one_thread_not_the_machine_default(monkeypatch, captured) -> None:
    monkeypatch.delenv("GARDEFOU_THREADS", raising=False)
    monkeypatch.setattr(_onnx.os, "sched_getaffinity", lambda pid: {1}, raising=False)
    _onnx.onnx_session(b"model", "test")
    assert captured["options"].intra_op_num_threads == 1
    assert captured["options"].inter_op_num_threads == 1


def test_gardefou_threads_still_wins(monkeypatch, captured) -> None:
    monkeypatch.setenv("GARDEFOU_THREADS", "3")
    _onnx.onnx_session(b"model", "test")
    assert captured["options"].intra_op_num_threads == 3


def test_idle_pool_threads_do_not_spin(monkeypatch, captured) -> None:
    monkeypatch.delenv("GARDEFOU_SPIN", raising=False)
    _onnx.onnx_session(b"model", "test")
    options = captured["options"]
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    monkeypatch.setenv("GARDEFOU_SPIN", "1")
    _onnx.onnx_session(b"model", "test")
    assert captured["options"].get_session_config_entry("session.intra_op.allow_spinning") == "1"


def test_a_bad_spin_setting_names_the_fix(monkeypatch, captured) -> None:
    monkeypatch.setenv("GARDEFOU_SPIN", "yes")
    with pytest.raises(ModelUnavailableError, match=r"GARDEFOU_SPIN='yes'.*0 \(default\) or 1"):
        _onnx.onnx_session(b"model", "test")
