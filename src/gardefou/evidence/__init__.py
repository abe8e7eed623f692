"""Evidence that holds up: encrypted content-addressed blobs, chain of custody, legal holds, and
an append-only RFC 9162 Merkle log with signed checkpoints, exportable and verifiable offline.

    store = open_store(db, blob_dir, keys_dir)        # or EvidenceStore(db, dir, EvidenceKeys)
    receipt = store.preserve(data, "media", actor="mod-17", reason="case c-41")
    store.place_hold(Hold("order-2026-01", "preservation order", "legal", account="acct-9f3"))
    export_bundle(store, "out/", actor="legal", reason="order 2026-01", hold="order-2026-01")
    verify_bundle("out/").ok                           # offline, no database
"""

from gardefou.evidence.blobs import BlobStore
from gardefou.evidence.bundle import BundleReport, export_bundle, verify_bundle
from gardefou.evidence.keys import EvidenceKeys, Signer, Verifier
from gardefou.evidence.log import Checkpoint, EvidenceLog, Receipt
from gardefou.evidence.merkle import MerkleTree, verify_consistency, verify_inclusion
from gardefou.evidence.store import EvidenceStore, Hold

__all__ = [
    "BlobStore",
    "BundleReport",
    "Checkpoint",
    "EvidenceKeys",
    "EvidenceLog",
    "EvidenceStore",
    "Hold",
    "MerkleTree",
    "Receipt",
    "Signer",
    "Verifier",
    "export_bundle",
    "verify_bundle",
    "verify_consistency",
    "verify_inclusion",
]
