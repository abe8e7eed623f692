"""Self-contained evidence bundles and their offline verifier.

``export_bundle`` writes a folder that anyone can check with ``gardefou evidence verify OUT``
(or with ~100 lines of code in any language: SHA-256, Ed25519 and RFC 9162), without the
database and without trusting the platform beyond its published public key:

    manifest.json      format, origin, tree size, root, selection, SHA-256 of every other file
    manifest.sig       Ed25519 signature of manifest.json (base64)
    checkpoint.txt     signed checkpoint (tree size, root, time) the entries are proven against
    checkpoints.jsonl  earlier signed checkpoints, each with a consistency proof to checkpoint.txt
    entries.jsonl      the log entries, one canonical JSON body per line (the exact leaf data)
    proofs.jsonl       for a partial export (one legal hold): an inclusion proof per entry
    blobs/<sha256>     the preserved content, decrypted (omit with --no-blobs)
    public_key.pem     the signing key (pin the one you trust with ``verify --key``)
    VERIFY.txt         these instructions

A changed, removed, added or reordered entry, a truncated file, an extra or missing file, or a
bad signature or proof makes ``verify_bundle`` report the problem (the CLI then exits 3).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gardefou import clock
from gardefou.errors import EvidenceError, GardefouError
from gardefou.evidence.c2sp import C2spCheckpoint, is_c2sp, open_checkpoint, sign_checkpoint
from gardefou.evidence.keys import Verifier
from gardefou.evidence.log import Checkpoint, canonical_json
from gardefou.evidence.merkle import MerkleTree, leaf_hash, verify_consistency, verify_inclusion
from gardefou.evidence.store import EvidenceStore

FORMAT = "gardefou-evidence-bundle/1"
_UNSIGNED = {"manifest.json", "manifest.sig"}

VERIFY_TEXT = """How to verify this evidence bundle
==================================
With gardefou (no database needed):   gardefou evidence verify THIS_FOLDER --key KEY.pem
(KEY.pem = the platform's published evidence key; without --key the bundle's own key is used,
which proves integrity but not origin.)

