"""Evidence checkpoints in the C2SP formats, so standard transparency-log witnesses can check them.

gardefou's own checkpoint note (``gardefou-evidence/v1``, log.py) carries a time and a hex key
id that no witness understands. The same tree head is also published as a C2SP
``tlog-checkpoint`` (https://c2sp.org/tlog-checkpoint) inside a C2SP ``signed-note``
(https://c2sp.org/signed-note)::

    <origin>                       one line: the log's name (e.g. example.org/evidence)
    <tree size>                    decimal, no leading zeros
    <base64 root hash>             RFC 4648 standard base64 of the 32-byte RFC 9162 root
                                   (blank line)
    — <key name> <base64(key hash || Ed25519 signature)>

The signature covers the body up to and including its last newline. The key hash is the first
4 bytes of SHA-256(key name || 0x0A || 0x01 || public key), 0x01 naming Ed25519. A witness is
configured with the *verifier key* ``<name>+<hex key hash>+<base64(0x01 || public key)>``
(``gardefou evidence vkey``). The key name is the log's origin, as witnesses expect.
``gardefou evidence witness-request`` writes the body of a tlog-witness ``add-checkpoint``
request (https://c2sp.org/tlog-witness): the checkpoint with its consistency proof.

Ed25519 signatures are deterministic, so signing a past tree head again yields the same note:
nothing new is stored. The time is not in the body (witnesses add their own, timestamped,
cosignatures); the gardefou note keeps it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from gardefou.errors import EvidenceError, ProofError
from gardefou.evidence.keys import Signer, Verifier
from gardefou.evidence.log import NOTE_HEADER

ED25519 = b"\x01"  # the signed-note signature type of Ed25519
DASH = "\u2014 "  # every signature line starts with an em dash and a space
MAX_SIGNATURES = 100  # a note with more is refused (as the reference implementation does)


def check_key_name(name: str) -> str:
    """A key name (and the origin) must be non-empty, without spaces or '+'."""
    if not name or "+" in name or any(c.isspace() for c in name):
        raise EvidenceError(
            f"{name!r} cannot name a C2SP checkpoint key: use a non-empty name without spaces "
            "or '+', such as your domain (`--origin example.org/evidence`)"
        )
    return name


def key_hash(name: str, public_raw: bytes) -> bytes:
    """The 4-byte key hash that opens every signature by this (name, Ed25519 key)."""
    check_key_name(name)
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public_raw).digest()[:4]


def verifier_key(name: str, public_raw: bytes) -> str:
    """The one-line verifier key a witness or a monitor is configured with."""
    b64 = base64.b64encode(ED25519 + public_raw).decode()
    return f"{name}+{key_hash(name, public_raw).hex()}+{b64}"


def parse_verifier_key(vkey: str) -> tuple[str, bytes]:
    """``name+hexhash+base64key`` -> (name, raw Ed25519 public key), or ProofError."""
    try:
        name, hash_hex, key_b64 = vkey.strip().split("+", 2)  # base64 may hold "+"
        typed = base64.b64decode(key_b64, validate=True)
    except (ValueError, binascii.Error):
        raise ProofError(f"not a verifier key name+hash+key: {vkey[:80]!r}") from None
    if typed[:1] != ED25519 or len(typed) != 33:
        raise ProofError(f"verifier key {name!r} is not an Ed25519 key (type 0x01, 32 bytes)")
    public_raw = typed[1:]
    if key_hash(name, public_raw).hex() != hash_hex.lower():
        raise ProofError(f"verifier key {name!r}: its key hash {hash_hex} does not match its key")
    return name, public_raw


def checkpoint_body(origin: str, tree_size: int, root: bytes) -> str:
    check_key_name(origin)
    if tree_size < 0 or len(root) != 32:
        raise EvidenceError(f"no checkpoint of size {tree_size} with a {len(root)}-byte root")
    return f"{origin}\n{tree_size}\n{base64.b64encode(root).decode()}\n"


def sign_checkpoint(signer: Signer, origin: str, tree_size: int, root: bytes) -> str:
    """The signed note of one tree head, signed by ``signer`` under the key name ``origin``."""
    body = checkpoint_body(origin, tree_size, root)
    sig = key_hash(origin, signer.verifier.public_raw) + signer.sign(body.encode())
    return f"{body}\n{DASH}{origin} {base64.b64encode(sig).decode()}\n"


@dataclass(frozen=True)
class C2spCheckpoint:
    origin: str
    tree_size: int
    root: bytes
    extensions: tuple[str, ...] = ()


def _split_note(text: str) -> tuple[str, list[tuple[str, bytes]]]:
    if any(ord(c) < 0x20 and c != "\n" for c in text):
        raise ProofError("signed note: control characters other than newline")
    cut = text.rfind("\n\n")
    if cut < 0 or not text.endswith("\n"):
        raise ProofError(f"signed note: no blank line before the signatures: {text[:80]!r}")
    body, sig_block = text[: cut + 1], text[cut + 2 :]
    sigs = []
    for line in sig_block[:-1].split("\n"):
        if not line.startswith(DASH):
            raise ProofError(f"signed note: not a signature line: {line[:80]!r}")
        name, _, b64 = line[len(DASH) :].partition(" ")
        try:
            raw = base64.b64decode(b64, validate=True)
        except binascii.Error:
            raise ProofError(f"signed note: signature of {name!r} is not base64") from None
        if not name or " " in b64 or len(raw) < 5:
            raise ProofError(f"signed note: malformed signature line: {line[:80]!r}")
        sigs.append((name, raw))
    if len(sigs) > MAX_SIGNATURES:
        raise ProofError(f"signed note: {len(sigs)} signatures (at most {MAX_SIGNATURES})")
    return body, sigs


def _parse_body(body: str) -> C2spCheckpoint:
    lines = body[:-1].split("\n")
    if len(lines) < 3:
        raise ProofError(f"checkpoint body has {len(lines)} lines, needs origin, size and root")
    origin, size, root_b64, *ext = lines
    if not origin or not size.isdigit() or (size != "0" and size.startswith("0")):
        raise ProofError(f"checkpoint: bad origin {origin!r} or tree size {size!r}")
    try:
        root = base64.b64decode(root_b64, validate=True)
    except binascii.Error:
        raise ProofError(f"checkpoint: root hash {root_b64!r} is not base64") from None
    if len(root) != 32 or base64.b64encode(root).decode() != root_b64:
        raise ProofError(f"checkpoint: root hash {root_b64!r} is not 32 bytes of base64")
    if any(not line for line in ext):
        raise ProofError("checkpoint: empty extension line")
    return C2spCheckpoint(origin, int(size), root, tuple(ext))


def open_checkpoint(
    text: str, public_raw: bytes, name: str, origin: str | None = None
) -> C2spCheckpoint:
    """Verify a C2SP checkpoint signed by (``name``, ``public_raw``) and return its tree head.

    Signatures by other keys (a witness's cosignatures, say) are ignored, as the spec asks; the
    note is refused unless the given key signed it, and if that signature fails. The origin must
    be ``origin`` (default: the key name), so a checkpoint of another log signed by the same key
    is not taken for this one.
    """
    body, sigs = _split_note(text)
    want = key_hash(name, public_raw)
    ours = [raw for n, raw in sigs if n == name and raw[:4] == want]
    if not ours:
        raise ProofError(f"checkpoint has no signature by {name} (key hash {want.hex()})")
    verifier = Verifier(public_raw)
    for raw in ours:
        if not verifier.verify(raw[4:], body.encode()):
            raise ProofError(f"checkpoint signature by {name} is invalid")
    cp = _parse_body(body)
    expected = name if origin is None else origin
    if cp.origin != expected:
        raise ProofError(f"checkpoint is of log {cp.origin!r}, not {expected!r}")
    return cp


def open_with_verifier_key(text: str, vkey: str) -> C2spCheckpoint:
    name, public_raw = parse_verifier_key(vkey)
    return open_checkpoint(text, public_raw, name)


def add_checkpoint_body(old_size: int, proof: Sequence[bytes], note: str) -> str:
    """The body of a tlog-witness ``add-checkpoint`` request (https://c2sp.org/tlog-witness):
    ``old <size>``, the consistency proof from that size (one base64 hash a line), a blank
    line, then the checkpoint. POST it to ``<witness submission prefix>/add-checkpoint``."""
    if old_size < 0 or len(proof) > 63:
        raise EvidenceError(f"no witness request from size {old_size} with {len(proof)} hashes")
    lines = [f"old {old_size}", *(base64.b64encode(h).decode() for h in proof)]
    return "\n".join(lines) + "\n\n" + note


def is_c2sp(text: str) -> bool:
    """True unless the text is gardefou's own note (whose first line names its format)."""
    return not text.startswith(NOTE_HEADER + " ")
