"""Evidence store: encrypted blobs, custody in the log, holds, retention, export and offline
verification with every kind of tampering detected."""

from __future__ import annotations

import base64
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gardefou.errors import ConfigError, EvidenceError, LegalHoldError, NotFoundError, ProofError
from gardefou.evidence import (
    EvidenceKeys,
    EvidenceStore,
    Hold,
    export_bundle,
    verify_bundle,
    verify_inclusion,
)
from gardefou.evidence.log import Checkpoint


@pytest.fixture(scope="module")
def keys() -> EvidenceKeys:
    return EvidenceKeys.generate()


@pytest.fixture
def store(tmp_db, tmp_path: Path, keys: EvidenceKeys) -> EvidenceStore:
    return EvidenceStore(tmp_db, tmp_path / "blobs", keys)


def fill(store: EvidenceStore, n: int = 6) -> list[str]:
    shas = []
    for i in range(n):
        r = store.preserve(f"benign test content {i}".encode(), "media", actor="mod-1",
                           reason="case c-1", account=f"acct-{i % 2}", bank="victim-bank",
                           labels={"case": f"c-{i % 3}"})  # fmt: skip
        row = store.db.query_one("SELECT subject FROM evidence_entries WHERE seq = ?", (r.seq,))
        shas.append(row["subject"])
    return shas


def test_preserve_encrypts_and_proves(store: EvidenceStore, tmp_path: Path) -> None:
    data = b"benign bytes that must be kept"
    r = store.preserve(data, "media", actor="mod-1", reason="takedown t-9")
    verify_inclusion(r.seq, r.tree_size, r.leaf_hash, list(r.proof), r.root)
    files = list((tmp_path / "blobs").rglob("*.gfe"))
    assert len(files) == 1 and data not in files[0].read_bytes()  # encrypted at rest
    sha = files[0].stem
    assert store.access(sha, actor="legal-2", reason="court order") == data
    kinds = [e["kind"] for e in store.log.entries()]
    assert kinds == ["preserve", "custody"]  # the access is in the chain of custody
    custody = json.loads(list(store.log.entries())[1]["body"])
    assert custody["actor"] == "legal-2" and custody["action"] == "accessed"


def test_wrong_key_or_moved_blob_fails(store: EvidenceStore, tmp_path: Path) -> None:
    sha = fill(store, 2)
    other = EvidenceStore(store.db, tmp_path / "blobs", EvidenceKeys.generate())
    with pytest.raises(EvidenceError, match="wrong key or altered"):
        other.blobs.get(sha[0])
    shutil.copy(store.blobs.path(sha[0]), store.blobs.path(sha[1]))
    with pytest.raises(EvidenceError, match="wrong key or altered"):
        store.blobs.get(sha[1])


def test_legal_hold_blocks_deletion_and_retention(store: EvidenceStore) -> None:
    shas = fill(store)
    store.place_hold(Hold("order-1", "EU preservation order", "legal", account="acct-0"))
    with pytest.raises(LegalHoldError, match="order-1"):
        store.delete(shas[0], "mod", "mistake")
    later = datetime.now(UTC) + timedelta(days=10000)
    result = store.purge_expired(now=later)
    assert result == {"expired": 6, "deleted": 3, "kept_by_hold": 3}
    assert store.blobs.exists(shas[0]) and not store.blobs.exists(shas[1])
    store.release_hold("order-1", "legal", "order lifted")
    assert store.purge_expired(now=later)["deleted"] == 3
    with pytest.raises(NotFoundError):
        store.access(shas[0], "x", "y")
    assert store.log.verify()["entries"] == store.log.size


def test_hold_scopes(store: EvidenceStore) -> None:
    shas = fill(store)
    store.place_hold(Hold("by-query", "case", "legal", match={"case": "c-1"}))
    assert [b["sha256"] for b in store.held_blobs("by-query")] == [shas[1], shas[4]]
    store.place_hold(Hold("by-bank", "bank", "legal", bank="victim-bank"))
    assert len(store.held_blobs("by-bank")) == 6
    store.place_hold(
        Hold("by-time", "range", "legal", time_from="2000-01-01", time_to="2001-01-01")
    )
    assert store.held_blobs("by-time") == []
    with pytest.raises(ConfigError, match="selects nothing"):
        Hold("empty", "r", "legal")
    with pytest.raises(ConfigError, match="already exists"):
        store.place_hold(Hold("by-bank", "bank", "legal", bank="x"))