By hand: check manifest.sig (Ed25519 over manifest.json), then each file's SHA-256 against
manifest.json; checkpoint.txt's signature over its first four lines; each line of entries.jsonl
is a leaf: SHA-256(0x00 || line). For a full export the RFC 9162 tree over all lines has the root
in checkpoint.txt; for a partial export each proofs.jsonl line is an inclusion proof of the entry
with that "seq". checkpoints.jsonl holds earlier checkpoints with consistency proofs.
checkpoint.c2sp is the same tree head as a C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint)
for standard transparency-log witnesses.
"""


def _sha_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _b64(items: list[bytes]) -> list[str]:
    return [base64.b64encode(p).decode() for p in items]


def export_bundle(
    store: EvidenceStore,
    out: str | os.PathLike[str],
    actor: str,
    reason: str,
    hold: str | None = None,
    include_blobs: bool = True,
) -> dict[str, Any]:
    """Write a bundle of the whole log, or of what one legal hold covers."""
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise EvidenceError(f"{out} exists and is not empty; export into a new folder")
    log = store.log
    log.refresh()
    if hold is not None:
        blobs = store.held_blobs(hold)
        shas = {b["sha256"] for b in blobs}
        selection = f"hold:{hold}"
    else:
        blobs = [b for b in store.db.query("SELECT * FROM evidence_blobs ORDER BY entry_seq")]
        shas = None
        selection = "all"
    store.log.append("custody", {"action": "exported", "actor": actor, "reason": reason,
                                 "selection": selection,
                                 "blobs": len(blobs) if include_blobs else 0})  # fmt: skip
    cp = log.checkpoint()
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "blobs").mkdir(parents=True)
    seqs: list[int] = []
    with open(tmp / "entries.jsonl", "w", encoding="utf-8") as ef:
        for row in log.entries(0, cp.tree_size):
            if shas is not None:
                body = json.loads(row["body"])
                wanted = (
                    row["subject"] in shas
                    or body.get("hold") == hold
                    or (body.get("selection") == selection)
                )
                if not wanted:
                    continue
            ef.write(row["body"] + "\n")
            seqs.append(row["seq"])
    if shas is not None:
        with open(tmp / "proofs.jsonl", "w", encoding="utf-8") as pf:
            for s in seqs:
                proof = log.tree.inclusion_proof(s, cp.tree_size)
                pf.write(canonical_json({"seq": s, "proof": _b64(proof)}) + "\n")
    with open(tmp / "checkpoints.jsonl", "w", encoding="utf-8") as cf:
        for old in log.checkpoints():
            if 0 < old.tree_size < cp.tree_size:
                proof = log.tree.consistency_proof(old.tree_size, cp.tree_size)
                cf.write(canonical_json({"checkpoint": old.serialize(),
                                         "consistency": _b64(proof)}) + "\n")  # fmt: skip
    (tmp / "checkpoint.txt").write_text(cp.serialize(), encoding="utf-8")
    try:  # the same tree head for standard witnesses (an origin with spaces cannot name a key)
        c2sp_note = sign_checkpoint(store.keys.signer, cp.origin, cp.tree_size, cp.root)
        (tmp / "checkpoint.c2sp").write_text(c2sp_note, encoding="utf-8")
    except EvidenceError:
        pass
    (tmp / "public_key.pem").write_bytes(store.keys.signer.verifier.pem())
    (tmp / "VERIFY.txt").write_text(VERIFY_TEXT, encoding="utf-8")
    written = 0
    if include_blobs:
        for b in blobs:
            if b["deleted_at"] is None and store.blobs.exists(b["sha256"]):
                (tmp / "blobs" / b["sha256"]).write_bytes(store.blobs.get(b["sha256"]))
                written += 1
    files = {p.relative_to(tmp).as_posix(): _sha_file(p)
             for p in sorted(tmp.rglob("*")) if p.is_file()}  # fmt: skip
    manifest = {"format": FORMAT, "origin": cp.origin, "created_at": clock.now_z(),
                "tree_size": cp.tree_size, "root": cp.root.hex(), "key_id": cp.key_id,
                "selection": selection, "entry_count": len(seqs),
                "entry_seqs": seqs if shas is not None else None, "files": files}  # fmt: skip
    manifest_bytes = (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode()
    (tmp / "manifest.json").write_bytes(manifest_bytes)
    sig = store.keys.signer.sign(manifest_bytes)
    (tmp / "manifest.sig").write_text(base64.b64encode(sig).decode() + "\n")
    if out.exists():
        out.rmdir()
    tmp.rename(out)
    return {"out": str(out), "selection": selection, "entries": len(seqs), "blobs": written,
            "tree_size": cp.tree_size, "root": cp.root.hex(), "key_id": cp.key_id}  # fmt: skip


NOT_AUTHENTICATED = (
    "authenticity NOT checked: the bundle was verified against the key it carries, which "
    "anyone who altered it could have replaced; pin the platform's published key (--key) or "
    "give a checkpoint you saved earlier (--checkpoint)"
)


@dataclass
class BundleReport:
    """``intact``: the bundle is self-consistent (signatures, Merkle root, files, proofs).
    ``authenticated``: it was signed by a key you trust (a pinned key, or the key that signed
    a checkpoint you saved earlier). ``ok`` needs both: a bundle re-signed with a key carried
    inside it is intact but not authenticated."""

    problems: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    #: how the signing key was tied to the platform: "pinned key", "published checkpoint", None
    authenticated_by: str | None = None

    @property
    def intact(self) -> bool:
        return not self.problems

    @property
    def authenticated(self) -> bool:
        return self.authenticated_by is not None and self.intact

    @property
    def ok(self) -> bool:
        return self.intact and self.authenticated

    def to_dict(self) -> dict[str, Any]:
        authenticity = (
            f"checked ({self.authenticated_by})" if self.authenticated else NOT_AUTHENTICATED
        )
        if not self.intact:
            authenticity = "not established: the bundle is not intact"
        return {
            "ok": self.ok,
            "intact": self.intact,
            "authenticated": self.authenticated,
            "authenticity": authenticity,
            "problems": self.problems,
            **self.facts,
        }


def verify_bundle(
    path: str | os.PathLike[str],
    trusted_key: bytes | None = None,
    published: list[str] | None = None,
) -> BundleReport:
    """Check a bundle offline. Never raises on a bad bundle: every problem is listed.

    Without ``trusted_key`` or ``published`` the bundle can only be checked against the key it
    carries: the report is then ``intact`` at best, never ``ok`` (see BundleReport).

    ``published``: checkpoints (signed-note texts) you saved earlier, e.g. from the platform's
    transparency page; each must be one the bundle proves its tree consistent with, so a log
    rewritten after you saved it is caught even when it is re-signed.
    """
    report = BundleReport()
    try:
        _verify(Path(path), trusted_key, report, published or [])
    except (GardefouError, ValueError, KeyError, TypeError, OSError) as exc:
        report.problems.append(f"{type(exc).__name__}: {exc}")
    return report


def _published(text: str, verifier: Verifier, origin: str) -> Checkpoint | C2spCheckpoint:
    """A checkpoint saved earlier: gardefou's own note, or the C2SP one a witness cosigned."""
    if is_c2sp(text):
        return open_checkpoint(text, verifier.public_raw, origin)
    pub = Checkpoint.parse(text)
    pub.verify(verifier)
    return pub


