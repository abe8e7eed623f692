"""A crash mid-append leaves a log that still verifies: a writer process is killed with SIGKILL
while appending, and a write that fails inside its transaction is rolled back cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from gardefou.evidence import EvidenceKeys, EvidenceStore
from gardefou.store import connect

WRITER = textwrap.dedent(
    """
    import sys
    from gardefou.evidence import EvidenceKeys, EvidenceStore
    from gardefou.store import connect

    db, blobs, keys = sys.argv[1:4]
    store = EvidenceStore(connect(db), blobs, EvidenceKeys.load(keys))
    i = 0
    while True:
        store.preserve(f"benign item {i} {'x' * (i % 500)}".encode(), "media", "writer", "load")
        if i % 7 == 0:
            store.log.checkpoint()
        i += 1
        print(i, flush=True)
    """
)


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path, Path]:
    keys = tmp_path / "keys"
    EvidenceKeys.generate().save(keys)
    return tmp_path / "ev.db", tmp_path / "blobs", keys


@pytest.mark.parametrize("round_", range(3))
def test_sigkill_mid_append_leaves_verifiable_log(setup, round_: int) -> None:
    db_path, blobs, keys = setup
    connect(db_path).close()  # migrate before the writer starts
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(db_path), str(blobs), str(keys)],
                            stdout=subprocess.PIPE, env=env)  # fmt: skip
    assert proc.stdout is not None
    target = 40 + 37 * round_
    deadline = time.monotonic() + 60
    count = 0
    while count < target and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        count = int(line)
    os.kill(proc.pid, signal.SIGKILL)  # mid-append: the writer never stops between appends
    proc.wait()
    proc.stdout.close()
    assert count >= target, "writer did not start"

    store = EvidenceStore(connect(db_path), blobs, EvidenceKeys.load(keys))
    result = store.log.verify()
    assert result["entries"] >= count and result["checkpoints"] >= 1
    # the log keeps working after the crash, and stays verifiable
    store.preserve(b"after the crash", "media", "writer", "resume")
    store.log.checkpoint()
    assert store.log.verify()["entries"] == result["entries"] + 1
    leftovers = list(blobs.rglob("*.tmp"))  # at worst an orphan temp file, never a torn blob
    for blob in blobs.rglob("*.gfe"):
        store.blobs.get(blob.stem)
    assert len(leftovers) <= 1
    store.db.close()


def test_failed_write_rolls_back_tree_and_rows(tmp_db, tmp_path: Path) -> None:
    store = EvidenceStore(tmp_db, tmp_path / "blobs", EvidenceKeys.generate())
    for i in range(5):
        store.preserve(f"item {i}".encode(), "media", "a", "r")
    root = store.log.tree.root()

    def torn(db, seqs):  # the entry row is written, then the disk "fails"
        raise OSError("simulated I/O error after the entry row was written")

    with pytest.raises(OSError, match="simulated"):
        store.log.append_many([("preserve", {"x": 1}, None)], extra_sql=torn)
    assert store.log.size == 5 and store.log.tree.root() == root
    assert tmp_db.query_one("SELECT COUNT(*) AS n FROM evidence_entries")["n"] == 5
    store.preserve(b"next", "media", "a", "r")
    assert store.log.verify()["entries"] == 6


def test_torn_blob_temp_file_is_harmless(tmp_path: Path) -> None:
    keys = EvidenceKeys.generate()
    store = EvidenceStore(connect(tmp_path / "x.db"), tmp_path / "blobs", keys)
    store.preserve(b"kept", "media", "a", "r")
    sha = next((tmp_path / "blobs").rglob("*.gfe")).stem
    torn = store.blobs.path(sha).with_name(f".{sha}.dead.tmp")
    torn.write_bytes(b"GFE1 half a ciphertext")  # what a crash mid-write leaves behind
    assert store.blobs.get(sha) == b"kept"
    assert store.log.verify()["entries"] == 1


def test_nested_transaction_append_refused(tmp_db, tmp_path: Path) -> None:
    from gardefou.errors import EvidenceError

    store = EvidenceStore(tmp_db, tmp_path / "blobs", EvidenceKeys.generate())
    with pytest.raises(EvidenceError, match="outside any other transaction"), tmp_db.transaction():
        store.preserve(b"x", "media", "a", "r")
