"""Evidence checkpoints in the C2SP tlog-checkpoint / signed-note formats.

The expected bytes are computed here from the specs (https://c2sp.org/signed-note,
https://c2sp.org/tlog-checkpoint) with hashlib and cryptography directly, not with the code under
test, and checked against a published signed-note vector (the example key and note of the Go
reference implementation, golang.org/x/mod/sumdb/note) and the transparency-dev Merkle vectors.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric import ed25519

import gardefou.cli.commands_evidence  # noqa: F401 - registers the commands
from gardefou.cli.main import cli
from gardefou.errors import EvidenceError, ProofError
from gardefou.evidence import EvidenceKeys, EvidenceStore, export_bundle, verify_bundle
from gardefou.evidence.c2sp import (
    open_checkpoint,
    open_with_verifier_key,
    parse_verifier_key,
    sign_checkpoint,
    verifier_key,
)
from gardefou.evidence.keys import Signer
from gardefou.evidence.merkle import verify_inclusion

SEED = bytes(range(32))  # a fixed key, so the expected note is fixed too
ROOT = hashlib.sha256(b"a root").digest()
VECTORS = Path("/work/shared/spec/merkle-vectors")

# golang.org/x/mod/sumdb/note, package documentation: a verifier key and a note it signed
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_NOTE = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
    "\n"
    "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdn"
    "gotpRZb6KE6RyyBwJnAM=\n"
)


def _signer() -> tuple[Signer, bytes]:
    private = ed25519.Ed25519PrivateKey.from_private_bytes(SEED)
    return Signer(private), private.public_key().public_bytes_raw()


def _expected(name: str, size: int, root: bytes) -> str:
    """The checkpoint as the two specs define it, byte for byte."""
    private = ed25519.Ed25519PrivateKey.from_private_bytes(SEED)
    public = private.public_key().public_bytes_raw()
    body = f"{name}\n{size}\n{base64.b64encode(root).decode()}\n".encode()
    key_hash = hashlib.sha256(name.encode() + b"\x0a" + b"\x01" + public).digest()[:4]
    sig = base64.b64encode(key_hash + private.sign(body)).decode()
    return body.decode() + "\n" + "\u2014 " + name + " " + sig + "\n"


def test_signed_checkpoint_matches_the_spec_byte_for_byte() -> None:
    signer, public = _signer()
    note = sign_checkpoint(signer, "example.org/evidence", 42, ROOT)
    assert note == _expected("example.org/evidence", 42, ROOT)
    cp = open_checkpoint(note, public, "example.org/evidence")
    assert (cp.origin, cp.tree_size, cp.root, cp.extensions) == (
        "example.org/evidence",
        42,
        ROOT,
        (),
    )


def test_verifier_key_format() -> None:
    _, public = _signer()
    key_hash = hashlib.sha256(b"example.org/evidence\n\x01" + public).digest()[:4]
    typed_key = base64.b64encode(b"\x01" + public).decode()
    want = f"example.org/evidence+{key_hash.hex()}+{typed_key}"
    assert verifier_key("example.org/evidence", public) == want
    assert parse_verifier_key(want) == ("example.org/evidence", public)


def test_published_signed_note_vector() -> None:
    """The Go reference's example: its key hash and its signature must check here too."""
    name, public = parse_verifier_key(GO_VKEY)
    assert name == "PeterNeumann" and len(public) == 32
    # not a checkpoint body (two lines of prose), so it is refused *after* the signature checks
    with pytest.raises(ProofError, match="needs origin, size and root"):
        open_with_verifier_key(GO_NOTE, GO_VKEY)
    # the same note with one changed letter fails on the signature
    with pytest.raises(ProofError, match="invalid"):
        open_with_verifier_key(GO_NOTE.replace("answer", "Answer"), GO_VKEY)


def test_checkpoint_of_the_transparency_dev_vectors_proves_inclusion() -> None:
    """A witness-checkable checkpoint carries the root that inclusion proofs are checked against."""
    case = json.loads((VECTORS / "inclusion" / "1" / "happy-path.json").read_text())
    signer, public = _signer()
    root = base64.b64decode(case["root"])
    cp = open_checkpoint(sign_checkpoint(signer, "log", case["treeSize"], root), public, "log")
    proof = [base64.b64decode(p) for p in case["proof"]]
    verify_inclusion(case["leafIdx"], cp.tree_size, base64.b64decode(case["leafHash"]), proof,
                     cp.root)  # fmt: skip


