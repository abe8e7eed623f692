"""Archive backfills: the plain loop everywhere, Ray when installed (slow: starts a cluster)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gardefou.pipeline.backfill import BackfillConfig, run_backfill
from gardefou.store import connect
from gardefou.testing.fake_pipeline import benign_jpeg


def archive(folder: Path, n: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (folder / f"{i:03d}.jpg").write_bytes(benign_jpeg(i, 64))
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    return folder


def test_loop_backfill_is_resumable_and_idempotent(tmp_path: Path, db_url: str):
    src = archive(tmp_path / "a", 10)
    cfg = BackfillConfig(db_url=db_url, signals=["crypto_hash", "pdq"], run_id="r1", batch=4)
    first = run_backfill([src], cfg)
    assert (first["done"], first["errors"], first["skipped"]) == (10, 1, 0)
    again = run_backfill([src], cfg)  # resumes: only the failed item is retried
    assert (again["done"], again["errors"], again["skipped"]) == (0, 1, 10)
    db = connect(db_url)
    assert db.query_one("SELECT COUNT(*) AS n FROM media")["n"] == 10
    assert db.query_one("SELECT COUNT(*) AS n FROM signal_results")["n"] == 20
    err = db.query_one("SELECT detail FROM backfill_items WHERE status = 'error'")
    assert err is not None and err["detail"].startswith("media_")
    db.close()


@pytest.mark.slow
def test_ray_backfill_matches_loop(tmp_path: Path):
    pytest.importorskip("ray", reason="the Ray runner needs `pip install 'gardefou[scale]'`")
    src = archive(tmp_path / "a", 24)
    loop_db, ray_db = str(tmp_path / "loop.db"), str(tmp_path / "ray.db")
    signals = ["crypto_hash", "pdq"]
    run_backfill([src], BackfillConfig(db_url=loop_db, signals=signals, batch=5))
    report = run_backfill(
        [src],
        BackfillConfig(db_url=ray_db, signals=signals, batch=5, actors=2, cpus_per_actor=0.5),
        runner="ray",
    )
    assert (report["done"], report["errors"]) == (24, 1)
    q = "SELECT sha256, name, value_json FROM signal_results ORDER BY sha256, name"
    a, b = connect(loop_db), connect(ray_db)
    assert a.query(q) == b.query(q)
    a.close()
    b.close()


@pytest.mark.slow
def test_ray_backfill_on_a_local_two_node_cluster(tmp_path: Path):
    """`ray start --head` plus a second `ray start --address` node on this machine; one actor
    per node. Run it in its own process when other tests imported Ray first (Ray reads its
    token-authentication mode once, at import)."""
    import importlib.util
    import sys

    if importlib.util.find_spec("ray") is None:
        pytest.skip("the Ray runner needs `pip install 'gardefou[scale]'`")
    if "ray" in sys.modules and os.environ.get("RAY_AUTH_MODE") != "token":
        pytest.skip(
            "Ray was imported before RAY_AUTH_MODE=token was set; run this test alone "
            "or with RAY_AUTH_MODE=token in the environment"
        )
    from gardefou.testing.ray_cluster import local_cluster

    src = archive(tmp_path / "a", 16)
    with local_cluster(nodes=2, cpus_per_node=1) as address:
        report = run_backfill(
            [src],
            BackfillConfig(
                db_url=str(tmp_path / "c.db"),
                signals=["pdq"],
                batch=4,
                actors=2,
                cpus_per_actor=1,
                ray_address=address,
            ),
            runner="ray",
        )
    assert (report["done"], report["errors"]) == (16, 1)
