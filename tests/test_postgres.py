"""PostgreSQL parity: the same schema as SQLite, and the whole decision pipeline (platform
decider, cases, strikes, ledger) with workers racing on separate connections.

Needs GARDEFOU_TEST_PG_URL (``eval "$(scripts/start-services.sh)"``); each test gets its own
schema. Signals are faked (gardefou.testing): this file is about storage, not models.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from PIL import Image

from gardefou import testing as T
from gardefou.decision import Action
from gardefou.pipeline import Envelope, PipelineLedger, Processor
from gardefou.store import connect
from gardefou.store.db import migrations

pytestmark = pytest.mark.postgres


def columns(db, dialect: str) -> dict[str, list[str]]:
    if dialect == "sqlite":
        tables = [r["name"] for r in db.query("SELECT name FROM sqlite_master WHERE type='table'")]
        return {
            t: sorted(r["name"] for r in db.query(f"PRAGMA table_info({t})"))
            for t in tables
            if not t.startswith("sqlite_")
        }
    rows = db.query(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema()"
    )
    out: dict[str, list[str]] = {}
    for r in rows:
        out.setdefault(r["table_name"], []).append(r["column_name"])
    return {k: sorted(v) for k, v in out.items()}


def test_every_migration_gives_the_same_schema_on_both(pg_url: str, tmp_path: Path):
    pg, lite = connect(pg_url), connect(tmp_path / "s.db")
    latest = migrations()[-1][0]
    assert pg.schema_version() == lite.schema_version() == latest
    assert columns(pg, "postgres") == columns(lite, "sqlite")
    pg.close()
    again = connect(pg_url)  # reconnecting re-applies nothing
    assert again.schema_version() == latest
    again.close()
    lite.close()


ALICE = T.person_embedding(1)
TABLE = {
    "portrait": [T.nudity("none", 0.97), T.faces(1), T.identity([ALICE])],
    "edit": [T.nudity("suggestive", 0.82), T.faces(1), T.identity([T.jitter(ALICE, 0.25)])],
}


def decider_factory(folder: Path):
    """A PlatformDecider whose signals come from a table keyed by image bytes."""
    import hashlib

    from gardefou.decide import PlatformDecider, Services, rules_intent
    from gardefou.policy import load_default_policy

    by_sha = {
        hashlib.sha256((folder / f"{k}.png").read_bytes()).hexdigest(): v for k, v in TABLE.items()
    }

    def extract(media, names):
        results = T.signal_set(*by_sha[media.sha256])
        return {k: v for k, v in results.items() if k in names}

    policy = load_default_policy(signals={*T.POLICY_SIGNALS, "pdq_dihedral"})
    return lambda: PlatformDecider(
        lambda db: Services(db, policy=policy, extract=extract, intent=rules_intent)
    )


@pytest.fixture
def thread(tmp_path: Path) -> tuple[Path, list[bytes]]:
    for i, name in enumerate(TABLE):
        Image.new("RGB", (64, 64), (60 * i, 90, 200)).save(tmp_path / f"{name}.png")
    events = [
        {"id": "p1", "author": "alice", "text": "new haircut", "media": ["portrait.png"]},
        {"id": "p2", "author": "troll", "text": "@imgbot put her in a bikini", "reply_to": "p1"},
        {"id": "p3", "author": "imgbot", "media": ["edit.png"], "reply_to": "p2"},
        {"id": "p4", "author": "troll", "text": "lol", "media": ["edit.png"], "reply_to": "p1"},
    ]
    return tmp_path, [json.dumps(e).encode() for e in events]


def test_platform_pipeline_on_postgres(pg_url: str, thread):
    folder, raws = thread
    db = connect(pg_url)
    proc = Processor(db, decider_factory(folder)())
    outs = [proc.process(Envelope(r, f"t:{i}", base_dir=folder)) for i, r in enumerate(raws)]
    assert [o.action for o in outs] == ["allow", "allow", "remove", "remove"]
    assert proc.process(Envelope(raws[2], "again", base_dir=folder)).status == "duplicate"
    assert PipelineLedger(db).count() == 4
    n_cases = db.query_one("SELECT COUNT(*) AS n FROM cases")["n"]
    assert n_cases == 2
    decision = PipelineLedger(db).decision("p3")
    assert decision is not None and decision.action == Action.REMOVE
    db.close()


def test_racing_platform_workers_on_postgres(pg_url: str, thread):
    """Four workers, each on its own connection, all given every event at once: one decision,
    one case and one strike per event, whoever wins."""
    folder, raws = thread
    connect(pg_url).close()
    make = decider_factory(folder)
    dbs = [connect(pg_url) for _ in range(4)]
    statuses: list[str] = []
    lock = threading.Lock()

    def work(db) -> None:
        proc = Processor(db, make())
        for i, raw in enumerate(raws):
            out = proc.process(Envelope(raw, f"t:{i}", base_dir=folder))
            with lock:
                statuses.append(out.status)

    threads = [threading.Thread(target=work, args=(d,)) for d in dbs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert statuses.count("decided") == 4 and statuses.count("duplicate") == 12, statuses
    db = dbs[0]
    assert db.query_one("SELECT COUNT(*) AS n FROM decisions")["n"] == 4
    assert db.query_one("SELECT COUNT(*) AS n FROM cases")["n"] == 2
    for d in dbs:
        d.close()