def test_checkpoint_signed_and_parsed(store: EvidenceStore, keys: EvidenceKeys) -> None:
    fill(store, 3)
    cp = store.log.checkpoint()
    assert Checkpoint.parse(cp.serialize()) == cp
    cp.verify(keys.signer.verifier)
    forged = cp.serialize().replace(f"\n{cp.tree_size}\n", f"\n{cp.tree_size + 1}\n")
    with pytest.raises(ProofError):
        Checkpoint.parse(forged).verify(keys.signer.verifier)
    assert store.log.verify() == {"entries": 3, "root": cp.root.hex(), "checkpoints": 1}


def test_log_self_check_catches_edited_row(store: EvidenceStore) -> None:
    fill(store, 4)
    store.db.execute("UPDATE evidence_entries SET body = replace(body, 'mod-1', 'mod-2') "
                     "WHERE seq = 2")  # fmt: skip
    with pytest.raises(ProofError, match="entry 2"):
        store.log.verify()


def test_two_writers_share_one_log(store: EvidenceStore, tmp_path: Path, keys) -> None:
    other = EvidenceStore(store.db, tmp_path / "blobs", keys)
    fill(store, 2)
    other.preserve(b"from the other process", "media", "mod", "r")  # stale tree: must catch up
    store.preserve(b"and back", "media", "mod", "r")
    assert store.log.size == 4 and store.log.verify()["entries"] == 4
    r = other.log.append("custody", {"action": "reviewed"})  # single-row path, stale tree
    assert r.seq == 4 and store.log.verify()["entries"] == 5


# -- bundles -------------------------------------------------------------------------------------


@pytest.fixture
def bundle(store: EvidenceStore, tmp_path: Path) -> Path:
    fill(store)
    store.log.checkpoint()
    fill_more = store.preserve(b"later benign content", "decision", "mod-3", "appeal a-1")
    assert fill_more.seq == 6
    out = tmp_path / "bundle"
    export_bundle(store, out, actor="legal", reason="test export")
    return out


def test_bundle_verifies_offline(bundle: Path, keys: EvidenceKeys, tmp_path: Path) -> None:
    moved = tmp_path / "elsewhere"
    shutil.copytree(bundle, moved)
    report = verify_bundle(moved, trusted_key=keys.signer.verifier.pem())
    assert report.ok, report.problems
    assert report.facts["entries"] == 8 and report.facts["blobs"] == 7
    assert report.facts["earlier_checkpoints"] == 1 and report.facts["key_pinned"]


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


TAMPERS = {
    "flip-byte": lambda b: _flip(b / "entries.jsonl", 40),
    "drop-entry": lambda b: _rewrite(b / "entries.jsonl", lambda ls: ls[:3] + ls[4:]),
    "add-entry": lambda b: _rewrite(b / "entries.jsonl", lambda ls: [*ls, ls[-1]]),
    "reorder": lambda b: _rewrite(b / "entries.jsonl", lambda ls: [ls[1], ls[0], *ls[2:]]),
    "truncate": lambda b: (b / "entries.jsonl").write_bytes(
        (b / "entries.jsonl").read_bytes()[:-30]
    ),
    "truncate-last-entry": lambda b: _rewrite(b / "entries.jsonl", lambda ls: ls[:-1]),
    "flip-blob": lambda b: _flip(next((b / "blobs").iterdir()), 3),
    "remove-blob": lambda b: next((b / "blobs").iterdir()).unlink(),
    "add-file": lambda b: (b / "blobs" / ("0" * 64)).write_bytes(b"x"),
    "flip-manifest": lambda b: _flip(b / "manifest.json", 60),
    "flip-signature": lambda b: _flip(b / "manifest.sig", 5),
    "flip-checkpoint": lambda b: _flip(b / "checkpoint.txt", 30),
    "flip-old-checkpoint": lambda b: _flip(b / "checkpoints.jsonl", 100),
    "empty-entries": lambda b: (b / "entries.jsonl").write_bytes(b""),
    "delete-manifest": lambda b: (b / "manifest.json").unlink(),
}


