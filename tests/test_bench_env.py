"""benchmarks/bench_env.py: what every benchmark prints about its machine, and its data folder."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def bench_env():
    spec = importlib.util.spec_from_file_location("bench_env", REPO / "benchmarks/bench_env.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_shared_dir_honours_gardefou_shared_like_the_tests(monkeypatch, tmp_path, bench_env):
    monkeypatch.setenv("GARDEFOU_SHARED", str(tmp_path))
    assert bench_env.shared_dir() == tmp_path
    monkeypatch.delenv("GARDEFOU_SHARED")
    assert bench_env.shared_dir() == REPO.parent / "shared"


def test_setup_gives_one_thread_without_overriding_the_caller(monkeypatch, bench_env):
    for var in bench_env.THREAD_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("GARDEFOU_THREADS", "2")
    assert bench_env.setup(threads=1, pin=False) is None
    assert os.environ["OMP_NUM_THREADS"] == "1"
    assert os.environ["GARDEFOU_THREADS"] == "2"


def test_report_names_cpu_flags_kernels_threads_and_load(capsys, bench_env):
    text = bench_env.report("unit")
    assert text == capsys.readouterr().out.rstrip("\n")
    model, flags = bench_env.cpu_model()
    assert model and set(flags) <= set(bench_env.FLAGS)
    for part in ("numpy ", "onnxruntime", "threads: OMP_NUM_THREADS=", "load average before:"):
        assert part in text
    with bench_env.Clock() as clock:
        sum(range(10_000))
    assert clock.wall >= 0 and clock.cpu >= 0 and clock.thread >= 0