def test_witness_cosignatures_are_ignored_and_extensions_kept() -> None:
    signer, public = _signer()
    witness = Signer.generate()
    body = f"log\n7\n{base64.b64encode(ROOT).decode()}\next one\n"
    ours = sign_checkpoint(signer, "log", 7, ROOT).split("\n\n")[1]
    ours_sig = base64.b64decode(ours.split(" ")[2])
    # re-sign the body with the extension line (the log's own signature covers the whole body)
    ours_line = "\u2014 log " + base64.b64encode(ours_sig[:4] + signer.sign(body.encode())).decode()
    wit_hash = hashlib.sha256(b"witness.example\n\x01" + witness.verifier.public_raw).digest()[:4]
    wit_line = (
        "\u2014 witness.example "
        + base64.b64encode(wit_hash + witness.sign(body.encode())).decode()
    )
    note = f"{body}\n{wit_line}\n{ours_line}\n"
    cp = open_checkpoint(note, public, "log")
    assert cp.tree_size == 7 and cp.extensions == ("ext one",)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda n: n.replace("\n42\n", "\n43\n"), "invalid"),
        (lambda n: n.replace("\u2014 ", "-- "), "not a signature line"),
        (lambda n: n.replace("\n\n", "\n"), "blank line"),
        (lambda n: n[:-1], "blank line"),
        (lambda n: n.replace("example.org/evidence ", "other.example "), "no signature"),
        (lambda n: n.replace("\n42\n", "\n\x0042\n"), "control"),
    ],
)
def test_altered_checkpoints_are_refused(mutate, message: str) -> None:
    signer, public = _signer()
    note = sign_checkpoint(signer, "example.org/evidence", 42, ROOT)
    with pytest.raises(ProofError, match=message):
        open_checkpoint(mutate(note), public, "example.org/evidence")


def test_another_logs_checkpoint_by_the_same_key_is_refused() -> None:
    signer, public = _signer()
    note = sign_checkpoint(signer, "example.org/evidence", 1, ROOT)
    with pytest.raises(ProofError, match="of log"):
        open_checkpoint(note, public, "example.org/evidence", origin="example.org/other")


@pytest.mark.parametrize("bad", ["", "my platform", "a+b", "tab\there"])
def test_key_names_the_specs_forbid_are_refused_with_the_fix(bad: str) -> None:
    signer, _ = _signer()
    with pytest.raises(EvidenceError, match="--origin"):
        sign_checkpoint(signer, bad, 1, ROOT)


@pytest.fixture
def store(tmp_db, tmp_path: Path) -> EvidenceStore:
    store = EvidenceStore(tmp_db, tmp_path / "blobs", EvidenceKeys.generate(), origin="ex.org/ev")
    for i in range(3):
        store.preserve(f"benign {i}".encode(), "media", actor="mod-1", reason="case c-1")
    return store


def test_bundle_carries_a_c2sp_checkpoint_and_accepts_one_saved_earlier(
    store: EvidenceStore, tmp_path: Path
) -> None:
    saved = store.log.checkpoint()
    saved_c2sp = sign_checkpoint(store.keys.signer, "ex.org/ev", saved.tree_size, saved.root)
    store.preserve(b"later benign", "media", actor="mod-1", reason="case c-2")
    export_bundle(store, tmp_path / "b", actor="legal", reason="r")
    note = (tmp_path / "b" / "checkpoint.c2sp").read_text()
    cp = open_checkpoint(note, store.keys.signer.verifier.public_raw, "ex.org/ev")
    assert cp.root == store.log.tree.root(cp.tree_size)
    report = verify_bundle(tmp_path / "b", published=[saved_c2sp])
    assert report.ok and report.authenticated_by == "published checkpoint", report.problems
    # a C2SP checkpoint of a rewritten history (other root, same size) is caught
    forged = sign_checkpoint(store.keys.signer, "ex.org/ev", saved.tree_size, ROOT)
    report = verify_bundle(tmp_path / "b", published=[forged])
    assert not report.ok and any("different root" in p for p in report.problems)
    # the bundle's checkpoint.c2sp is signed: altering it is seen
    (tmp_path / "b" / "checkpoint.c2sp").write_text(note.replace("ex.org/ev\n", "ex.org/xx\n"))
    assert not verify_bundle(tmp_path / "b").intact


