"""Review at flood scale: how many review decisions does a flood of copies need?

Replays a flood-like stream through the pipeline (the default platform decider, SQLite, cases
recorded as every runner records them): ``--photos`` parent photos posted by their subjects, then
``--edits`` edits of them, half as replies to the parent post and half reposted on their own (so
they group only by their near-identical PDQ hash). Each edit is a small random perturbation of a
benign BSDS500 photo (../shared/data/photos; crop, scale, brightness, JPEG quality).

Sexualization is simulated: the nudity, face and identity signals are faked (explicit at low
confidence, another person's face), so that every copy goes to human review, the worst case for
the queue. PDQ hashes are real. No sexual imagery is made or used.

Then it reads the queue as clusters (``GET /v1/cases/clusters``' function), applies one decision
per cluster (``remove`` on the ``explicit_real_person_review`` ground), preserves the cases in
the evidence store, and checks that every copy was removed with its own DSA statement and its own
evidence entry.

    .venv/bin/python benchmarks/review_clusters.py                     # 2,000 edits of 20 photos
    .venv/bin/python benchmarks/review_clusters.py --edits 200 --photos 5
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import random
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageEnhance

ROOT = Path(__file__).resolve().parents[1]
PHOTOS = ROOT.parent / "shared" / "data" / "photos"


def photos(n: int) -> list[bytes]:
    files = sorted((PHOTOS / "val").glob("*.jpg")) + sorted((PHOTOS / "train").glob("*.jpg"))
    if len(files) < n:
        sys.exit(f"need {n} photos in {PHOTOS} (BSDS500); found {len(files)}")
    return [f.read_bytes() for f in files[:n]]


def perturb(data: bytes, rng: random.Random) -> bytes:
    img = Image.open(io.BytesIO(data)).convert("RGB")
    w, h = img.size
    dx, dy = int(w * rng.uniform(0, 0.03)), int(h * rng.uniform(0, 0.03))
    img = img.crop((dx, dy, w - int(w * rng.uniform(0, 0.03)), h - int(h * rng.uniform(0, 0.03))))
    scale = rng.uniform(0.85, 1.0)
    img = img.resize((max(8, int(img.width * scale)), max(8, int(img.height * scale))))
    img = ImageEnhance.Brightness(img).enhance(rng.uniform(0.92, 1.08))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=rng.randint(70, 95))
    return buf.getvalue()


class FakedSignals:
    """Real PDQ hashes; faked nudity, faces and identity (see the module docstring)."""

    def __init__(self) -> None:
        from gardefou import testing as T

        self.T = T
        self.parent: dict[str, int] = {}
        self.edit: dict[str, int] = {}
        self._pdq: dict[str, dict] = {}

    def __call__(self, media, names):
        from gardefou.scan import run_signals

        T = self.T
        real = [n for n in names if n in ("pdq", "pdq_dihedral")]
        if real and media.sha256 not in self._pdq:
            self._pdq[media.sha256] = {r.name: r for r in run_signals(media, real)}
        out = dict(self._pdq.get(media.sha256, {}))
        k = self.parent.get(media.sha256)
        if k is not None:
            fake = [T.nudity("none", 0.97), T.faces(1), T.identity([T.person_embedding(k)])]
        else:
            k = self.edit[media.sha256]
            other = T.person_embedding(1000 + k)
            fake = [T.nudity("explicit", 0.55), T.faces(1), T.identity([other])]
        out.update(T.signal_set(*fake))
        return {n: v for n, v in out.items() if n in names}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--photos", type=int, default=20)
    ap.add_argument("--edits", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=21)
    args = ap.parse_args()

    import base64

    from gardefou.cases.clusters import clusters, decide_cluster
    from gardefou.decide import PlatformDecider, services_for
    from gardefou.evidence import EvidenceKeys
    from gardefou.evidence.from_store import preserve_cases
    from gardefou.evidence.store import EvidenceStore
    from gardefou.pipeline.core import Envelope, Processor
    from gardefou.store import connect
    from gardefou.web.routers.cases import _deadline

    rng = random.Random(args.seed)
    originals = photos(args.photos)
    fake = FakedSignals()
    events = []
    for k, data in enumerate(originals):
        fake.parent[hashlib.sha256(data).hexdigest()] = k
        events.append({"id": f"p{k}", "kind": "post", "author": f"subject{k}", "text": "",
                       "media": [{"b64": base64.b64encode(data).decode()}]})  # fmt: skip
    for i in range(args.edits):
        k = i % args.photos
        data = perturb(originals[k], rng)
        fake.edit[hashlib.sha256(data).hexdigest()] = k
        ev = {"id": f"e{i}", "kind": "post", "author": f"acct{i % 300}", "text": "",
              "media": [{"b64": base64.b64encode(data).decode()}]}  # fmt: skip
        if i % 2 == 0:
            ev["reply_to"] = f"p{k}"  # half answer the parent; half are reposts on their own
        events.append(ev)

    tmp = Path(tempfile.mkdtemp(prefix="review-clusters-"))
    db = connect(tmp / "flood.db")
    decider = PlatformDecider(lambda d: services_for(d, extract=fake))
    processor = Processor(db, decider)
    t0 = time.perf_counter()
    for ev in events:
        out = processor.process(Envelope(json.dumps(ev).encode(), "bench"))
        assert out.status == "decided", out
    replay_s = time.perf_counter() - t0
    store = decider.services(db).cases()
    pending = store.queue("pending_review", limit=100_000)
    kept = db.query_one("SELECT COUNT(*) AS n FROM review_media")["n"]
    t0 = time.perf_counter()
    found = clusters(db, pending, _deadline)
    cluster_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for cl in found:
        decide_cluster(store, cl.case_ids, "mod-a", "remove", "flood copy",
                       rule_id="explicit_real_person_review")  # fmt: skip
    decide_s = time.perf_counter() - t0
    keys = EvidenceKeys.generate()
    evidence = EvidenceStore(db, tmp / "blobs", keys)
    preserved = preserve_cases(evidence, "bench", "cluster decisions")
    edits = db.query("SELECT id, status, action FROM cases WHERE event_id LIKE 'e%'")
    removed = sum(1 for c in edits if c["status"] == "actioned" and c["action"] == "remove")
    statements = db.query(
        "SELECT case_id, dsa_json FROM case_actions WHERE kind = 'review' ORDER BY case_id"
    )
    own = {r["case_id"] for r in statements if json.loads(r["dsa_json"]).get("decision_ground")}
    labelled = {
        json.loads(r["labels_json"]).get("case")
        for r in db.query("SELECT labels_json FROM evidence_blobs WHERE kind = 'decision'")
    }
    left = db.query_one("SELECT COUNT(*) AS n FROM review_media")["n"]
    sizes = sorted((c.count for c in found), reverse=True)
    result = {
        "photos": args.photos,
        "edits": args.edits,
        "cases_awaiting_review": len(pending),
        "review_images_kept": int(kept),
        "clusters": len(found),
        "cluster_sizes": sizes if len(sizes) <= 8 else [*sizes[:5], "...", *sizes[-3:]],
        "grouped_by": sorted({s for c in found for s in c.shared}),
        "review_decisions": len(found),
        "copies_removed": removed,
        "own_dsa_statements": len(own),
        "own_evidence_entries": len({str(c["id"]) for c in edits} & labelled),
        "evidence_versions_preserved": preserved,
        "review_images_left": int(left),
        "replay_s": round(replay_s, 1),
        "clustering_ms": round(cluster_s * 1000, 1),
        "decisions_s": round(decide_s, 1),
    }
    print(json.dumps(result, indent=2))
    ok = (
        len(found) <= 2 * args.photos
        and removed == args.edits
        and len(own) == args.edits
        and result["own_evidence_entries"] == args.edits
        and left == 0
    )
    db.close()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