def _verify(
    root: Path, trusted_key: bytes | None, report: BundleReport, published: list[str]
) -> None:
    p = report.problems
    if not root.is_dir():
        p.append(f"{root} is not a folder")
        return
    manifest_bytes = (root / "manifest.json").read_bytes()
    bundle_key = Verifier.from_pem((root / "public_key.pem").read_bytes())
    verifier = Verifier.from_pem(trusted_key) if trusted_key else bundle_key
    report.facts["key_id"] = verifier.key_id
    report.facts["key_pinned"] = trusted_key is not None
    if bundle_key.public_raw != verifier.public_raw:
        p.append(f"bundle key {bundle_key.key_id} is not the trusted key {verifier.key_id}")
    sig_text = (root / "manifest.sig").read_bytes()
    sig = base64.b64decode(sig_text.rstrip(b"\n"), validate=True)
    if sig_text != base64.b64encode(sig) + b"\n":  # byte-exact: no change goes unnoticed
        p.append("manifest.sig: not in its canonical form (altered)")
    if not verifier.verify(sig, manifest_bytes):
        p.append("manifest.sig: signature does not match manifest.json")
    manifest = json.loads(manifest_bytes)
    if manifest.get("format") != FORMAT:
        p.append(f"manifest.json: unknown format {manifest.get('format')!r}")
        return
    files: dict[str, str] = manifest["files"]
    present = {q.relative_to(root).as_posix() for q in root.rglob("*") if q.is_file()}
    for name in sorted(present - set(files) - _UNSIGNED):
        p.append(f"{name}: file not listed in the signed manifest (added)")
    for name, want in sorted(files.items()):
        if name not in present:
            p.append(f"{name}: listed in the manifest but missing (removed)")
        elif _sha_file(root / name) != want:
            p.append(f"{name}: content changed (SHA-256 differs from the manifest)")

    cp = Checkpoint.parse((root / "checkpoint.txt").read_text(encoding="utf-8"))
    try:
        cp.verify(verifier)
    except GardefouError as exc:
        p.append(f"checkpoint.txt: {exc}")
    if cp.tree_size != manifest["tree_size"] or cp.root.hex() != manifest["root"]:
        p.append("checkpoint.txt: tree size or root differs from the manifest")
    if (root / "checkpoint.c2sp").is_file():
        try:
            c2 = open_checkpoint((root / "checkpoint.c2sp").read_text(encoding="utf-8"),
                                 verifier.public_raw, cp.origin)  # fmt: skip
            if (c2.tree_size, c2.root) != (cp.tree_size, cp.root):
                p.append("checkpoint.c2sp: tree size or root differs from checkpoint.txt")
        except GardefouError as exc:
            p.append(f"checkpoint.c2sp: {exc}")
    report.facts.update(tree_size=cp.tree_size, root=cp.root.hex(), origin=cp.origin,
                        checkpoint_time=cp.timestamp, selection=manifest["selection"])  # fmt: skip

    lines = (root / "entries.jsonl").read_bytes().split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    else:
        p.append("entries.jsonl: last line is not newline-terminated (truncated?)")
    partial = manifest["selection"] != "all"
    expected = manifest["entry_seqs"] if partial else list(range(cp.tree_size))
    if len(lines) != len(expected):
        p.append(f"entries.jsonl: {len(lines)} entries, the signed manifest says {len(expected)}")
    leaves: list[bytes] = []
    preserved: set[str] = set()
    for i, line in enumerate(lines):
        try:
            body = json.loads(line)
        except ValueError:
            p.append(f"entries.jsonl line {i + 1}: not valid JSON (altered)")
            body = {}
        if canonical_json(body).encode() != line and body:
            p.append(f"entries.jsonl line {i + 1}: not canonical JSON (altered)")
        want_seq = expected[i] if i < len(expected) else None
        if body.get("seq") != want_seq:
            p.append(f"entries.jsonl line {i + 1}: entry {body.get('seq')} where entry {want_seq} "
                     "belongs (removed, added or reordered)")  # fmt: skip
        if body.get("kind") == "preserve":
            preserved.add(str(body.get("sha256")))
        leaves.append(leaf_hash(line))
    if not partial:
        got = MerkleTree(leaves).root() if len(leaves) <= cp.tree_size else b""
        if got != cp.root:
            p.append("entries.jsonl: the Merkle root of the entries is not the signed root")
    else:
        proofs = (root / "proofs.jsonl").read_text(encoding="utf-8").splitlines()
        if len(proofs) != len(lines):
            p.append(f"proofs.jsonl: {len(proofs)} proofs for {len(lines)} entries")
        for i, (leaf, proof_line) in enumerate(zip(leaves, proofs, strict=False)):
            pr = json.loads(proof_line)
            seq = expected[i] if i < len(expected) else -1
            if pr["seq"] != seq:
                p.append(f"proofs.jsonl line {i + 1}: proof for entry {pr['seq']}, not {seq}")
                continue
            try:
                proof = [base64.b64decode(x) for x in pr["proof"]]
                verify_inclusion(seq, cp.tree_size, leaf, proof, cp.root)
            except GardefouError as exc:
                p.append(f"entries.jsonl line {i + 1} (entry {seq}): {exc}")
    n_old = 0
    proven = {cp.tree_size: cp.root}
    old_lines = (root / "checkpoints.jsonl").read_text(encoding="utf-8").splitlines()
    for i, cline in enumerate(old_lines):
        rec = json.loads(cline)
        try:
            old = Checkpoint.parse(rec["checkpoint"])
            old.verify(verifier)
            verify_consistency(
                old.tree_size,
                cp.tree_size,
                [base64.b64decode(x) for x in rec["consistency"]],
                old.root,
                cp.root,
            )
        except GardefouError as exc:  # fmt: skip
            p.append(f"checkpoints.jsonl line {i + 1}: {exc}")
        else:
            proven[old.tree_size] = old.root
        n_old += 1
    published_ok = 0
    for text in published:
        try:
            pub = _published(text, verifier, cp.origin)
        except GardefouError as exc:
            p.append(f"published checkpoint: {exc}")
            continue
        published_ok += 1
        if pub.tree_size not in proven:
            p.append(f"published checkpoint at size {pub.tree_size}: the bundle proves no "
                     f"consistency with it (its tree has {cp.tree_size} entries)")  # fmt: skip
        elif proven[pub.tree_size] != pub.root:
            p.append(f"published checkpoint at size {pub.tree_size}: a different root was signed "
                     "for the same size (the log was rewritten)")  # fmt: skip
    report.facts["published_checkpoints_checked"] = len(published)
    # a checkpoint saved from the platform earlier verifies only under the platform's own key
    if trusted_key is not None:
        report.authenticated_by = "pinned key"
    elif published and published_ok == len(published):
        report.authenticated_by = "published checkpoint"
    for name in sorted(present):
        if name.startswith("blobs/") and name.removeprefix("blobs/") not in preserved:
            p.append(f"{name}: no 'preserve' entry in this bundle names this content")
        elif name.startswith("blobs/") and _sha_file(root / name) != name.removeprefix("blobs/"):
            p.append(f"{name}: content does not match its SHA-256 name")
    report.facts.update(entries=len(lines), earlier_checkpoints=n_old,
                        blobs=sum(1 for n in present if n.startswith("blobs/")))  # fmt: skip
