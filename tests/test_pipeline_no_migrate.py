"""``gardefou --no-migrate`` reaches the pipeline's workers: the pool's and the stream's worker
processes, and the backfill's driver, are handed the choice in their config (a spawned process
does not inherit the context in which ``--no-migrate`` was set, only the environment), and a
worker that opens a store that is behind refuses it instead of migrating it."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gardefou.cli.main import COMMAND_MODULES, cli
from gardefou.errors import SchemaBehindError
from gardefou.pipeline import runners
from gardefou.pipeline.runners import WorkerConfig
from gardefou.store import connect
from gardefou.store import schema as schema_mod

for _module in COMMAND_MODULES:  # registers the subcommands, as main() does
    importlib.import_module(_module)

pipeline_cli = importlib.import_module("gardefou.cli.commands_pipeline")


@pytest.fixture
def behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A store one migration behind this gardefou (a new release was installed)."""
    path = str(tmp_path / "g.db")
    connect(path).close()
    shipped = schema_mod.migrations()
    extra = (9990, "probe", "CREATE TABLE probe_t (x INTEGER);")
    monkeypatch.setattr(schema_mod, "migrations", lambda: [*shipped, extra])
    monkeypatch.delenv("GARDEFOU_AUTO_MIGRATE", raising=False)
    return path


def _unmigrated(path: str) -> bool:
    db = connect(path, migrate=False)
    try:
        return not db.has_table("probe_t")
    finally:
        db.close()


def test_a_pool_worker_told_not_to_migrate_refuses_a_store_behind(behind: str) -> None:
    cfg = WorkerConfig(db_url=behind, auto_migrate=False)
    with pytest.raises(SchemaBehindError, match="gardefou db upgrade"):
        runners._pool_worker(cfg, None, None, 0)  # the function each spawned process runs
    assert _unmigrated(behind)


def test_a_stream_worker_told_not_to_migrate_refuses_a_store_behind(behind: str) -> None:
    cfg = {"db_url": behind, "auto_migrate": False}
    with pytest.raises(SchemaBehindError):
        pipeline_cli._stream_worker(cfg)
    assert _unmigrated(behind)


def test_a_worker_config_that_does_not_say_follows_the_environment(behind: str) -> None:
    db = runners._open(WorkerConfig(db_url=behind))
    assert db.has_table("probe_t")  # GARDEFOU_AUTO_MIGRATE unset: migrated, as before
    db.close()


def _capture(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[Any]:
    seen: list[Any] = []

    def fake(*args: Any, **kwargs: Any) -> Any:
        seen.append(args)
        raise SystemExit(0)

    monkeypatch.setattr(module, name, fake)
    return seen


@pytest.mark.parametrize("flag", [["--no-migrate"], []])
def test_run_hands_the_choice_to_its_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flag: list[str]
) -> None:
    src = tmp_path / "events.jsonl"
    src.write_text("")
    seen = _capture(monkeypatch, runners, "run_pool")
    db = str(tmp_path / "g.db")
    connect(db).close()
    args = ["--db", db, *flag, "run", "--workers", "2", str(src)]
    CliRunner().invoke(cli, args, catch_exceptions=False)
    (_, cfg) = seen[0][:2]
    assert cfg.auto_migrate is (not flag)


def test_stream_work_hands_the_choice_to_its_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _capture(monkeypatch, pipeline_cli, "_stream_worker")
    db = str(tmp_path / "g.db")
    connect(db).close()
    args = ["--db", db, "--no-migrate", "stream", "work", "--redis", "redis://unused"]
    CliRunner().invoke(cli, args, catch_exceptions=False)
    assert seen[0][0]["auto_migrate"] is False


def test_backfill_hands_the_choice_to_its_driver(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backfill = importlib.import_module("gardefou.pipeline.backfill")
    seen = _capture(monkeypatch, backfill, "run_backfill")
    db = str(tmp_path / "g.db")
    connect(db).close()
    args = ["--db", db, "--no-migrate", "backfill", str(tmp_path)]
    CliRunner().invoke(cli, args, catch_exceptions=False)
    assert seen[0][1].auto_migrate is False


def test_a_failing_backfill_closes_its_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store was closed only after a successful run: a store error or an interrupted scan
    left the connection open."""
    import gardefou.store as store_mod
    from gardefou.pipeline import backfill as backfill_mod
    from gardefou.pipeline.backfill import BackfillConfig, run_backfill

    closed: list[bool] = []
    real_connect = store_mod.connect

    def counting(url: Any, *a: Any, **kw: Any) -> Any:
        db = real_connect(url, *a, **kw)
        real_close = db.close

        def close() -> None:
            closed.append(True)
            real_close()

        db.close = close
        return db

    def broken(*a: Any, **kw: Any) -> Any:
        raise KeyboardInterrupt  # what an operator's Ctrl-C looks like mid-scan

    monkeypatch.setattr(store_mod, "connect", counting)
    monkeypatch.setattr(backfill_mod, "scan_batch", broken)
    (tmp_path / "a.jpg").write_bytes(b"not really an image")
    cfg = BackfillConfig(db_url=str(tmp_path / "bf.db"), signals=["crypto_hash"])
    with pytest.raises(KeyboardInterrupt):
        run_backfill([tmp_path / "a.jpg"], cfg)
    assert closed == [True]