def _flip(path: Path, at: int) -> None:
    data = bytearray(path.read_bytes())
    data[at % len(data)] ^= 0x01
    path.write_bytes(bytes(data))


def _rewrite(path: Path, fn) -> None:
    path.write_bytes(b"".join(fn(_lines(path))))


@pytest.mark.parametrize("tamper", sorted(TAMPERS))
def test_any_tampering_detected(bundle: Path, tamper: str) -> None:
    TAMPERS[tamper](bundle)
    report = verify_bundle(bundle)
    assert not report.intact, f"{tamper} not detected"


def test_entry_tamper_detected_even_with_resigned_manifest(bundle: Path, keys) -> None:
    """An attacker who re-signs the manifest with their own key is caught by the pinned key; one
    who edits entries and recomputes file hashes (without the key) is caught by the signature;
    and the Merkle check alone catches an edited entry even with a valid manifest."""
    _rewrite(bundle / "entries.jsonl", lambda ls: [ls[1], ls[0], *ls[2:]])
    from gardefou.evidence.bundle import _sha_file

    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["files"]["entries.jsonl"] = _sha_file(bundle / "entries.jsonl")
    mb = (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode()
    (bundle / "manifest.json").write_bytes(mb)
    (bundle / "manifest.sig").write_text(base64.b64encode(keys.signer.sign(mb)).decode())
    report = verify_bundle(bundle)
    assert any("reordered" in p for p in report.problems)
    assert any("Merkle root" in p for p in report.problems)


def test_partial_export_for_a_hold(store: EvidenceStore, tmp_path: Path, keys) -> None:
    shas = fill(store)
    store.access(shas[0], "legal", "review")
    store.place_hold(Hold("order-7", "preservation order", "legal", account="acct-0"))
    out = tmp_path / "order-7"
    info = export_bundle(store, out, actor="legal", reason="order 7", hold="order-7")
    assert info["blobs"] == 3
    report = verify_bundle(out, trusted_key=keys.signer.verifier.pem())
    assert report.ok, report.problems
    # preserve x3, one access, the hold, the export itself
    assert report.facts["entries"] == 6
    body = (out / "entries.jsonl").read_text()
    assert "acct-1" not in body  # other accounts' entries are not disclosed
    _rewrite(out / "entries.jsonl", lambda ls: ls[:2] + ls[3:])
    assert not verify_bundle(out).intact


def test_bundle_resigned_with_its_own_key_is_never_ok(bundle: Path, keys) -> None:
    """Before: without --key, a bundle whose manifest and checkpoint were re-signed with a key
    carried inside it verified as ok. Now it is intact but not authenticated (never ok) until a
    pinned key or a checkpoint saved earlier ties its key to the platform."""
    from gardefou.evidence.bundle import NOT_AUTHENTICATED

    saved = (bundle / "checkpoint.txt").read_text()
    report = verify_bundle(bundle)
    assert report.intact and not report.authenticated and not report.ok
    d = report.to_dict()
    assert d["ok"] is False and d["intact"] is True and d["authenticity"] == NOT_AUTHENTICATED
    assert verify_bundle(bundle, keys.signer.verifier.pem()).ok
    assert verify_bundle(bundle, published=[saved]).authenticated_by == "published checkpoint"
    # a forger's key in the bundle fails against a checkpoint saved from the platform
    forger = EvidenceKeys.generate()
    (bundle / "public_key.pem").write_bytes(forger.signer.verifier.pem())
    report = verify_bundle(bundle, published=[saved])
    assert not report.ok and any("published checkpoint" in p for p in report.problems)


def test_untrusted_key_flagged(bundle: Path) -> None:
    other = EvidenceKeys.generate().signer.verifier.pem()
    report = verify_bundle(bundle, trusted_key=other)
    assert any("not the trusted key" in p for p in report.problems)


def test_export_refuses_non_empty_folder(store: EvidenceStore, tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "f").write_text("")
    with pytest.raises(EvidenceError, match="not empty"):
        export_bundle(store, tmp_path / "x", actor="a", reason="r")


def test_keys_roundtrip(tmp_path: Path) -> None:
    k = EvidenceKeys.generate()
    k.save(tmp_path / "keys")
    loaded = EvidenceKeys.load(tmp_path / "keys")
    assert loaded.blob_key == k.blob_key
    assert loaded.signer.verifier == k.signer.verifier
    assert (tmp_path / "keys" / "signing.pem").stat().st_mode & 0o077 == 0
    with pytest.raises(ConfigError, match="refusing to overwrite"):
        k.save(tmp_path / "keys")
    with pytest.raises(ConfigError, match="keygen"):
        EvidenceKeys.load(tmp_path / "nokeys")


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_single_bit_flip_anywhere_is_detected(bundle: Path, data: st.DataObject) -> None:
    """Every byte of every file counts: flip one bit anywhere in the bundle, verify fails."""
    files = sorted(p for p in bundle.rglob("*") if p.is_file())
    target = data.draw(st.sampled_from(files))
    raw = bytearray(target.read_bytes())
    at = data.draw(st.integers(0, len(raw) - 1))
    bit = data.draw(st.integers(0, 7))
    raw[at] ^= 1 << bit
    original = target.read_bytes()
    target.write_bytes(bytes(raw))
    try:
        assert not verify_bundle(bundle).intact, f"{target.name} byte {at} bit {bit}"
    finally:
        target.write_bytes(original)
    assert verify_bundle(bundle).intact


def test_published_checkpoint_catches_a_rewritten_log(
    store: EvidenceStore, tmp_path: Path, keys
) -> None:
    """A regulator saved checkpoint N. The platform later rewrites entry 1 and re-signs
    everything with its real key: the bundle is internally consistent, but the saved checkpoint
    exposes the rewrite."""
    fill(store, 4)
    saved = store.log.checkpoint().serialize()
    fill(store, 2)
    good = tmp_path / "good"
    export_bundle(store, good, actor="legal", reason="r")
    assert verify_bundle(good, keys.signer.verifier.pem(), [saved]).ok

    # the rewrite: edit entry 1, recompute its leaf, drop the old checkpoints, re-sign
    row = store.db.query_one("SELECT body FROM evidence_entries WHERE seq = 1")
    body = row["body"].replace("mod-1", "mod-X")
    from gardefou.evidence.merkle import leaf_hash

    store.db.execute("UPDATE evidence_entries SET body = ?, leaf_hash = ? WHERE seq = 1",
                     (body, leaf_hash(body.encode())))  # fmt: skip
    store.db.execute("DELETE FROM evidence_checkpoints")
    forged_store = EvidenceStore(store.db, tmp_path / "blobs", keys)
    forged_store.log.checkpoint()
    bad = tmp_path / "bad"
    export_bundle(forged_store, bad, actor="legal", reason="r")
    assert verify_bundle(bad, keys.signer.verifier.pem()).ok  # self-consistent forgery...
    report = verify_bundle(bad, keys.signer.verifier.pem(), [saved])
    assert not report.ok  # ...caught by the checkpoint saved before it
    assert any("published checkpoint" in p for p in report.problems)


def test_every_single_bit_flip_of_a_public_key_is_a_proof_error() -> None:
    """A damaged key file can name an unknown algorithm; that must read as 'invalid', never
    crash the verifier."""
    import base64

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from gardefou.errors import ProofError
    from gardefou.evidence.keys import Verifier

    key = ed25519.Ed25519PrivateKey.generate().public_key()
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    for i in range(len(der)):
        for bit in range(8):
            bad = bytearray(der)
            bad[i] ^= 1 << bit
            pem = b"-----BEGIN PUBLIC KEY-----\n" + base64.encodebytes(bytes(bad))
            pem += b"-----END PUBLIC KEY-----\n"
            try:
                v = Verifier.from_pem(pem)
            except ProofError:
                continue
            assert (
                v.public_raw
                != key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
                or i < 12
            ), "a changed key must not read as the original"
