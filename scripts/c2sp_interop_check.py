"""Checks gardefou's C2SP checkpoints and tlog-witness requests with an independent
implementation: aics-tlog and aics-witness (PyPI, Python >= 3.12), run by c2sp_interop.sh in
their own virtual environment (they are not gardefou dependencies).

In FOLDER (written by c2sp_interop.sh): vkey.txt, cp.c2sp, req0.txt (old 0), req1.txt (old 3).
Writes cosigned.c2sp (the log's checkpoint with the witness's cosignature) and aics.c2sp +
aics.vkey (a checkpoint signed by aics-tlog) for gardefou to verify in turn.
"""

import sys
from pathlib import Path

from aics_tlog.checkpoint import (
    Checkpoint,
    checkpoint_from_note,
    sign_checkpoint,
    verify_checkpoint,
)
from aics_tlog.note import format_vkey, parse_note, parse_vkey, vkey_from_ed25519
from aics_witness.config import LogConfig
from aics_witness.service import Witness, WitnessError
from aics_witness.store import WitnessStore
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

D = Path(sys.argv[1])
vkey = parse_vkey((D / "vkey.txt").read_text().strip())
result = verify_checkpoint(parse_note((D / "cp.c2sp").read_text()), vkey, [], quorum=0)
assert result.ok, result
cp, _ = checkpoint_from_note((D / "cp.c2sp").read_text())
print(f"aics-tlog verifies the checkpoint: {cp.origin} size {cp.size}")


def witness(name: str) -> Witness:
    logs = [LogConfig(origin=cp.origin, vkeys=(vkey,))]
    store = WitnessStore(D / f"{name}.db", create=True)
    return Witness(f"witness.example/{name}", Ed25519PrivateKey.generate(), store, logs)


w1 = witness("w1")
w1.add_checkpoint((D / "req0.txt").read_bytes())
cosig = w1.add_checkpoint((D / "req1.txt").read_bytes()).decode()
print("aics-witness cosigns: old 0, then old 3 with its consistency proof")
note = (D / "req1.txt").read_text().split("\n\n", 1)[1]
(D / "cosigned.c2sp").write_text(note + cosig)

lines = (D / "req1.txt").read_text().split("\n")
lines[1] = lines[2]  # the first proof hash replaced: the witness must refuse
w2 = witness("w2")
w2.add_checkpoint((D / "req0.txt").read_bytes())
try:
    w2.add_checkpoint("\n".join(lines).encode())
    sys.exit("FAIL: a tampered consistency proof was cosigned")
except WitnessError as exc:
    print(f"aics-witness refuses a tampered proof: {exc}")

key = Ed25519PrivateKey.generate()
head = Checkpoint("other.example/log", 5, bytes(range(32)))
signed = sign_checkpoint(head, key, "other.example/log")
(D / "aics.c2sp").write_bytes(signed.to_bytes())
(D / "aics.vkey").write_text(format_vkey(vkey_from_ed25519("other.example/log", key.public_key())))