def test_cli_exports_and_verifies_c2sp_checkpoints(tmp_path: Path) -> None:
    def run(*args: str, code: int = 0, stdin: str | None = None) -> str:
        db = ["--db", str(tmp_path / "g.db")]
        argv = [*db, "evidence", "--origin", "ex.org/ev", *args]
        result = CliRunner().invoke(cli, argv, input=stdin)
        assert result.exit_code == code, (result.output, result.exception)
        return result.output

    run("keygen")
    (tmp_path / "a.bin").write_bytes(b"benign")
    run("append", str(tmp_path / "a.bin"), "--actor", "mod-1", "--reason", "case 1")
    note = run("checkpoint", "--format", "c2sp")
    assert note.startswith("ex.org/ev\n1\n") and "\n\n\u2014 ex.org/ev " in note
    vkey = run("vkey").strip()
    assert vkey.startswith("ex.org/ev+")
    (tmp_path / "cp.txt").write_text(note)
    out = json.loads(run("verify-checkpoint", str(tmp_path / "cp.txt"), "--vkey", vkey))
    assert out["ok"] and out["tree_size"] == 1
    assert json.loads(run("verify-checkpoint", "-", "--vkey", vkey, stdin=note))["ok"]
    pem = str(tmp_path / "evidence-keys" / "signing.pub.pem")
    assert json.loads(run("verify-checkpoint", str(tmp_path / "cp.txt"), "--key", pem))["ok"]
    (tmp_path / "cp.txt").write_text(note.replace("\n1\n", "\n2\n"))
    out = json.loads(run("verify-checkpoint", str(tmp_path / "cp.txt"), "--vkey", vkey, code=3))
    assert not out["ok"] and "invalid" in out["problem"]


def test_witness_request_carries_a_consistency_proof_from_the_old_size(tmp_path: Path) -> None:
    """The tlog-witness add-checkpoint body, parsed here as a witness would and its proof
    checked against the roots the log had at both sizes."""
    from gardefou.evidence.merkle import verify_consistency

    db = ["--db", str(tmp_path / "g.db"), "evidence", "--origin", "ex.org/ev"]
    runner = CliRunner()
    assert runner.invoke(cli, [*db, "keygen"]).exit_code == 0
    roots = {}
    for i in range(5):
        (tmp_path / f"{i}.bin").write_bytes(f"benign {i}".encode())
        args = ["append", str(tmp_path / f"{i}.bin"), "--actor", "m", "--reason", "r"]
        assert runner.invoke(cli, [*db, *args]).exit_code == 0
        note = runner.invoke(cli, [*db, "checkpoint", "--format", "c2sp"]).stdout
        roots[int(note.split("\n")[1])] = base64.b64decode(note.split("\n")[2])
    vkey = runner.invoke(cli, [*db, "vkey"]).stdout.strip()
    body = runner.invoke(cli, [*db, "witness-request", "--old-size", "3"]).stdout
    head, note = body.split("\n\n", 1)
    old, *proof_lines = head.split("\n")
    assert old == "old 3" and proof_lines
    cp = open_with_verifier_key(note, vkey)
    assert cp.tree_size == 5 and cp.root == roots[5]
    proof = [base64.b64decode(line, validate=True) for line in proof_lines]
    verify_consistency(3, 5, proof, roots[3], roots[5])
    first = runner.invoke(cli, [*db, "witness-request", "--old-size", "0"]).stdout
    assert first.startswith("old 0\n\n") and open_with_verifier_key(first[7:], vkey).tree_size == 5
    beyond = runner.invoke(cli, [*db, "witness-request", "--old-size", "9"])
    assert beyond.exit_code != 0 and "beyond the log" in beyond.output
